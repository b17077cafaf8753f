import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessRule, caseVisibility, hasActiveGrant } from '../access-control/case-access-policy';
import { accessFactsOf, CASE_SELECT, CaseFileTransactions, CaseRow } from '../access-control/case-file-transaction';
import { Role } from '../access-control/role';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { MfaService } from '../auth/mfa/mfa.service';
import { SignInLocks } from '../auth/sign-in-locks';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, PreconditionFailedError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { NotificationKind } from '../notifications/notification.entity';
import { BreakGlassGrantDto, BreakGlassQueueDto, BreakGlassReviewItemDto } from './dto';
import { actAsSystem, inSystemContext, SystemContext } from '../database/row-security';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

interface QueueRow {
  id: string;
  case_id: string;
  reference: string;
  user_id: string;
  user_name: string;
  reason: string;
  granted_at: Date;
  expires_at: Date;
  active: boolean;
  reads: string;
  reviewed_by: string | null;
  reviewed_by_name: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
}

const QUEUE_SELECT = `
  SELECT g.id, g.case_id, c.reference, g.user_id, u.display_name AS user_name, g.reason, g.granted_at, g.expires_at, (g.expires_at > now()) AS active,
         g.reviewed_by, r.display_name AS reviewed_by_name, g.reviewed_at, g.review_note,
         (SELECT count(*) FROM audit_events e
           WHERE e.case_id = g.case_id AND e.actor_id = g.user_id AND e.rule = 'break_glass' AND e.action <> 'break_glass'
             AND e.occurred_at >= g.granted_at AND e.occurred_at < g.expires_at) AS reads
    FROM break_glass_grants g
    JOIN cases c ON c.id = g.case_id
    JOIN users u ON u.id = g.user_id
    LEFT JOIN users r ON r.id = g.reviewed_by`;

function toItem(r: QueueRow): BreakGlassReviewItemDto {
  return {
    id: r.id,
    caseId: r.case_id,
    caseReference: r.reference,
    userId: r.user_id,
    userName: r.user_name,
    reason: r.reason,
    grantedAt: iso(r.granted_at)!,
    expiresAt: iso(r.expires_at)!,
    active: r.active,
    readsUnderGrant: Number(r.reads),
    reviewedBy: r.reviewed_by,
    reviewedByName: r.reviewed_by_name,
    reviewedAt: iso(r.reviewed_at),
    reviewNote: r.review_note,
  };
}

/**
 * Break-glass: a clearing-house manager opens a case restricted to its team that they could not
 * otherwise see, for BREAK_GLASS_MINUTES, with a written reason and a current second-factor code.
 * Read only, never the source's identity; the grant, every read under it and every refusal are
 * audited (rule 'break_glass'); every auditor is told in their inbox and reviews the grant.
 */
