import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { CaseState } from '../workflow/case-state';
import { Clock } from './clock';
import { outcomeOnLeavingStage, STAGES_OF } from './deadline-rules';
import { DeadlineCloseReason, DeadlineKind, DeadlineState } from './deadline.types';
import { IsoDate, londonDateOf, WorkingCalendar } from './working-calendar';

/** Support statuses under which its review dates are deadlines (agreed, being delivered). */
const SUPPORT_ACTIVE = ['agreed', 'in_progress'];

interface NewDeadline {
  caseId: string;
  kind: DeadlineKind;
  sourceId: string | null;
  sourceItem?: number;
  dueOn: IsoDate;
}

/**
 * Deadlines are created, met and cancelled by the commands that cause them, inside their
 * transaction (every method takes that transaction's EntityManager): a deadline exists exactly
 * when the change that made it committed. Reminders are sent later by the deadlines worker.
 * The rows hold ids, kinds and dates only, never case content.
 */
@Injectable()
export class DeadlineService {
  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly calendar: WorkingCalendar,
  ) {}

  /** Today in England, by the service's clock. */
  today(): IsoDate {
    return londonDateOf(this.clock.now());
  }

  /** A concern was logged: a case still waiting for triage gets its triage deadline (the earliest concern counts). */
  async concernLogged(m: EntityManager, caseId: string, concernId: string, receivedOn: IsoDate): Promise<void> {
    const [c]: Array<{ state: CaseState }> = await m.query(`SELECT state FROM cases WHERE id = $1`, [caseId]);
    if (c?.state !== CaseState.ConcernRaised) return;
    const [open] = await m.query(`SELECT 1 FROM case_deadlines WHERE case_id = $1 AND kind = $2 AND state = 'open'`, [caseId, DeadlineKind.Triage]);
    if (open) return;
    await this.create(m, { caseId, kind: DeadlineKind.Triage, sourceId: concernId, dueOn: this.calendar.addWorkingDays(receivedOn, this.config.get('DEADLINE_TRIAGE_WORKING_DAYS')) });
  }

  /** A workflow move: deadlines of the stage left behind close; the new stage's start theirs. */
  async caseMoved(m: EntityManager, caseId: string, from: CaseState, to: CaseState): Promise<void> {
    for (const kind of Object.values(DeadlineKind).filter((k) => !STAGES_OF[k].includes(to))) {
      await this.close(m, `case_id = $1 AND kind = '${kind}'`, [caseId], outcomeOnLeavingStage(kind), kind === DeadlineKind.Triage ? DeadlineCloseReason.Met : DeadlineCloseReason.CaseMovedOn);
    }
    const today = this.today();
    if (to === CaseState.Triage && from === CaseState.Closed) {
      await this.create(m, { caseId, kind: DeadlineKind.Triage, sourceId: null, dueOn: this.calendar.addWorkingDays(today, this.config.get('DEADLINE_TRIAGE_WORKING_DAYS')) });
    }
    if (to === CaseState.SensitiveConversation) {
      await this.create(m, {
        caseId, kind: DeadlineKind.FirstSensitiveConversation, sourceId: null,
        dueOn: this.calendar.addWorkingDays(today, this.config.get('DEADLINE_FIRST_CONVERSATION_WORKING_DAYS')),
      });
    }
    if (to === CaseState.PreIntervention) {
      await this.create(m, {
        caseId, kind: DeadlineKind.PreInterventionMeeting, sourceId: null,
        dueOn: this.calendar.addWorkingDays(today, this.config.get('DEADLINE_PRE_INTERVENTION_MEETING_WORKING_DAYS')),
      });
    }
  }

  /**
   * A conversation record, or a correction of one: a sensitive conversation meets the
   * first-conversation deadline; the agreed actions' due dates become deadlines (a correction
   * keeps those it leaves unchanged, and cancels those it removes or moves).
   */
  async conversationRecorded(m: EntityManager, caseId: string, recordId: string, kind: string, actions: Array<{ dueOn?: string | null }>): Promise<void> {
    if (kind === 'sensitive_conversation') {
      await this.close(m, `case_id = $1 AND kind = '${DeadlineKind.FirstSensitiveConversation}'`, [caseId], DeadlineState.Met, DeadlineCloseReason.Met);
    }
    const wanted = actions.map((a, i) => ({ item: i, dueOn: a.dueOn ?? null })).filter((a): a is { item: number; dueOn: string } => !!a.dueOn);
    await this.reconcile(m, caseId, DeadlineKind.AgreedAction, recordId, wanted);
  }

  /** Improvement support created or changed: its review dates are deadlines while it is agreed or under way. */
  async supportChanged(m: EntityManager, caseId: string, supportId: string, status: string, reviewDates: IsoDate[]): Promise<void> {
    const active = SUPPORT_ACTIVE.includes(status);
    const today = this.today();
    const [existing]: Array<{ n: number }> = await m.query(
      `SELECT count(*)::int AS n FROM case_deadlines WHERE kind = $1 AND source_id = $2 AND state = 'open'`, [DeadlineKind.SupportReview, supportId]);
    if (!active) {
      if (existing.n > 0) await this.close(m, `kind = '${DeadlineKind.SupportReview}' AND source_id = $1`, [supportId], DeadlineState.Cancelled, DeadlineCloseReason.SourceEnded);
      return;
    }
    // A review date already past when the support is agreed is history, not a deadline; one that passes while it is open stays.
    const open: Array<{ due_on: string }> = await m.query(
      `SELECT to_char(due_on, 'YYYY-MM-DD') AS due_on FROM case_deadlines WHERE kind = $1 AND source_id = $2 AND state = 'open'`, [DeadlineKind.SupportReview, supportId]);
    const wanted = reviewDates.filter((d) => d >= today || open.some((o) => o.due_on === d)).map((d) => ({ item: 0, dueOn: d }));
    await this.reconcile(m, caseId, DeadlineKind.SupportReview, supportId, wanted);
  }

  /** A progress note on support records the review that is due (from its warning day on). */
  async progressNoted(m: EntityManager, supportId: string): Promise<void> {
    await this.close(m, `kind = '${DeadlineKind.SupportReview}' AND source_id = $1 AND warn_on <= $2::date`, [supportId, this.today()], DeadlineState.Met, DeadlineCloseReason.Met);
  }

  /** A pre-intervention meeting recorded with its date: that date replaces the stage's target. */
  async meetingScheduled(m: EntityManager, caseId: string, meetingId: string, meetingOn: IsoDate): Promise<void> {
    await this.close(m, `case_id = $1 AND kind = '${DeadlineKind.PreInterventionMeeting}' AND source_id IS NULL`, [caseId], DeadlineState.Cancelled, DeadlineCloseReason.SourceChanged);
    await this.create(m, { caseId, kind: DeadlineKind.PreInterventionMeeting, sourceId: meetingId, dueOn: meetingOn });
  }

  /** The meeting's outcome is recorded: its deadline is met; a deferral sets the next one. */
  async meetingOutcomeRecorded(m: EntityManager, caseId: string, meetingId: string, deferredUntil: IsoDate | null): Promise<void> {
    await this.close(m, `kind = '${DeadlineKind.PreInterventionMeeting}' AND (source_id = $1 OR (case_id = $2 AND source_id IS NULL))`, [meetingId, caseId], DeadlineState.Met, DeadlineCloseReason.Met);
    if (deferredUntil) await this.create(m, { caseId, kind: DeadlineKind.PreInterventionMeeting, sourceId: meetingId, dueOn: deferredUntil });
  }

  /** Makes the open deadlines of one source exactly `wanted` (by item and date), leaving unchanged ones alone. */
  private async reconcile(m: EntityManager, caseId: string, kind: DeadlineKind, sourceId: string, wanted: Array<{ item: number; dueOn: IsoDate }>): Promise<void> {
    const open: Array<{ id: string; source_item: number; due_on: string }> = await m.query(
      `SELECT id, source_item, to_char(due_on, 'YYYY-MM-DD') AS due_on FROM case_deadlines WHERE kind = $1 AND source_id = $2 AND state = 'open'`, [kind, sourceId]);
    const same = (a: { item: number; dueOn: string }, o: { source_item: number; due_on: string }) => a.item === o.source_item && a.dueOn === o.due_on;
    const stale = open.filter((o) => !wanted.some((w) => same(w, o))).map((o) => o.id);
    if (stale.length > 0) await this.close(m, `id = ANY($1::uuid[])`, [stale], DeadlineState.Cancelled, DeadlineCloseReason.SourceChanged);
    for (const w of wanted.filter((w) => !open.some((o) => same(w, o)))) {
      await this.create(m, { caseId, kind, sourceId, sourceItem: w.item, dueOn: w.dueOn });
    }
  }

  private async create(m: EntityManager, d: NewDeadline): Promise<void> {
    const warnOn = this.calendar.addWorkingDays(d.dueOn, -this.config.get('DEADLINE_WARNING_WORKING_DAYS'));
    // The partial unique index makes a repeat (the same open deadline twice) a no-op.
    await m.query(
      `INSERT INTO case_deadlines (case_id, kind, source_id, source_item, due_on, warn_on) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [d.caseId, d.kind, d.sourceId, d.sourceItem ?? 0, d.dueOn, warnOn < d.dueOn ? warnOn : d.dueOn],
    );
  }

  private async close(m: EntityManager, where: string, params: unknown[], state: DeadlineState, reason: DeadlineCloseReason): Promise<void> {
    const n = params.length;
    await m.query(
      `UPDATE case_deadlines SET state = $${n + 1}, closed_reason = $${n + 2}, closed_at = now() WHERE state = 'open' AND ${where}`,
      [...params, state, reason],
    );
  }
}
