import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AccessRule, caseScopeSql, caseVisibility, CaseAction, itemScopeSql, itemVisibility, isStaff, viaBreakGlassSql } from '../access-control/case-access-policy';
import { accessFactsOf, CaseFileTransactions, CaseFileTx, CaseRow, ROW_SECURITY_RULE } from '../access-control/case-file-transaction';
import { ItemHandling } from '../access-control/handling';
import { Role } from '../access-control/role';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { SourceViewDto } from '../cases/dto';
import { ConflictError, DomainError, ForbiddenError, PreconditionFailedError, ValidationError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { FieldCipher } from '../encryption/field-cipher';
import { NotificationKind } from '../notifications/notification.entity';
import { NotificationsService } from '../notifications/notifications.service';
import { principalOfUser, StoredUser } from '../users/stored-user';
import { DisclosureBasis, ReleaseDto, ReleasePageDto, RevealPageDto, SourceIdentityDto } from './dto';
import { ReleaseFacts, ReleaseState, SourceIdentityDecision, SourceIdentityPolicy, SourceIdentityRule } from './source-identity-policy';
import { inSystemContext, SystemContext } from '../database/row-security';

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** What a refusal (or the record of a step) says: never the identity. */
interface RefusalAudit {
  action: AuditAction;
  resourceType: ResourceType;
  resourceId: string;
  caseId: string;
  justification?: string | null;
}

interface ConcernFacts {
  id: string;
  case_id: string;
  handling: ItemHandling;
  named_user_ids: string[];
  has_source: boolean;
}

interface ReleaseRow {
  id: string;
  concern_id: string;
  case_id: string;
  reference: string;
  requested_by: string;
  requested_by_name: string;
  released_to: string;
  released_to_name: string;
  reason: string;
  state: ReleaseState;
  approved_by: string | null;
  refused_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  expires_at: Date | null;
  revoked_by: string | null;
  revoked_at: Date | null;
  revoke_reason: string | null;
  created_at: Date;
}

/** Releases with the state as it reads now: an approved release past its expiry reads `expired`. */
const RELEASE_SELECT = `
  SELECT r.id, r.concern_id, r.case_id, c.reference, r.requested_by, rq.display_name AS requested_by_name, r.released_to, rt.display_name AS released_to_name,
         r.reason, CASE WHEN r.state = 'approved' AND r.expires_at <= now() THEN 'expired' ELSE r.state END AS state,
         r.approved_by, r.refused_by, r.decided_at, r.decision_note, r.expires_at, r.revoked_by, r.revoked_at, r.revoke_reason, r.created_at
    FROM source_identity_releases r
    JOIN cases c ON c.id = r.case_id
    JOIN users rq ON rq.id = r.requested_by
    JOIN users rt ON rt.id = r.released_to`;
const EFFECTIVE_STATE = `(CASE WHEN r.state = 'approved' AND r.expires_at <= now() THEN 'expired' ELSE r.state END)`;

function toReleaseDto(r: ReleaseRow): ReleaseDto {
  return {
    id: r.id, concernId: r.concern_id, caseId: r.case_id, caseReference: r.reference,
    requestedBy: r.requested_by, requestedByName: r.requested_by_name, releasedTo: r.released_to, releasedToName: r.released_to_name,
    reason: r.reason, state: r.state, approvedBy: r.approved_by, refusedBy: r.refused_by, decidedAt: iso(r.decided_at), decisionNote: r.decision_note,
    expiresAt: iso(r.expires_at), revokedBy: r.revoked_by, revokedAt: iso(r.revoked_at), revokeReason: r.revoke_reason, createdAt: iso(r.created_at)!,
  };
}

function factsOf(r: { id: string; requested_by: string; released_to: string; state: ReleaseState; expires_at: Date | null }): ReleaseFacts {
  return { id: r.id, requestedBy: r.requested_by, releasedTo: r.released_to, state: r.state, expiresAt: r.expires_at };
}

/**
 * The source's identity, released by two people (issue 5, point 3). Ordinary concern reads never
 * carry it; here a manager reveals it with a reason, or a manager asks for it to be released to a
 * colleague and a second manager approves. Everything runs through `CaseFileTransactions.run`:
 * the case access policy first (404 for a case or concern the caller may not see, exactly as a
 * missing one), then `SourceIdentityPolicy`, and every step and refusal is audited.
 */
@Injectable()
export class SourceIdentityService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: CaseFileTransactions,
    private readonly auditWriter: AuditWriter,
    private readonly notifications: NotificationsService,
    private readonly config: AppConfig,
    private readonly cipher: FieldCipher,
  ) {}

  /** A manager reads the identity now, giving a reason; the reveal is audited with the reason as its justification. */
  reveal(actor: Actor, concernId: string, reason: string): Promise<SourceIdentityDto> {
    return this.transactions.run(actor, async (tx) => {
      const action = AuditAction.SourceIdentityReveal;
      const { caseRow, concern } = await this.openConcern(tx, concernId, action, ResourceType.ConcernSource);
      this.enforce(tx, SourceIdentityPolicy.reveal(actor.principal, tx.accessTo(caseRow.id)), { action, resourceType: ResourceType.ConcernSource, resourceId: concern.id, caseId: caseRow.id, justification: reason });
      const source = await this.identityOrRefuse(tx, concern, action, reason);
      tx.audit({ action, resourceType: ResourceType.ConcernSource, resourceId: concern.id, caseId: caseRow.id, rule: SourceIdentityRule.RevealedWithReason, justification: reason });
      return { concernId: concern.id, caseId: caseRow.id, source, basis: DisclosureBasis.RevealedWithReason, releaseId: null, releaseExpiresAt: null };
    });
  }

  /** The colleague reads the identity under an approved, unexpired release to them; each read is audited. */
  readReleased(actor: Actor, concernId: string): Promise<SourceIdentityDto> {
    return this.transactions.run(actor, async (tx) => {
      const action = AuditAction.Read;
      const { caseRow, concern } = await this.openConcern(tx, concernId, action, ResourceType.ConcernSource);
      const rows: Array<{ id: string; requested_by: string; released_to: string; state: ReleaseState; expires_at: Date | null }> = await tx.manager.query(
        `SELECT id, requested_by, released_to, state, expires_at FROM source_identity_releases WHERE concern_id = $1 AND released_to = $2`,
        [concern.id, actor.userId],
      );
      const decision = SourceIdentityPolicy.readReleased(actor.principal, rows.map(factsOf), tx.accessTo(caseRow.id), new Date());
      this.enforce(tx, decision, { action, resourceType: ResourceType.ConcernSource, resourceId: concern.id, caseId: caseRow.id });
      const release = decision.release!;
      const source = await this.identityOrRefuse(tx, concern, action, null);
      tx.audit({ action, resourceType: ResourceType.ConcernSource, resourceId: concern.id, caseId: caseRow.id, rule: SourceIdentityRule.ReleasedToYou, justification: `release ${release.id}` });
      return { concernId: concern.id, caseId: caseRow.id, source, basis: DisclosureBasis.Released, releaseId: release.id, releaseExpiresAt: iso(release.expiresAt) };
    });
  }

  /** A manager asks for the identity to be released to a colleague; the other managers who may see the case are told. */
  request(actor: Actor, concernId: string, input: { releasedToUserId: string; reason: string }): Promise<ReleaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const action = AuditAction.SourceIdentityRequest;
      const { caseRow, concern } = await this.openConcern(tx, concernId, action, ResourceType.SourceIdentityRelease);
      const audit: RefusalAudit = { action, resourceType: ResourceType.SourceIdentityRelease, resourceId: concern.id, caseId: caseRow.id, justification: input.reason };
      this.enforce(tx, SourceIdentityPolicy.request(actor.principal, tx.accessTo(caseRow.id)), audit);
      if (!concern.has_source) this.refuseNoSource(tx, audit);
      if (!(await this.mayReceive(tx.manager, input.releasedToUserId, caseRow, concern))) {
        tx.refuse(new ValidationError([{ field: 'releasedToUserId', messages: ['releasedToUserId must name an active clearing-house officer or manager who may read this concern'] }]), {
          ...audit, rule: 'source_release_recipient_not_eligible',
        });
      }
      // A release whose time is up is recorded as expired before a new one is asked for.
      await tx.manager.query(
        `UPDATE source_identity_releases SET state = 'expired' WHERE concern_id = $1 AND released_to = $2 AND state = 'approved' AND expires_at <= now()`,
        [concern.id, input.releasedToUserId],
      );
      const inserted: Array<{ id: string }> = await tx.manager.query(
        `INSERT INTO source_identity_releases (concern_id, case_id, requested_by, released_to, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (concern_id, released_to) WHERE state IN ('requested','approved') DO NOTHING RETURNING id`,
        [concern.id, caseRow.id, actor.userId, input.releasedToUserId, input.reason],
      );
      if (inserted.length === 0) {
        const [open]: Array<{ id: string }> = await tx.manager.query(
          `SELECT id FROM source_identity_releases WHERE concern_id = $1 AND released_to = $2 AND state IN ('requested','approved')`, [concern.id, input.releasedToUserId]);
        tx.refuse(new ConflictError('This colleague already has a release of this source asked for or approved', { releaseId: open?.id ?? null }), { ...audit, rule: 'source_release_already_open' });
      }
      const id = inserted[0].id;
      tx.audit({ ...audit, resourceId: id });
      await this.notifyApprovers(tx, caseRow, id, [actor.principal.userId, input.releasedToUserId]);
      return this.releaseById(tx.manager, id);
    });
  }

  approve(actor: Actor, releaseId: string, note: string | null): Promise<ReleaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const action = AuditAction.SourceIdentityApprove;
      const { release, caseRow, concern } = await this.openRelease(tx, releaseId, action);
      const audit = { action, resourceType: ResourceType.SourceIdentityRelease, resourceId: release.id, caseId: caseRow.id, justification: note };
      this.enforce(tx, SourceIdentityPolicy.decide(actor.principal, factsOf(release), tx.accessTo(caseRow.id)), audit);
      // The colleague must still be able to read the concern (they may have left the team, or the case been restricted).
      if (!(await this.mayReceive(tx.manager, release.released_to, caseRow, concern))) {
        tx.refuse(new PreconditionFailedError('The colleague may no longer read this concern', { precondition: 'recipient_may_read_concern' }), {
          ...audit, rule: 'source_release_recipient_not_eligible',
        });
      }
      if (!concern.has_source) this.refuseNoSource(tx, audit);
      // An UPDATE answers [rows, count] through TypeORM.
      const [[updated]]: [Array<{ expires_at: Date }>, number] = await tx.manager.query(
        `UPDATE source_identity_releases SET state = 'approved', approved_by = $2, decided_at = now(), decision_note = $3, expires_at = now() + make_interval(hours => $4)
          WHERE id = $1 RETURNING expires_at`,
        [release.id, actor.userId, note, this.config.get('SOURCE_IDENTITY_RELEASE_HOURS')],
      );
      tx.audit({ ...audit, rule: SourceIdentityRule.DecidedBySecondManager });
      await this.notifications.notify(tx.manager, [release.released_to], {
        kind: NotificationKind.SourceIdentityRelease,
        title: `Source identity released to you: ${caseRow.reference}`,
        body: `The identity of the source of a concern on case ${caseRow.reference} has been released to you until ${iso(updated.expires_at)}. ` +
          `Read it at GET /concerns/${release.concern_id}/source-identity (every read is audited).`,
        caseId: caseRow.id,
        dedupeKey: `source_release:${release.id}:approved`,
      });
      return this.releaseById(tx.manager, release.id);
    });
  }

  refuse(actor: Actor, releaseId: string, reason: string): Promise<ReleaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const action = AuditAction.SourceIdentityRefuse;
      const { release, caseRow } = await this.openRelease(tx, releaseId, action);
      const audit = { action, resourceType: ResourceType.SourceIdentityRelease, resourceId: release.id, caseId: caseRow.id, justification: reason };
      this.enforce(tx, SourceIdentityPolicy.decide(actor.principal, factsOf(release), tx.accessTo(caseRow.id)), audit);
      await tx.manager.query(
        `UPDATE source_identity_releases SET state = 'refused', refused_by = $2, decided_at = now(), decision_note = $3 WHERE id = $1`,
        [release.id, actor.userId, reason],
      );
      tx.audit({ ...audit, rule: SourceIdentityRule.DecidedBySecondManager });
      return this.releaseById(tx.manager, release.id);
    });
  }

  /** Withdraws a request, or ends an approved release before its time. */
  revoke(actor: Actor, releaseId: string, reason: string): Promise<ReleaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const action = AuditAction.SourceIdentityRevoke;
      const { release, caseRow } = await this.openRelease(tx, releaseId, action);
      const audit = { action, resourceType: ResourceType.SourceIdentityRelease, resourceId: release.id, caseId: caseRow.id, justification: reason };
      this.enforce(tx, SourceIdentityPolicy.revoke(actor.principal, factsOf(release), tx.accessTo(caseRow.id), new Date()), audit);
      await tx.manager.query(
        `UPDATE source_identity_releases SET state = 'revoked', revoked_by = $2, revoked_at = now(), revoke_reason = $3 WHERE id = $1`,
        [release.id, actor.userId, reason],
      );
      tx.audit({ ...audit, rule: SourceIdentityRule.Revoked });
      return this.releaseById(tx.manager, release.id);
    });
  }

  /**
   * The releases the caller may see, never the identity: a manager, every release on cases and
   * concerns they may see (not through break-glass); an officer, the releases to them.
   */
  list(actor: Actor, q: { state?: ReleaseState; concernId?: string; limit?: number; offset?: number }): Promise<ReleasePageDto> {
    return this.transactions.run(actor, async (tx) => {
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.SourceIdentityRelease, resourceId: q.concernId ?? null });
      return this.page(tx, q);
    });
  }

  /** The releases of one concern (404 for a concern the caller may not see, exactly as a missing one). */
  listForConcern(actor: Actor, concernId: string, q: { state?: ReleaseState; limit?: number; offset?: number }): Promise<ReleasePageDto> {
    return this.transactions.run(actor, async (tx) => {
      const { caseRow, concern } = await this.openConcern(tx, concernId, AuditAction.List, ResourceType.SourceIdentityRelease);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.SourceIdentityRelease, resourceId: concern.id, caseId: caseRow.id });
      return this.page(tx, { ...q, concernId: concern.id });
    });
  }

  /** For auditors: every release, newest first, with who asked, for whom, why and who decided; never the identity. */
  async auditReleases(actor: Actor, q: { state?: ReleaseState; concernId?: string; limit?: number; offset?: number }): Promise<ReleasePageDto> {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    await this.auditWriter.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.SourceIdentityRelease, outcome: AuditOutcome.Allowed, rule: 'source_identity_releases' });
    const where = `($1::text IS NULL OR ${EFFECTIVE_STATE} = $1) AND ($2::uuid IS NULL OR r.concern_id = $2)`;
    const rows: ReleaseRow[] = await inSystemContext(this.dataSource, SystemContext.Audit, (m) => m.query(
      `${RELEASE_SELECT} WHERE ${where} ORDER BY r.created_at DESC, r.id LIMIT $3 OFFSET $4`,
      [q.state ?? null, q.concernId ?? null, limit, offset],
    ));
    const [{ n }]: Array<{ n: string }> = await inSystemContext(this.dataSource, SystemContext.Audit, (m) => m.query(
      `SELECT count(*) AS n FROM source_identity_releases r WHERE ${where}`, [q.state ?? null, q.concernId ?? null]));
    const total = Number(n);
    return { items: rows.map(toReleaseDto), total, limit, offset };
  }

  /** For auditors: every manager's reveal (and refused attempt) as the audit trail recorded it, with the reason. */
  async auditReveals(actor: Actor, q: { limit?: number; offset?: number }): Promise<RevealPageDto> {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    await this.auditWriter.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.ConcernSource, outcome: AuditOutcome.Allowed, rule: 'source_identity_reveals' });
    const rows: Array<{ id: string; occurred_at: Date; actor_id: string | null; actor_name: string | null; resource_id: string | null; case_id: string | null; reference: string | null; outcome: string; rule: string | null; justification: string | null; total: string }> =
      await inSystemContext(this.dataSource, SystemContext.Audit, (m) => m.query(
        `SELECT e.id, e.occurred_at, e.actor_id, u.display_name AS actor_name, e.resource_id, e.case_id, c.reference, e.outcome, e.rule, e.justification, count(*) OVER () AS total
           FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id LEFT JOIN cases c ON c.id = e.case_id
          WHERE e.action = $1 ORDER BY e.occurred_at DESC, e.id LIMIT $2 OFFSET $3`,
        [AuditAction.SourceIdentityReveal, limit, offset],
      ));
    const total = rows.length > 0 ? Number(rows[0].total)
      : Number((await this.dataSource.query(`SELECT count(*) AS n FROM audit_events WHERE action = $1`, [AuditAction.SourceIdentityReveal]))[0].n);
    return {
      items: rows.map((r) => ({
        auditEventId: r.id, occurredAt: iso(r.occurred_at)!, actorId: r.actor_id, actorName: r.actor_name, concernId: r.resource_id, caseId: r.case_id,
        caseReference: r.reference, outcome: r.outcome, rule: r.rule, reason: r.justification,
      })),
      total, limit, offset,
    };
  }

  /**
   * THE one read of a source's identity (concern_sources) in this service: every disclosure
   * goes through here, after the policy has allowed it. Null when the concern has no source
   * (anonymous, or destroyed under the retention schedule).
   */
  private async readIdentity(m: EntityManager, caseId: string, concernId: string): Promise<SourceViewDto | null> {
    void caseId; // for decryption bound to the case and concern (encryption at rest)
    // Encrypted at rest under the case's data key (src/encryption): decrypted here and nowhere else.
    const [row]: Array<{ case_id: string; identity: Buffer }> = await m.query(
      `SELECT c.case_id, s.identity FROM concern_sources s JOIN concerns c ON c.id = s.concern_id WHERE s.concern_id = $1`, [concernId]);
    return row ? this.cipher.openSourceIdentity(m, row.case_id, concernId, row.identity) : null;
  }

  private async identityOrRefuse(tx: CaseFileTx, concern: ConcernFacts, action: AuditAction, justification: string | null): Promise<SourceViewDto> {
    const source = concern.has_source ? await this.readIdentity(tx.manager, concern.case_id, concern.id) : null;
    if (!source) this.refuseNoSource(tx, { action, resourceType: ResourceType.ConcernSource, resourceId: concern.id, caseId: concern.case_id, justification });
    return source!;
  }

  private refuseNoSource(tx: CaseFileTx, audit: RefusalAudit): never {
    return tx.refuse(new PreconditionFailedError('This concern has no recorded source', { precondition: 'concern_has_source' }), { ...audit, rule: 'concern_has_no_source' });
  }

  /** Turns a refusal of the policy into the API's answer (403, or 409 for a release that has moved on), audited. */
  private enforce(tx: CaseFileTx, decision: SourceIdentityDecision, audit: RefusalAudit): void {
    if (decision.allowed) return;
    const error: DomainError = decision.refusal === 'conflict'
      ? new ConflictError('This release is no longer open to that', { rule: decision.rule })
      : new ForbiddenError(FORBIDDEN_MESSAGE[decision.rule] ?? "You may not see this source's identity");
    tx.refuse(error, { ...audit, rule: decision.rule });
  }

  /**
   * Opens a concern by id for the caller: the case access policy first, then the concern's own
   * marking. A concern that is missing, on a case they may not see, or marked away from them,
   * reads "Concern not found" alike.
   */
  private async openConcern(tx: CaseFileTx, concernId: string, action: AuditAction, resourceType: ResourceType): Promise<{ caseRow: CaseRow; concern: ConcernFacts }> {
    const [found]: Array<{ case_id: string }> = await tx.manager.query(`SELECT case_id FROM concerns WHERE id = $1`, [concernId]);
    if (!found) return tx.refuseUnseenItem('concern', ResourceType.Concern, concernId, action);
    const caseRow = await tx.openCase(found.case_id, CaseAction.Read, { resourceType, auditAction: action, hiddenAs: ResourceType.Concern });
    const [concern]: ConcernFacts[] = await tx.manager.query(
      `SELECT i.id, i.case_id, i.handling, i.named_user_ids, ch_concern_has_source(i.id) AS has_source FROM concerns i WHERE i.id = $1`,
      [concernId],
    );
    const visible = itemVisibility(tx.actor.principal, { handling: concern.handling, partyId: null, namedUserIds: concern.named_user_ids });
    if (!visible.allowed) tx.refuseHiddenItem(ResourceType.Concern, concernId, caseRow.id, visible.rule, action);
    return { caseRow, concern };
  }

  /** Opens a release (locked) through its case: hidden case or concern reads as a missing release. */
  private async openRelease(tx: CaseFileTx, releaseId: string, action: AuditAction): Promise<{ release: ReleaseRow; caseRow: CaseRow; concern: ConcernFacts }> {
    const [release]: ReleaseRow[] = await tx.manager.query(`SELECT * FROM source_identity_releases WHERE id = $1 FOR UPDATE`, [releaseId]);
    if (!release) {
      // Row-level security hid it, or it does not exist: its case (never content) names the rule
      // that hid it for the audit record (the case's own rule if the case is hidden too).
      const [{ case_id: hiddenIn }]: Array<{ case_id: string | null }> = await tx.manager.query(`SELECT ch_locate_release($1) AS case_id`, [releaseId]);
      if (hiddenIn) {
        await tx.openCase(hiddenIn, CaseAction.Read, { resourceType: ResourceType.SourceIdentityRelease, auditAction: action, hiddenAs: ResourceType.SourceIdentityRelease });
        tx.refuseHiddenItem(ResourceType.SourceIdentityRelease, releaseId, hiddenIn, ROW_SECURITY_RULE, action);
      }
      tx.refuseHiddenItem(ResourceType.SourceIdentityRelease, releaseId, null, 'release_not_found', action);
    }
    const caseRow = await tx.openCase(release.case_id, CaseAction.Read, { resourceType: ResourceType.SourceIdentityRelease, auditAction: action, hiddenAs: ResourceType.SourceIdentityRelease });
    const [concern]: ConcernFacts[] = await tx.manager.query(
      `SELECT i.id, i.case_id, i.handling, i.named_user_ids, ch_concern_has_source(i.id) AS has_source FROM concerns i WHERE i.id = $1`,
      [release.concern_id],
    );
    // Row-level security hid the concern: its marking (never content) names the rule for the audit record.
    if (!concern) {
      const [item]: Array<Pick<ConcernFacts, 'handling' | 'named_user_ids'>> = await tx.manager.query(`SELECT handling, named_user_ids FROM ch_locate_item('concern', $1)`, [release.concern_id]);
      const hidden = item && itemVisibility(tx.actor.principal, { handling: item.handling, partyId: null, namedUserIds: item.named_user_ids });
      tx.refuseHiddenItem(ResourceType.SourceIdentityRelease, releaseId, caseRow.id, hidden && !hidden.allowed ? hidden.rule : ROW_SECURITY_RULE, action);
    }
    const visible = itemVisibility(tx.actor.principal, { handling: concern.handling, partyId: null, namedUserIds: concern.named_user_ids });
    if (!visible.allowed) tx.refuseHiddenItem(ResourceType.SourceIdentityRelease, releaseId, caseRow.id, visible.rule, action);
    return { release, caseRow, concern };
  }

  /** Whether a user may receive a release of this concern's source now (SourceIdentityPolicy.mayReceive). */
  private async mayReceive(m: EntityManager, userId: string, caseRow: CaseRow, concern: ConcernFacts): Promise<boolean> {
    const [user]: StoredUser[] = await m.query(`SELECT id, email, display_name, role, region, party_id, disabled_at FROM users WHERE id = $1`, [userId]);
    if (!user) return false;
    const p = principalOfUser(user);
    // Without anyone's break-glass grants: a grant never opens a source to anyone.
    const seesCase = caseVisibility(p, { ...accessFactsOf(caseRow), breakGlassGrants: [] });
    const seesConcern = itemVisibility(p, { handling: concern.handling, partyId: null, namedUserIds: concern.named_user_ids });
    return SourceIdentityPolicy.mayReceive({ role: user.role, disabled: user.disabled_at !== null }, seesCase, seesConcern);
  }

  /** Tells every other active manager who may see the case that a release awaits a decision (no identity, no names). */
  private async notifyApprovers(tx: CaseFileTx, caseRow: CaseRow, releaseId: string, excluded: string[]): Promise<void> {
    const managers: StoredUser[] = await tx.manager.query(
      `SELECT id, email, display_name, role, region, party_id, disabled_at FROM users WHERE role = $1 AND disabled_at IS NULL AND NOT (id = ANY($2::uuid[]))`,
      [Role.ClearingHouseManager, excluded],
    );
    const facts = { ...accessFactsOf(caseRow), breakGlassGrants: [] };
    const recipients = managers.filter((u) => caseVisibility(principalOfUser(u), facts).allowed).map((u) => u.id);
    await this.notifications.notify(tx.manager, recipients, {
      kind: NotificationKind.SourceIdentityRelease,
      title: `Source identity release to decide: ${caseRow.reference}`,
      body: `A clearing-house manager asked for the identity of the source of a concern on case ${caseRow.reference} to be released to a colleague. ` +
        `A second manager must approve or refuse it: POST /source-identity/releases/${releaseId}/approve or /refuse (pending ones: GET /source-identity/releases?state=requested).`,
      caseId: caseRow.id,
      dedupeKey: `source_release:${releaseId}:requested`,
    });
  }

  private async page(tx: CaseFileTx, q: { state?: ReleaseState; concernId?: string; limit?: number; offset?: number }): Promise<ReleasePageDto> {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const p = tx.actor.principal;
    const params: unknown[] = [];
    const where: string[] = [];
    const scope = caseScopeSql(p, 1);
    params.push(...scope.params);
    where.push(scope.sql);
    const items = itemScopeSql(p, params.length + 1, { partyMarking: false });
    params.push(...items.params);
    where.push(items.sql);
    // Never through break-glass: what a grant opens is read-only, and never the source.
    const viaGrant = viaBreakGlassSql(p, params.length + 1);
    params.push(...viaGrant.params);
    where.push(`NOT ${viaGrant.sql}`);
    if (!isStaff(p)) where.push('FALSE');
    else if (p.role !== Role.ClearingHouseManager) {
      params.push(p.userId);
      where.push(`r.released_to = $${params.length}`);
    }
    if (q.state) {
      params.push(q.state);
      where.push(`${EFFECTIVE_STATE} = $${params.length}`);
    }
    if (q.concernId) {
      params.push(q.concernId);
      where.push(`r.concern_id = $${params.length}::uuid`);
    }
    const from = `FROM source_identity_releases r JOIN cases c ON c.id = r.case_id JOIN authorities a ON a.id = c.authority_id JOIN concerns i ON i.id = r.concern_id`;
    const [{ n }]: Array<{ n: string }> = await tx.manager.query(`SELECT count(*) AS n ${from} WHERE ${where.join(' AND ')}`, params);
    const rows: ReleaseRow[] = await tx.manager.query(
      `${RELEASE_SELECT} JOIN authorities a ON a.id = c.authority_id JOIN concerns i ON i.id = r.concern_id
        WHERE ${where.join(' AND ')} ORDER BY r.created_at DESC, r.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { items: rows.map(toReleaseDto), total: Number(n), limit, offset };
  }

  private async releaseById(m: EntityManager, id: string): Promise<ReleaseDto> {
    const [row]: ReleaseRow[] = await m.query(`${RELEASE_SELECT} WHERE r.id = $1`, [id]);
    return toReleaseDto(row);
  }
}

const FORBIDDEN_MESSAGE: Partial<Record<SourceIdentityDecision['rule'], string>> = {
  [AccessRule.SourceNotUnderBreakGlass]: "A source's identity is never shown under break-glass access",
  [AccessRule.SourceStaffOnly]: "Only clearing-house staff may learn a source's identity",
  [SourceIdentityRule.ManagersOnly]: "Only a clearing-house manager may reveal a source's identity or decide its release",
  [SourceIdentityRule.NoActiveRelease]: "A source's identity is shown to you only under a release approved by a second manager, until it expires or is revoked",
  [SourceIdentityRule.RequesterMayNotDecide]: 'The manager who asked for a release may not decide it: a second manager must',
  [SourceIdentityRule.RecipientMayNotDecide]: 'Nobody may approve or refuse a release to themselves',
};
