import { Injectable } from '@nestjs/common';
import { CaseAction, itemScopeSql, itemVisibility } from '../access-control/case-access-policy';
import { compartmentOfRecord } from '../compartments/compartment-facts';
import { CaseFileTransactions, CaseFileTx } from '../access-control/case-file-transaction';
import { ItemHandling } from '../access-control/handling';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { Actor } from '../auth/actor.decorator';
import { PreconditionFailedError } from '../common/domain-error';
import { DeadlineCloseReason, DeadlineKind, DeadlineState, ReminderKind } from './deadline.types';
import { DeadlineDto } from './dto';

/** Deadlines met by a person saying so; the others are met by their own step (a move, a record, a meeting's outcome). */
const MARKED_BY_HAND: readonly DeadlineKind[] = [DeadlineKind.AgreedAction, DeadlineKind.SupportReview];

/**
 * Sources whose id the caller may be shown: a triage deadline's concern may be one they may not
 * see (named only), so it is never named.
 */
const SOURCE_SHOWN: readonly DeadlineKind[] = [DeadlineKind.AgreedAction, DeadlineKind.SupportReview, DeadlineKind.PreInterventionMeeting];

interface Row {
  id: string;
  case_id: string;
  kind: DeadlineKind;
  source_id: string | null;
  source_item: number;
  due_on: string;
  warn_on: string;
  state: DeadlineState;
  closed_reason: DeadlineCloseReason | null;
  closed_at: Date | null;
  reminders: Array<{ kind: ReminderKind; sentAt: string }> | null;
}

const COLUMNS = `d.id, d.case_id, d.kind, d.source_id, d.source_item, to_char(d.due_on, 'YYYY-MM-DD') AS due_on, to_char(d.warn_on, 'YYYY-MM-DD') AS warn_on,
  d.state, d.closed_reason, d.closed_at,
  (SELECT json_agg(json_build_object('kind', r.kind, 'sentAt', r.sent_at) ORDER BY r.sent_at) FROM deadline_reminders r WHERE r.deadline_id = d.id) AS reminders`;

function toDto(r: Row): DeadlineDto {
  return {
    id: r.id, caseId: r.case_id, kind: r.kind, sourceId: SOURCE_SHOWN.includes(r.kind) ? r.source_id : null, sourceItem: r.source_item,
    dueOn: r.due_on, warnOn: r.warn_on, state: r.state, closedReason: r.closed_reason, closedAt: r.closed_at ? new Date(r.closed_at).toISOString() : null,
    reminders: (r.reminders ?? []).map((x) => ({ kind: x.kind, sentAt: new Date(x.sentAt).toISOString() })),
  };
}

/** The deadlines of a case as its readers may see them, and marking one met: through the case file's policy and audit. */
@Injectable()
export class CaseDeadlinesService {
  constructor(private readonly transactions: CaseFileTransactions) {}

  list(actor: Actor, caseId: string): Promise<DeadlineDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.Deadline, auditAction: AuditAction.List });
      // An agreed action's deadline is shown only to those who may read its conversation record.
      const scope = itemScopeSql(actor.principal, 2, { partyMarking: true });
      const rows: Row[] = await tx.manager.query(
        `SELECT ${COLUMNS} FROM case_deadlines d
          WHERE d.case_id = $1
            AND (d.kind <> 'agreed_action' OR EXISTS (
                  SELECT 1 FROM conversation_records i WHERE i.record_id = d.source_id AND i.version = 1 AND ${scope.sql}))
          ORDER BY d.due_on, d.kind, d.source_item, d.id`,
        [row.id, ...scope.params],
      );
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Deadline, caseId: row.id });
      return rows.map(toDto);
    });
  }

  /** An agreed action done or a review held, said by someone who may record progress on the case. */
  markMet(actor: Actor, deadlineId: string): Promise<DeadlineDto> {
    return this.transactions.run(actor, async (tx) => {
      const [d]: Row[] = await tx.manager.query(`SELECT ${COLUMNS} FROM case_deadlines d WHERE d.id = $1`, [deadlineId]);
      if (!d) tx.refuseHiddenItem(ResourceType.Deadline, deadlineId, null, 'deadline_not_found', AuditAction.Update);
      const caseRow = await tx.openCase(d.case_id, CaseAction.AddProgressNote, { lock: true, resourceType: ResourceType.Deadline, auditAction: AuditAction.Update, hiddenAs: ResourceType.Deadline });
      await this.assertSourceVisible(tx, d);
      if (!MARKED_BY_HAND.includes(d.kind)) {
        throw new PreconditionFailedError('This deadline is met by its own step in the workflow, not by hand', { precondition: 'deadline_marked_by_hand' });
      }
      const [[updated]]: [Row[], number] = await tx.manager.query(
        `UPDATE case_deadlines d SET state = 'met', closed_reason = 'met', closed_at = now(), closed_by = $2 WHERE d.id = $1 AND d.state = 'open' RETURNING ${COLUMNS}`,
        [d.id, actor.userId],
      );
      if (!updated) throw new PreconditionFailedError(`The deadline is already ${d.state}`, { precondition: 'deadline_open' });
      tx.audit({ action: AuditAction.Update, resourceType: ResourceType.Deadline, resourceId: d.id, caseId: caseRow.id, rule: 'met' });
      return toDto(updated);
    });
  }

  private async assertSourceVisible(tx: CaseFileTx, d: Row): Promise<void> {
    if (d.kind !== DeadlineKind.AgreedAction || !d.source_id) return;
    const [r]: Array<{ handling: ItemHandling; party_id: string | null; named_user_ids: string[] }> = await tx.manager.query(
      `SELECT handling, party_id, named_user_ids FROM conversation_records WHERE record_id = $1 AND version = 1`, [d.source_id]);
    const compartment = r ? await compartmentOfRecord(tx.manager, d.source_id) : null;
    const visible = r ? itemVisibility(tx.actor.principal, { handling: r.handling, partyId: r.party_id, namedUserIds: r.named_user_ids, compartment }) : null;
    if (!visible?.allowed) tx.refuseHiddenItem(ResourceType.Deadline, d.id, d.case_id, visible?.rule ?? 'source_not_found', AuditAction.Update);
  }
}
