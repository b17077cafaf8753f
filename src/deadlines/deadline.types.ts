/** What a deadline is for. Stored as text with a CHECK in `case_deadlines.kind`. */
export enum DeadlineKind {
  /** The concern triaged (the case out of concern_raised and triage) within TRIAGE_WORKING_DAYS of its receipt. */
  Triage = 'triage',
  /** A sensitive conversation recorded within FIRST_CONVERSATION_WORKING_DAYS of the decision to follow up. */
  FirstSensitiveConversation = 'first_sensitive_conversation',
  /** A review date of agreed improvement support. */
  SupportReview = 'support_review',
  /** The due date of an action agreed in a conversation. */
  AgreedAction = 'agreed_action',
  /** The pre-intervention meeting held (its outcome recorded) by its date. */
  PreInterventionMeeting = 'pre_intervention_meeting',
}

export enum DeadlineState {
  Open = 'open',
  Met = 'met',
  Cancelled = 'cancelled',
}

export enum ReminderKind {
  /** To the case team, DEADLINE_WARNING_WORKING_DAYS before the due date. */
  Approaching = 'approaching',
  /** To the case team the day after the due date, and escalated to every clearing-house manager. */
  Missed = 'missed',
}

/** Why a deadline was closed without being met by its own event: stable codes, never content. */
export enum DeadlineCloseReason {
  Met = 'met',
  CaseMovedOn = 'case_moved_on',
  SourceChanged = 'source_changed',
  SourceEnded = 'source_ended',
}

export const ALL_DEADLINE_KINDS = Object.values(DeadlineKind);
export const ALL_REMINDER_KINDS = Object.values(ReminderKind);

/** Bull queue of deadline reminders. Jobs carry a deadline id and a reminder kind only. */
export const DEADLINES_QUEUE = 'deadlines';

export enum DeadlineJob {
  Remind = 'remind',
  /** Repeatable: re-derive reminder jobs from PostgreSQL (Redis keeps nothing we need). */
  Sweep = 'sweep',
}

export interface RemindJobData {
  deadlineId: string;
  reminder: ReminderKind;
}

/** The one job id of a reminder: adding it twice while it waits adds it once. */
export function reminderJobId(deadlineId: string, reminder: ReminderKind): string {
  return `remind:${deadlineId}:${reminder}`;
}