@Injectable()
export class BreakGlassService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: CaseFileTransactions,
    private readonly mfa: MfaService,
    private readonly locks: SignInLocks,
    private readonly audit: AuditWriter,
    private readonly config: AppConfig,
  ) {}

  breakGlass(actor: Actor, idOrReference: string, input: { reason: string; code: string }): Promise<BreakGlassGrantDto> {
    const p = actor.principal;
    return this.transactions.run(actor, async (tx) => {
      const rows: CaseRow[] = await tx.manager.query(`${CASE_SELECT} WHERE ${UUID.test(idOrReference) ? 'c.id = $1::uuid' : 'c.reference = $1'}`, [idOrReference]);
      const visibleRow = rows[0] as CaseRow | undefined;
      // Row-level security hides a restricted case from a manager off its team: its access facts
      // (never content) are what break-glass decides on.
      const row = visibleRow ? { id: visibleRow.id, reference: visibleRow.reference, facts: accessFactsOf(visibleRow) } : await tx.caseAccessFacts(idOrReference);
      const refuse = (error: DomainError, rule: string): never =>
        tx.refuse(error, {
          action: AuditAction.BreakGlass, resourceType: ResourceType.Case, resourceId: row?.id ?? idOrReference.slice(0, 64), caseId: row?.id ?? null,
          rule, justification: input.reason,
        });
      if (p.role !== Role.ClearingHouseManager) refuse(new ForbiddenError('Only clearing-house managers may use break-glass access'), 'break_glass:managers_only');

      // The second factor before anything about the case is answered: without a current code,
      // every case reads the same.
      const emailKey = SignInLocks.keyOf(p.email);
      await this.mfa.refuseIfLocked(emailKey, actor, 'break_glass', { caseId: row?.id ?? null, justification: input.reason, action: AuditAction.BreakGlass });
      const code = await this.mfa.consumeTotp(p.userId, input.code);
      if (!code.ok) {
        await this.locks.recordFailure(emailKey);
        refuse(new ForbiddenError('The code is not correct, or was already used'), `break_glass:${code.reason}`);
      }
      if (!row) return refuse(new NotFoundError('Case'), 'case_not_found');

      const now = new Date();
      const facts = row.facts;
      if (caseVisibility(p, { ...facts, breakGlassGrants: [] }, now).allowed) {
        refuse(
          new PreconditionFailedError('You can already see this case: break-glass is only for a restricted case you could not otherwise see', { precondition: 'case_hidden_from_you' }),
          'break_glass:not_needed',
        );
      }
      if (hasActiveGrant(p, facts, now)) {
        const until = facts.breakGlassGrants!.filter((g) => g.userId === p.userId).map((g) => iso(g.expiresAt)!).sort().pop();
        refuse(new ConflictError('You already have break-glass access to this case', { expiresAt: until }), 'break_glass:already_granted');
      }

      const [grant]: Array<{ id: string; granted_at: Date; expires_at: Date }> = await tx.manager.query(
        `INSERT INTO break_glass_grants (case_id, user_id, reason, expires_at) VALUES ($1, $2, $3, now() + make_interval(mins => $4))
         RETURNING id, granted_at, expires_at`,
        [row.id, p.userId, input.reason, this.config.get('BREAK_GLASS_MINUTES')],
      );
      tx.audit({ action: AuditAction.BreakGlass, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id, rule: AccessRule.BreakGlass, justification: input.reason });
      // Every auditor hears of it at once. The text names the case reference, never content (nor the reason).
      const expiresAt = new Date(grant.expires_at);
      // Through ch_notify (no e-mail): row-level security keeps every inbox its own user's.
      await tx.manager.query(
        `SELECT ch_notify(ARRAY(SELECT u.id FROM users u WHERE u.role = 'auditor' AND u.disabled_at IS NULL), $1, $2, $3, 'break_glass:' || $4, NULL, NULL)`,
        [
          NotificationKind.BreakGlass,
          `Break-glass access to ${row.reference}`,
          `${p.displayName}, a clearing-house manager, used break-glass access to case ${row.reference} until ${expiresAt.toISOString()}. ` +
            'Review it in the break-glass queue (GET /audit/break-glass).',
          grant.id,
        ],
      );
      return {
        id: grant.id, caseId: row.id, caseReference: row.reference, reason: input.reason, grantedAt: iso(grant.granted_at)!, expiresAt: expiresAt.toISOString(),
      };
    });
  }

  /** The auditors' review queue: grants awaiting review first, newest first. */
  async queue(actor: Actor, q: { reviewed?: boolean; limit: number; offset: number }): Promise<BreakGlassQueueDto> {
    await this.audit.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.BreakGlassGrant, outcome: AuditOutcome.Allowed, rule: 'break_glass_queue' });
    const filter = `($1::boolean IS NULL OR (g.reviewed_at IS NOT NULL) = $1::boolean)`;
    const rows: QueueRow[] = await inSystemContext(this.dataSource, SystemContext.BreakGlassReview, (m) => m.query(
      `${QUEUE_SELECT} WHERE ${filter} ORDER BY (g.reviewed_at IS NULL) DESC, g.granted_at DESC, g.id LIMIT $2 OFFSET $3`,
      [q.reviewed ?? null, q.limit, q.offset],
    ));
    const [counts]: Array<{ total: string; unreviewed: string }> = await inSystemContext(this.dataSource, SystemContext.BreakGlassReview, (m) => m.query(
      `SELECT (SELECT count(*) FROM break_glass_grants g WHERE ${filter}) AS total,
              (SELECT count(*) FROM break_glass_grants WHERE reviewed_at IS NULL) AS unreviewed`,
      [q.reviewed ?? null],
    ));
    return { items: rows.map(toItem), total: Number(counts.total), unreviewed: Number(counts.unreviewed) };
  }

  /** An auditor records their review of a grant (once). */
  async review(actor: Actor, grantId: string, note: string): Promise<BreakGlassReviewItemDto> {
    return this.dataSource.transaction(async (m) => {
      await actAsSystem(m, SystemContext.BreakGlassReview);
      const [updated]: [Array<{ case_id: string }>, number] = await m.query(
        `UPDATE break_glass_grants SET reviewed_by = $2, reviewed_at = now(), review_note = $3 WHERE id = $1 AND reviewed_at IS NULL RETURNING case_id`,
        [grantId, actor.userId, note],
      );
      if (updated.length === 0) {
        const [existing] = await m.query(`SELECT 1 FROM break_glass_grants WHERE id = $1`, [grantId]);
        if (!existing) throw new NotFoundError('Break-glass grant');
        throw new ConflictError('This break-glass grant has already been reviewed');
      }
      await this.audit.record(m, actor, {
        action: AuditAction.BreakGlassReview, resourceType: ResourceType.BreakGlassGrant, resourceId: grantId, caseId: updated[0].case_id, outcome: AuditOutcome.Allowed,
      });
      const [row]: QueueRow[] = await m.query(`${QUEUE_SELECT} WHERE g.id = $1`, [grantId]);
      return toItem(row);
    });
  }
}
