import { Injectable } from '@nestjs/common';
import { CaseAction } from '../access-control/case-access-policy';
import { CaseFileTransactions, CaseFileTx, CaseRow } from '../access-control/case-file-transaction';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { Actor } from '../auth/actor.decorator';
import { iso } from '../cases/case-mappers';
import { PreconditionFailedError, ValidationError, VersionConflictError } from '../common/domain-error';
import { DeadlineService } from '../deadlines/deadline.service';
import { CaseState } from '../workflow/case-state';
import { CreateSupportDto, ProgressNoteViewDto, SupportDto, UpdateSupportDto } from './dto';
import { SUPPORT_STATUS_MOVES, SupportKind, SupportStatus } from './support.types';

/** Exported for the idempotent replay of a create (src/idempotency). */
export interface SupportRow {
  id: string;
  case_id: string;
  kind: SupportKind;
  status: SupportStatus;
  description: string;
  providers: SupportDto['providers'];
  outcomes: SupportDto['outcomes'];
  starts_on: string | null;
  ends_on: string | null;
  review_dates: string[];
  agreed_at: Date | null;
  recorded_by: string;
  recorded_at: Date;
  updated_at: Date;
  version: number;
}

/** Exported for the idempotent replay of a create (src/idempotency). */
export const COLUMNS = `id, case_id, kind, status, description, providers, outcomes, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, to_char(ends_on, 'YYYY-MM-DD') AS ends_on,
  (SELECT coalesce(array_agg(to_char(d, 'YYYY-MM-DD') ORDER BY d), '{}') FROM unnest(review_dates) d) AS review_dates,
  agreed_at, recorded_by, recorded_at, updated_at, version`;

/** Exported for the idempotent replay of a create (src/idempotency). */
export function toDto(r: SupportRow): SupportDto {
  return {
    id: r.id, caseId: r.case_id, kind: r.kind, status: r.status, description: r.description, providers: r.providers, outcomes: r.outcomes,
    startsOn: r.starts_on, endsOn: r.ends_on, reviewDates: r.review_dates, agreedAt: iso(r.agreed_at), recordedBy: r.recorded_by,
    recordedAt: iso(r.recorded_at)!, updatedAt: iso(r.updated_at)!, version: r.version,
  };
}

function assertDates(startsOn: string | null | undefined, endsOn: string | null | undefined): void {
  if (startsOn && endsOn && startsOn > endsOn) throw new ValidationError([{ field: 'endsOn', messages: ['endsOn must not be before startsOn'] }]);
}

