import { CaseState } from '../workflow/case-state';
import { DeadlineKind, DeadlineState, ReminderKind } from './deadline.types';
import { addCalendarDays, IsoDate, londonStartOf } from './working-calendar';

/**
 * The stages in which each kind of deadline is still due. A case that has left them has moved
 * on: its reminder is skipped and the deadline closed (`outcomeOnLeavingStage`).
 */
export const STAGES_OF: Readonly<Record<DeadlineKind, readonly CaseState[]>> = {
  // Triage is done when the case is monitored, followed up, sent to a pre-intervention meeting or closed.
  [DeadlineKind.Triage]: [CaseState.ConcernRaised, CaseState.Triage],
  [DeadlineKind.FirstSensitiveConversation]: [CaseState.SensitiveConversation],
  // Support is agreed in the RIEP discussion and delivered in improvement support.
  [DeadlineKind.SupportReview]: [CaseState.RiepDiscussion, CaseState.ImprovementSupport],
  // An action agreed in a conversation stands until the case closes.
  [DeadlineKind.AgreedAction]: [
    CaseState.ConcernRaised, CaseState.Triage, CaseState.Monitoring, CaseState.SensitiveConversation,
    CaseState.RiepDiscussion, CaseState.ImprovementSupport, CaseState.PreIntervention,
  ],
  [DeadlineKind.PreInterventionMeeting]: [CaseState.PreIntervention],
};

export function stillInStage(kind: DeadlineKind, state: CaseState): boolean {
  return STAGES_OF[kind].includes(state);
}

/**
 * What happens to an open deadline when its case leaves the stage: leaving triage is triage
 * done (met); anything else left undone is cancelled, as it no longer applies.
 */
export function outcomeOnLeavingStage(kind: DeadlineKind): DeadlineState.Met | DeadlineState.Cancelled {
  return kind === DeadlineKind.Triage ? DeadlineState.Met : DeadlineState.Cancelled;
}

export interface DeadlineDates {
  dueOn: IsoDate;
  warnOn: IsoDate;
}

/** When a reminder becomes due: the warning at the start of its day; "missed" once the due day is over. */
export function reminderMoment(d: DeadlineDates, reminder: ReminderKind): Date {
  return reminder === ReminderKind.Approaching ? londonStartOf(d.warnOn) : londonStartOf(addCalendarDays(d.dueOn, 1));
}

export enum ReminderDecision {
  Send = 'send',
  /** Its moment has not come (a job that ran early; the sweep queues it again in time). */
  NotYet = 'not_yet',
  /** An approaching-warning whose deadline has already passed: the "missed" reminder says it instead. */
  Superseded = 'superseded',
  /** The case left the deadline's stage: close the deadline, send nothing. */
  CaseMovedOn = 'case_moved_on',
  /** The deadline is met or cancelled already. */
  Closed = 'closed',
}

/** Whether a reminder should go now: a pure function of the deadline, the case's state and the time. */
export function decideReminder(
  d: DeadlineDates & { kind: DeadlineKind; state: DeadlineState },
  caseState: CaseState,
  reminder: ReminderKind,
  now: Date,
): ReminderDecision {
  if (d.state !== DeadlineState.Open) return ReminderDecision.Closed;
  if (!stillInStage(d.kind, caseState)) return ReminderDecision.CaseMovedOn;
  if (now < reminderMoment(d, reminder)) return ReminderDecision.NotYet;
  if (reminder === ReminderKind.Approaching && now >= reminderMoment(d, ReminderKind.Missed)) return ReminderDecision.Superseded;
  return ReminderDecision.Send;
}

/** What the text of a deadline calls it: what is due, never what the case is about. */
export const WHAT_IS_DUE: Readonly<Record<DeadlineKind, string>> = {
  [DeadlineKind.Triage]: 'triage of the concern',
  [DeadlineKind.FirstSensitiveConversation]: 'the first sensitive conversation',
  [DeadlineKind.SupportReview]: 'a review of the improvement support',
  [DeadlineKind.AgreedAction]: 'an action agreed in a conversation',
  [DeadlineKind.PreInterventionMeeting]: 'the pre-intervention meeting',
};

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "Monday 7 December 2026" (spelt out here: ICU versions differ on the comma). */
export function longDate(date: IsoDate): string {
  const d = new Date(`${date}T00:00:00Z`);
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/**
 * The notification's text. Only the case reference, the kind of deadline and its date: the
 * text is shown in the inbox and leaves the service by e-mail, outside its access controls.
 */
export function reminderText(reference: string, kind: DeadlineKind, dueOn: IsoDate, reminder: ReminderKind, escalation: boolean): { title: string; body: string } {
  const what = WHAT_IS_DUE[kind];
  const when = longDate(dueOn);
  if (reminder === ReminderKind.Approaching) {
    return { title: `${reference}: ${what} is due on ${when}`, body: `On case ${reference}, ${what} is due on ${when}.` };
  }
  if (escalation) {
    return {
      title: `Escalation: ${reference} missed a deadline (${what}, due ${when})`,
      body: `On case ${reference}, ${what} was due on ${when} and is not recorded as done. This is escalated to clearing-house managers.`,
    };
  }
  return { title: `${reference}: ${what} was due on ${when} and is overdue`, body: `On case ${reference}, ${what} was due on ${when} and is not recorded as done.` };
}
