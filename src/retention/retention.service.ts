import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CaseAction } from '../access-control/case-access-policy';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { DeletionCertificatesService } from '../audit-workbench/deletion-certificates.service';
import { Actor } from '../auth/actor.decorator';
import { NotFoundError, PreconditionFailedError, VersionConflictError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { FieldCipher } from '../encryption/field-cipher';
import { CaseState } from '../workflow/case-state';
import { RetentionReviewDto } from './dto';
import { retentionSchedule, RetentionSchedule } from './retention-schedule';
import { actAsSystem, inSystemContext, SystemContext } from '../database/row-security';

const SYSTEM_ACTOR: RequestActor = { userId: null, role: 'system', requestId: null, clientIp: null, userAgent: 'retention-job' };

/**
 * Retention: a daily job lists closed cases whose content is due for destruction under the
 * schedule; a manager then approves each, and the content is destroyed (by a database function
 * that alone may touch the immutable records), leaving a skeleton and the audit trail. A case on
 * legal hold is neither listed nor destroyed. Nothing here can bring destroyed content back.
 */
@Injectable()
export class RetentionService {
  readonly schedule: RetentionSchedule;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: CaseFileTransactions,
    private readonly audit: AuditWriter,
    private readonly certificates: DeletionCertificatesService,
    config: AppConfig,
    private readonly cipher: FieldCipher,
  ) {
    this.schedule = retentionSchedule(config.get('RETENTION_YEARS'), config.get('RETENTION_YEARS_BY_OUTCOME'));
  }

  /** Lists what is due today; idempotent (a case already listed and pending is not listed twice). */
  async listDue(today = new Date()): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      await actAsSystem(m, SystemContext.Retention);
      const rows: Array<{ id: string }> = await m.query(
        `INSERT INTO retention_reviews (case_id, due_on, rule, status)
         SELECT c.id, (c.closed_at + make_interval(years => s.years))::date, c.outcome || ': ' || s.years || ' years after closure', 'pending'
           FROM cases c
           JOIN (SELECT key AS outcome, value::int AS years FROM jsonb_each_text($2::jsonb)) s ON s.outcome = c.outcome
          WHERE c.state = 'closed' AND c.content_destroyed_at IS NULL AND c.legal_hold_at IS NULL
            AND (c.closed_at + make_interval(years => s.years))::date <= $1::date
            AND NOT EXISTS (SELECT 1 FROM retention_reviews r WHERE r.case_id = c.id AND r.status = 'pending')
         RETURNING case_id AS id`,
        [today.toISOString().slice(0, 10), JSON.stringify(this.schedule)],
      );
      if (rows.length > 0) {
        await this.audit.record(m, SYSTEM_ACTOR, rows.map((r) => ({
          action: AuditAction.ListDue, resourceType: ResourceType.Retention, resourceId: r.id, caseId: r.id, outcome: AuditOutcome.Allowed,
        })));
      }
      return rows.length;
    });
  }

  async reviews(actor: Actor, status: 'pending' | 'destroyed' | 'cancelled'): Promise<RetentionReviewDto[]> {
    const rows = await inSystemContext(this.dataSource, SystemContext.Retention, (m) => m.query(
      `SELECT r.id, r.case_id AS "caseId", c.reference AS "caseReference", a.official_name AS authority, c.outcome,
              c.closed_at AS "closedAt", to_char(r.due_on, 'YYYY-MM-DD') AS "dueOn", r.rule, r.status, r.listed_at AS "listedAt", r.decided_at AS "decidedAt"
         FROM retention_reviews r JOIN cases c ON c.id = r.case_id JOIN authorities a ON a.id = c.authority_id
        WHERE r.status = $1 ORDER BY r.due_on, c.reference`,
      [status],
    ));
    await this.audit.recordNow(actor, { action: AuditAction.List, resourceType: ResourceType.Retention, outcome: AuditOutcome.Allowed, rule: status });
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return rows.map((r: RetentionReviewDto & { closedAt: Date | null; listedAt: Date; decidedAt: Date | null }) => ({
      ...r, closedAt: iso(r.closedAt), listedAt: iso(r.listedAt)!, decidedAt: iso(r.decidedAt),
    }));
  }

  /** A manager's approval: the content is destroyed in the same transaction, and the destruction audited. */
  approve(actor: Actor, reviewId: string, reason: string): Promise<RetentionReviewDto> {
    return this.transactions.run(actor, async (tx) => {
      const [review]: Array<{ case_id: string; status: string }> = await tx.manager.query(`SELECT case_id, status FROM retention_reviews WHERE id = $1 FOR UPDATE`, [reviewId]);
      if (!review) throw new NotFoundError('Retention review');
      const row = await tx.openCase(review.case_id, CaseAction.Read, { lock: true, resourceType: ResourceType.Retention, auditAction: AuditAction.DestroyContent });
      if (review.status !== 'pending') throw new PreconditionFailedError(`This review is already ${review.status}`, { precondition: 'review_pending' });
      if (row.state !== CaseState.Closed) throw new PreconditionFailedError('The case was reopened: it is no longer due', { precondition: 'case_closed' });
      const [hold]: Array<{ legal_hold_at: Date | null }> = await tx.manager.query(`SELECT legal_hold_at FROM cases WHERE id = $1`, [row.id]);
      if (hold.legal_hold_at) {
        tx.refuse(new PreconditionFailedError('The case is on legal hold: its content cannot be destroyed', { precondition: 'no_legal_hold' }), {
          action: AuditAction.DestroyContent, resourceType: ResourceType.Retention, resourceId: reviewId, caseId: row.id, rule: 'legal_hold',
        });
      }
      // The deletion certificate (issue 8.6) counts what goes, and is written with the destruction or not at all.
      const destroyed = await this.certificates.countDestroyable(tx.manager, row.id);
      await tx.manager.query(`SELECT destroy_case_content($1, $2, $3)`, [row.id, reviewId, actor.userId]);
      await this.certificates.issue(tx.manager, actor, { caseId: row.id, caseReference: row.reference, reviewId, reason }, destroyed);
      // The function destroyed the case's data keys; drop any unwrapped copy this process holds.
      this.cipher.forgetCase(row.id);
      tx.audit({ action: AuditAction.DestroyContent, resourceType: ResourceType.Retention, resourceId: reviewId, caseId: row.id, justification: reason });
      const [out] = await tx.manager.query(`SELECT to_char(due_on, 'YYYY-MM-DD') AS due_on, rule, listed_at, decided_at FROM retention_reviews WHERE id = $1`, [reviewId]);
      return {
        id: reviewId, caseId: row.id, caseReference: row.reference, authority: row.authority_name, outcome: row.outcome,
        closedAt: row.closed_at ? new Date(row.closed_at).toISOString() : null, dueOn: out.due_on, rule: out.rule, status: 'destroyed',
        listedAt: new Date(out.listed_at).toISOString(), decidedAt: new Date(out.decided_at).toISOString(),
      };
    });
  }

  /** Legal hold stops destruction: a pending review is cancelled, and the case is not listed again while held. */
  setLegalHold(actor: Actor, caseId: string, hold: boolean, reason: string, version: number): Promise<{ caseId: string; onHold: boolean; version: number }> {
    return this.transactions.run(actor, async (tx) => {
      // The route is for managers only (Permission.RetentionManage); here the case must be visible to them.
      const row = await tx.openCase(caseId, CaseAction.Read, { lock: true, resourceType: ResourceType.Case, auditAction: AuditAction.LegalHold });
      if (row.version !== version) throw new VersionConflictError('The case');
      const [[updated]]: [Array<{ version: number }>, number] = await tx.manager.query(
        `UPDATE cases SET legal_hold_at = CASE WHEN $2 THEN now() END, legal_hold_reason = CASE WHEN $2 THEN $3 END, legal_hold_by = CASE WHEN $2 THEN $4::uuid END,
                version = version + 1, updated_at = now()
          WHERE id = $1 RETURNING version`,
        [row.id, hold, reason, actor.userId],
      );
      if (hold) {
        await tx.manager.query(`UPDATE retention_reviews SET status = 'cancelled', decided_by = $2, decided_at = now(), decision_reason = 'legal hold' WHERE case_id = $1 AND status = 'pending'`, [row.id, actor.userId]);
      }
      tx.audit({ action: AuditAction.LegalHold, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id, rule: hold ? 'hold' : 'release', justification: reason });
      return { caseId: row.id, onHold: hold, version: updated.version };
    });
  }
}