@Injectable()
export class SupportService {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly deadlines: DeadlineService,
  ) {}

  create(actor: Actor, caseId: string, dto: CreateSupportDto): Promise<SupportDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.ManageSupport, { lock: true, resourceType: ResourceType.Support, auditAction: AuditAction.Create });
      this.assertOpen(row);
      assertDates(dto.startsOn, dto.endsOn);
      const status = dto.status ?? SupportStatus.Proposed;
      const [created]: SupportRow[] = await tx.manager.query(
        `INSERT INTO improvement_support (case_id, kind, status, description, providers, outcomes, starts_on, ends_on, review_dates, agreed_at, agreed_by, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $3 = 'agreed' THEN now() END, CASE WHEN $3 = 'agreed' THEN $10::uuid END, $10)
         RETURNING ${COLUMNS}`,
        [row.id, dto.kind, status, dto.description, JSON.stringify(dto.providers ?? []), JSON.stringify(dto.outcomes ?? []), dto.startsOn ?? null, dto.endsOn ?? null, dto.reviewDates ?? [], actor.userId],
      );
      await tx.manager.query(`UPDATE cases SET updated_at = now(), version = version + 1 WHERE id = $1`, [row.id]);
      tx.audit({ action: AuditAction.Create, resourceType: ResourceType.Support, resourceId: created.id, caseId: row.id });
      await this.deadlines.supportChanged(tx.manager, row.id, created.id, created.status, created.review_dates);
      return toDto(created);
    });
  }

  list(actor: Actor, caseId: string): Promise<SupportDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.Support, auditAction: AuditAction.List });
      const rows: SupportRow[] = await tx.manager.query(`SELECT ${COLUMNS} FROM improvement_support WHERE case_id = $1 ORDER BY recorded_at, id`, [row.id]);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Support, caseId: row.id });
      return rows.map(toDto);
    });
  }

  update(actor: Actor, supportId: string, dto: UpdateSupportDto): Promise<SupportDto> {
    return this.transactions.run(actor, async (tx) => {
      const { support, caseRow } = await this.openSupport(tx, supportId, CaseAction.ManageSupport, AuditAction.Update);
      this.assertOpen(caseRow);
      if (support.version !== dto.version) throw new VersionConflictError('The support item');
      if (dto.status && dto.status !== support.status && !SUPPORT_STATUS_MOVES[support.status].includes(dto.status)) {
        throw new PreconditionFailedError(`Support cannot go from ${support.status} to ${dto.status}`, { precondition: 'support_status_order' });
      }
      assertDates(dto.startsOn ?? support.starts_on, dto.endsOn ?? support.ends_on);
      const [[updated]]: [SupportRow[], number] = await tx.manager.query(
        `UPDATE improvement_support SET
            status = coalesce($3, status),
            description = coalesce($4, description),
            providers = coalesce($5::jsonb, providers),
            outcomes = coalesce($6::jsonb, outcomes),
            starts_on = coalesce($7::date, starts_on),
            ends_on = coalesce($8::date, ends_on),
            review_dates = coalesce($9::date[], review_dates),
            agreed_at = CASE WHEN agreed_at IS NULL AND coalesce($3, status) IN ('agreed','in_progress','completed') THEN now() ELSE agreed_at END,
            agreed_by = CASE WHEN agreed_at IS NULL AND coalesce($3, status) IN ('agreed','in_progress','completed') THEN $10::uuid ELSE agreed_by END,
            updated_at = now(), version = version + 1
          WHERE id = $1 AND version = $2 RETURNING ${COLUMNS}`,
        [
          supportId, dto.version, dto.status ?? null, dto.description ?? null, dto.providers ? JSON.stringify(dto.providers) : null,
          dto.outcomes ? JSON.stringify(dto.outcomes) : null, dto.startsOn ?? null, dto.endsOn ?? null, dto.reviewDates ?? null, actor.userId,
        ],
      );
      if (!updated) throw new VersionConflictError('The support item');
      tx.audit({ action: AuditAction.Update, resourceType: ResourceType.Support, resourceId: supportId, caseId: caseRow.id, rule: dto.status ? `status:${dto.status}` : null });
      await this.deadlines.supportChanged(tx.manager, caseRow.id, supportId, updated.status, updated.review_dates);
      return toDto(updated);
    });
  }

  addProgressNote(actor: Actor, supportId: string, note: string): Promise<ProgressNoteViewDto> {
    return this.transactions.run(actor, async (tx) => {
      const { caseRow } = await this.openSupport(tx, supportId, CaseAction.AddProgressNote, AuditAction.Create);
      const [created] = await tx.manager.query(
        `INSERT INTO support_progress_notes (support_id, note, recorded_by) VALUES ($1, $2, $3) RETURNING id, support_id, note, recorded_by, recorded_at`,
        [supportId, note, actor.userId],
      );
      tx.audit({ action: AuditAction.Create, resourceType: ResourceType.ProgressNote, resourceId: created.id, caseId: caseRow.id });
      await this.deadlines.progressNoted(tx.manager, supportId);
      return { id: created.id, supportId, note: created.note, recordedBy: created.recorded_by, recordedAt: iso(created.recorded_at)! };
    });
  }

  progressNotes(actor: Actor, supportId: string): Promise<ProgressNoteViewDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const { caseRow } = await this.openSupport(tx, supportId, CaseAction.Read, AuditAction.List);
      const rows = await tx.manager.query(
        `SELECT id, support_id, note, recorded_by, recorded_at FROM support_progress_notes WHERE support_id = $1 ORDER BY recorded_at, id`, [supportId]);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.ProgressNote, resourceId: supportId, caseId: caseRow.id });
      return rows.map((r: { id: string; note: string; recorded_by: string; recorded_at: Date }) => ({
        id: r.id, supportId, note: r.note, recordedBy: r.recorded_by, recordedAt: iso(r.recorded_at)!,
      }));
    });
  }

  private async openSupport(tx: CaseFileTx, supportId: string, action: CaseAction, auditAction: AuditAction): Promise<{ support: SupportRow; caseRow: CaseRow }> {
    const [support]: SupportRow[] = await tx.manager.query(`SELECT ${COLUMNS} FROM improvement_support WHERE id = $1`, [supportId]);
    if (!support) return tx.refuseUnseenItem('support', ResourceType.Support, supportId, auditAction);
    const caseRow = await tx.openCase(support.case_id, action, { lock: action !== CaseAction.Read, resourceType: ResourceType.Support, auditAction, hiddenAs: ResourceType.Support });
    return { support, caseRow };
  }

  private assertOpen(row: CaseRow): void {
    if (row.state === CaseState.Closed) throw new PreconditionFailedError('The case is closed: a manager must reopen it first', { precondition: 'case_open' });
  }
}
