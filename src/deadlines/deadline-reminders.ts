import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { caseVisibility, ItemAccessFacts, itemVisibility } from '../access-control/case-access-policy';
import { compartmentOfRecord } from '../compartments/compartment-facts';
import { ItemHandling } from '../access-control/handling';
import { accessFactsOf, CASE_SELECT, CaseRow } from '../access-control/case-file-transaction';
import { Region, Role } from '../access-control/role';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Principal } from '../auth/principal';
import { NotificationKind } from '../notifications/notification.entity';
import { NotificationsService } from '../notifications/notifications.service';
import { Clock } from './clock';
import { decideReminder, outcomeOnLeavingStage, reminderText, ReminderDecision } from './deadline-rules';
import { DeadlineCloseReason, DeadlineKind, DeadlineState, ReminderKind } from './deadline.types';
import { actAsSystem, SystemContext } from '../database/row-security';

/** Background work is audited like any other access to the case file, under this actor. */
export const DEADLINES_ACTOR: RequestActor = { userId: null, role: 'system', requestId: null, clientIp: null, userAgent: 'deadlines-job' };

interface DeadlineRow {
  id: string;
  case_id: string;
  source_id: string | null;
  kind: DeadlineKind;
  state: DeadlineState;
  due_on: string;
  warn_on: string;
}

export interface UserRow {
  id: string;
  role: Role;
  region: Region | null;
  party_id: string | null;
  email: string;
  display_name: string;
}

/** What one run of a reminder job did (the job's result, for the queue board). */
export type ReminderOutcome = ReminderDecision | 'already_sent';

/**
 * Sends one reminder of one deadline, at most once. Reloads the deadline and its case, checks
 * again that it is open, due, and that the case is still in the deadline's stage (a case that
 * moved on closes the deadline and sends nothing), then records the reminder and its
 * notifications in one transaction. The unique (deadline, reminder) row is what makes a second
 * run, a duplicate job or a job re-derived after Redis lost it send nothing more.
 */
@Injectable()
export class DeadlineReminders {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditWriter,
    private readonly clock: Clock,
  ) {}

  run(deadlineId: string, reminder: ReminderKind): Promise<ReminderOutcome> {
    return this.dataSource.transaction(async (m) => {
      await actAsSystem(m, SystemContext.Deadlines);
      // The row lock serialises two workers on one deadline; the unique row settles the rest.
      const [d]: DeadlineRow[] = await m.query(
        `SELECT id, case_id, source_id, kind, state, to_char(due_on, 'YYYY-MM-DD') AS due_on, to_char(warn_on, 'YYYY-MM-DD') AS warn_on
           FROM case_deadlines WHERE id = $1 FOR UPDATE`,
        [deadlineId],
      );
      // Closed deadlines are settled without reading the case at all.
      if (!d || d.state !== DeadlineState.Open) return ReminderDecision.Closed;
      const [c]: CaseRow[] = await m.query(`${CASE_SELECT} WHERE c.id = $1`, [d.case_id]);
      const now = this.clock.now();
      const decision = decideReminder({ kind: d.kind, state: d.state, dueOn: d.due_on, warnOn: d.warn_on }, c.state, reminder, now);
      if (decision === ReminderDecision.CaseMovedOn) {
        const outcome = outcomeOnLeavingStage(d.kind);
        await m.query(`UPDATE case_deadlines SET state = $2, closed_reason = $3, closed_at = now() WHERE id = $1`, [
          d.id, outcome, outcome === DeadlineState.Met ? DeadlineCloseReason.Met : DeadlineCloseReason.CaseMovedOn,
        ]);
        await this.audit.record(m, DEADLINES_ACTOR, {
          action: AuditAction.SendReminder, resourceType: ResourceType.Deadline, resourceId: d.id, caseId: c.id, outcome: AuditOutcome.Allowed,
          rule: `${d.kind}:${reminder}:skipped_case_moved_on`,
        });
        return decision;
      }
      if (decision !== ReminderDecision.Send) return decision;

      const [recorded]: Array<{ id: string }> = await m.query(
        `INSERT INTO deadline_reminders (deadline_id, kind, sent_at) VALUES ($1, $2, $3) ON CONFLICT (deadline_id, kind) DO NOTHING RETURNING id`,
        [d.id, reminder, now],
      );
      if (!recorded) return 'already_sent';

      const item = await this.sourceItemOf(m, d);
      const team = await this.visibleTeam(m, c, now, item);
      const teamText = reminderText(c.reference, d.kind, d.due_on, reminder, false);
      const kind = reminder === ReminderKind.Approaching ? NotificationKind.DeadlineApproaching : NotificationKind.DeadlineMissed;
      let notified = await this.notifications.notify(m, team, { kind, ...teamText, caseId: c.id, dedupeKey: `deadline:${d.id}:${reminder}` });
      if (reminder === ReminderKind.Missed) {
        const managers = await this.visibleManagers(m, c, now, item);
        const escalation = reminderText(c.reference, d.kind, d.due_on, reminder, true);
        notified += await this.notifications.notify(m, managers, { kind: NotificationKind.Escalation, ...escalation, caseId: c.id, dedupeKey: `deadline:${d.id}:escalation` });
      }
      await m.query(`UPDATE deadline_reminders SET notifications = $2 WHERE id = $1`, [recorded.id, notified]);
      await this.audit.record(m, DEADLINES_ACTOR, {
        action: AuditAction.SendReminder, resourceType: ResourceType.Deadline, resourceId: d.id, caseId: c.id, outcome: AuditOutcome.Allowed,
        rule: `${d.kind}:${reminder}`,
      });
      return decision;
    });
  }

  /**
   * The case team as it is now, each member only if they may see the case now (a peer removed,
   * a restriction, a facilitator of another region: no notification). When the case has no team
   * yet, the officer who opened it stands in, so that a reminder always reaches someone.
   */
  private async visibleTeam(m: EntityManager, c: CaseRow, now: Date, item: ItemAccessFacts | null): Promise<string[]> {
    const ids = c.team.length > 0 ? c.team.map((t) => t.userId) : [c.opened_by];
    const users: UserRow[] = await m.query(
      `SELECT id, role, region, party_id, email, display_name FROM users WHERE id = ANY($1::uuid[]) AND disabled_at IS NULL`, [ids]);
    return this.maySee(users, c, now, item);
  }

  /** Every active clearing-house manager who may see the case (a case restricted to its team: only those it allows). */
  private async visibleManagers(m: EntityManager, c: CaseRow, now: Date, item: ItemAccessFacts | null): Promise<string[]> {
    return this.maySee(await this.activeManagers(m), c, now, item);
  }

  /**
   * The marking of the record a deadline comes from, when that record can be hidden from some
   * who see the case: an agreed action of a party-confidential or named-only conversation record.
   * Even "an action is due on 3 March" would tell them that such a record exists.
   */
  private async sourceItemOf(m: EntityManager, d: DeadlineRow): Promise<ItemAccessFacts | null> {
    if (d.kind !== DeadlineKind.AgreedAction || !d.source_id) return null;
    const [r]: Array<{ handling: ItemHandling; party_id: string | null; named_user_ids: string[] }> = await m.query(
      `SELECT handling, party_id, named_user_ids FROM conversation_records WHERE record_id = $1 ORDER BY version DESC LIMIT 1`, [d.source_id]);
    // A record in a compartment: only those inside it are told (src/compartments).
    return r ? { handling: r.handling, partyId: r.party_id, namedUserIds: r.named_user_ids, compartment: await compartmentOfRecord(m, d.source_id) } : null;
  }

  protected activeManagers(m: EntityManager): Promise<UserRow[]> {
    return m.query(`SELECT id, role, region, party_id, email, display_name FROM users WHERE role = $1 AND disabled_at IS NULL`, [Role.ClearingHouseManager]);
  }

  private maySee(users: UserRow[], c: CaseRow, now: Date, item: ItemAccessFacts | null): string[] {
    // Break-glass is a manager's audited emergency read, not membership: it brings no reminders.
    const facts = { ...accessFactsOf(c), breakGlassGrants: [] };
    return users
      .filter((u) => {
        const p: Principal = { userId: u.id, sessionId: '', email: u.email, displayName: u.display_name, role: u.role, region: u.region, partyId: u.party_id };
        return caseVisibility(p, facts, now).allowed && (!item || itemVisibility(p, item).allowed);
      })
      .map((u) => u.id);
  }
}
