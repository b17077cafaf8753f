import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, AuditOutcome, ResourceType, AuditAction } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { DomainError, ForbiddenError, NotFoundError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { recordIdempotencyKey } from '../idempotency/idempotency-context';
import { CaseState } from '../workflow/case-state';
import { actAsUser } from '../database/row-security';
import { compartmentOfRecord } from '../compartments/compartment-facts';
import { AccessDecision, AccessRule, CaseAccessFacts, CaseAction, caseActionDecision, itemVisibility } from './case-access-policy';
import { ItemHandling, TeamRole } from './handling';
import { Region } from './role';

/**
 * A refusal that must leave an audit record. Thrown inside a case transaction; the
 * transaction rolls back, then the refusal is recorded in its own transaction.
 */
export class RefusedAccess extends Error {
  constructor(
    readonly publicError: DomainError,
    readonly audit: AuditEntry,
  ) {
    super(publicError.message);
  }
}

export interface CaseRow {
  id: string;
  reference: string;
  authority_id: string;
  authority_code: string;
  authority_name: string;
  authority_region: Region | null;
  state: CaseState;
  handling: string;
  government_department: string | null;
  government_power: string | null;
  government_trigger_at: Date | null;
  referred_to_riep_at: Date | null;
  outcome: string | null;
  outcome_reason: string | null;
  closed_at: Date | null;
  opened_at: Date;
  opened_by: string;
  updated_at: Date;
  version: number;
  restricted_to_team: boolean;
  restricted_by: string | null;
  restricted_at: Date | null;
  team: Array<{ userId: string; teamRole: TeamRole; displayName: string; addedAt: string }>;
  /** Unexpired break-glass grants on the case. */
  break_glass_grants: Array<{ userId: string; expiresAt: string }>;
  /** Users with an unwithdrawn recusal from the case (src/conflicts). */
  recused_user_ids: string[];
}

export const CASE_SELECT = `
  SELECT c.id, c.reference, c.authority_id, a.code AS authority_code, a.official_name AS authority_name, a.region AS authority_region,
         c.state, c.handling, c.government_department, c.government_power, c.government_trigger_at, c.referred_to_riep_at,
         c.outcome, c.outcome_reason, c.closed_at, c.opened_at, c.opened_by, c.updated_at, c.version,
         c.restricted_to_team, c.restricted_by, c.restricted_at,
         coalesce((SELECT jsonb_agg(jsonb_build_object('userId', tm.user_id, 'teamRole', tm.team_role, 'displayName', u.display_name, 'addedAt', tm.added_at) ORDER BY tm.added_at)
                     FROM case_team_members tm JOIN users u ON u.id = tm.user_id
                    WHERE tm.case_id = c.id AND tm.removed_at IS NULL), '[]') AS team,
         coalesce((SELECT jsonb_agg(jsonb_build_object('userId', g.user_id, 'expiresAt', g.expires_at))
                     FROM break_glass_grants g WHERE g.case_id = c.id AND g.expires_at > now()), '[]') AS break_glass_grants,
         coalesce((SELECT jsonb_agg(r.user_id) FROM case_recusals r WHERE r.case_id = c.id AND r.withdrawn_at IS NULL), '[]') AS recused_user_ids
    FROM cases c JOIN authorities a ON a.id = c.authority_id`;

export function accessFactsOf(row: CaseRow): CaseAccessFacts {
  return {
    authorityRegion: row.authority_region,
    referredToRiepAt: row.referred_to_riep_at,
    team: row.team,
    restrictedToTeam: row.restricted_to_team,
    restrictedBy: row.restricted_by,
    breakGlassGrants: row.break_glass_grants,
    recusedUserIds: row.recused_user_ids,
  };
}

/** The one "not found" answer for a kind of record, whether it is missing or hidden from the caller. */
function notFoundError(resourceType: ResourceType): NotFoundError {
  return new NotFoundError(resourceType.charAt(0).toUpperCase() + resourceType.slice(1).replace(/_/g, ' '));
}

/** The audit rule of a refusal by the database's row-level security alone (the application's policy would have allowed it). */
export const ROW_SECURITY_RULE = 'row_security';

/** Items `refuseUnseenItem` can locate (ch_locate_item in migrations/1764381300000-RowLevelSecurity.ts). */
export type LocatableItem = 'concern' | 'conversation' | 'meeting' | 'support';

interface CaseRefusalFacts {
  id: string;
  reference: string;
  authority_region: Region | null;
  referred_to_riep_at: Date | null;
  restricted_to_team: boolean;
  restricted_by: string | null;
  team: Array<{ userId: string; teamRole: TeamRole }>;
  break_glass_grants: Array<{ userId: string; expiresAt: string }>;
}

function refusalFactsOf(f: CaseRefusalFacts): CaseAccessFacts {
  return {
    authorityRegion: f.authority_region, referredToRiepAt: f.referred_to_riep_at, team: f.team,
    restrictedToTeam: f.restricted_to_team, restrictedBy: f.restricted_by, breakGlassGrants: f.break_glass_grants,
  };
}

/** A command that locks a case is about to change it: never under break-glass (read only). */
function lockedUnderBreakGlass(lock: boolean | undefined, visible: AccessDecision): boolean {
  return !!lock && visible.rule === AccessRule.BreakGlass;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One command against the case file: one transaction, the caller's policy, and its audit records. */
export class CaseFileTx {
  private readonly pending: AuditEntry[] = [];
  /** How the caller came to see each case this command opened. */
  private readonly access = new Map<string, AccessDecision>();

  constructor(
    readonly manager: EntityManager,
    readonly actor: Actor,
  ) {}

  /**
   * Queues an audit record; all are written, in this transaction, before it commits. What is
   * done on a case the caller sees only through break-glass is recorded under rule 'break_glass'.
   */
  audit(entry: Omit<AuditEntry, 'outcome'> & { outcome?: AuditOutcome }): void {
    const underBreakGlass = !!entry.caseId && this.viaBreakGlass(entry.caseId) && (entry.outcome ?? AuditOutcome.Allowed) === AuditOutcome.Allowed;
    this.pending.push({ outcome: AuditOutcome.Allowed, ...entry, ...(underBreakGlass ? { rule: AccessRule.BreakGlass } : {}) });
  }

  /** The decision that let the caller see a case opened in this command (undefined if not opened). */
  accessTo(caseId: string): AccessDecision | undefined {
    return this.access.get(caseId);
  }

  /** Whether the caller sees this case only through a break-glass grant. */
  viaBreakGlass(caseId: string): boolean {
    return this.access.get(caseId)?.rule === AccessRule.BreakGlass;
  }

  takeAudit(): AuditEntry[] {
    return this.pending.splice(0);
  }

  /**
   * Loads a case by id or reference and checks the caller may do `action` on it. A case they
   * may not see is "not found", exactly as one that does not exist; a case they may see but
   * not act on is "forbidden". Both refusals are audited. `lock` takes the row lock that
   * serialises commands on one case. `hiddenAs` is for a record looked up by its own id (a
   * concern, a conversation record, a support item, a meeting): its case being hidden must read
   * exactly as the record not existing, or the answer would tell that it exists.
   */
  async openCase(
    idOrReference: string,
    action: CaseAction,
    opts: { lock?: boolean; resourceType?: ResourceType; auditAction?: AuditAction; hiddenAs?: ResourceType } = {},
  ): Promise<CaseRow> {
    const byId = UUID.test(idOrReference);
    const rows: CaseRow[] = await this.manager.query(
      `${CASE_SELECT} WHERE ${byId ? 'c.id = $1::uuid' : 'c.reference = $1'} ${opts.lock ? 'FOR UPDATE OF c' : ''}`,
      [idOrReference],
    );
    const row = rows[0];
    const auditAction = opts.auditAction ?? (action === CaseAction.Read ? AuditAction.Read : AuditAction.Update);
    const resourceType = opts.resourceType ?? ResourceType.Case;
    const notFound = () => (opts.hiddenAs ? notFoundError(opts.hiddenAs) : new NotFoundError('Case'));
    if (!row) {
      // Row-level security hid it, or it does not exist: the access facts (never content) say
      // which rule hid it, for the audit record; the answer is "not found" either way.
      const [facts]: CaseRefusalFacts[] = await this.manager.query(`SELECT * FROM ch_case_refusal_facts($1)`, [idOrReference]);
      // A recusal hides the case from its user in the database too (migrations/1764381500000-Conflicts.ts): name it.
      const recused = facts ? (await this.manager.query(`SELECT ch_is_recused($1::uuid) AS r`, [facts.id]))[0].r === true : false;
      const hiddenFacts = facts ? { ...refusalFactsOf(facts), recusedUserIds: recused ? [this.actor.principal.userId] : [] } : undefined;
      const hidden = hiddenFacts ? caseActionDecision(this.actor.principal, action, hiddenFacts).visible : undefined;
      const rule = !facts ? 'case_not_found' : !hidden!.allowed ? hidden!.rule : lockedUnderBreakGlass(opts.lock, hidden!) ? AccessRule.BreakGlassReadOnly : ROW_SECURITY_RULE;
      if (rule === AccessRule.BreakGlassReadOnly) {
        throw new RefusedAccess(new ForbiddenError('Break-glass access is read-only'), {
          action: auditAction, resourceType, resourceId: facts.id, caseId: facts.id, outcome: AuditOutcome.Denied, rule,
        });
      }
      throw new RefusedAccess(notFound(), {
        action: auditAction, resourceType, resourceId: facts?.id ?? idOrReference.slice(0, 64), caseId: facts?.id ?? null, outcome: AuditOutcome.Denied, rule,
      });
    }
    const decision = caseActionDecision(this.actor.principal, action, accessFactsOf(row));
    // A command that locks the case is about to change it: never under break-glass (read only),
    // whatever action it opened the case for (a workflow move opens it to read, then decides).
    if (opts.lock && decision.action.allowed && decision.visible.rule === AccessRule.BreakGlass) {
      decision.action = { allowed: false, rule: AccessRule.BreakGlassReadOnly };
    }
    if (!decision.visible.allowed) {
      throw new RefusedAccess(notFound(), {
        action: auditAction, resourceType, resourceId: row.id, caseId: row.id, outcome: AuditOutcome.Denied, rule: decision.visible.rule,
      });
    }
    if (!decision.action.allowed) {
      const message =
        decision.action.rule === AccessRule.BreakGlassReadOnly
          ? 'Break-glass access is read-only'
          : `Your role may not ${action.replace(/_/g, ' ')} on this case`;
      throw new RefusedAccess(new ForbiddenError(message), {
        action: auditAction, resourceType, resourceId: row.id, caseId: row.id, outcome: AuditOutcome.Denied, rule: decision.action.rule,
      });
    }
    this.access.set(row.id, decision.visible);
    return row;
  }

  /**
   * The access facts (never content) of a case by id or reference, whether or not row-level
   * security lets the caller read it: for break-glass, which is asked for exactly on a case the
   * caller cannot see.
   */
  async caseAccessFacts(idOrReference: string): Promise<{ id: string; reference: string; facts: CaseAccessFacts } | undefined> {
    const [f]: CaseRefusalFacts[] = await this.manager.query(`SELECT * FROM ch_case_refusal_facts($1)`, [idOrReference]);
    return f && { id: f.id, reference: f.reference, facts: refusalFactsOf(f) };
  }

  /**
   * Refuses with 404 an item the caller's own query did not return (row-level security hid it,
   * or it does not exist), auditing the rule that hid it: its case's, its marking's, or, where
   * the application's policy would have shown it, the database's (`row_security`).
   */
  async refuseUnseenItem(kind: LocatableItem, resourceType: ResourceType, resourceId: string, action = AuditAction.Read, missingRule = `${kind}_not_found`): Promise<never> {
    const [item]: Array<{ case_id: string; handling: ItemHandling; party_id: string | null; named_user_ids: string[] }> =
      await this.manager.query(`SELECT * FROM ch_locate_item($1, $2)`, [kind, resourceId]);
    if (!item) this.refuseHiddenItem(resourceType, resourceId, null, missingRule, action);
    await this.openCase(item.case_id, CaseAction.Read, { resourceType, auditAction: action, hiddenAs: resourceType });
    // A conversation record in a compartment the caller is outside of (src/compartments) names that rule.
    const compartment = kind === 'conversation' ? await compartmentOfRecord(this.manager, resourceId) : null;
    const visible = itemVisibility(this.actor.principal, { handling: item.handling, partyId: item.party_id, namedUserIds: item.named_user_ids, compartment });
    this.refuseHiddenItem(resourceType, resourceId, item.case_id, visible.allowed ? ROW_SECURITY_RULE : visible.rule, action);
  }

  /** Refuses with 404 (and an audit record) an item the caller may not see inside a case they can. */
  refuseHiddenItem(resourceType: ResourceType, resourceId: string, caseId: string | null, rule: AccessRule | string, action = AuditAction.Read): never {
    throw new RefusedAccess(notFoundError(resourceType), {
      action, resourceType, resourceId, caseId, outcome: AuditOutcome.Denied, rule,
    });
  }

  refuse(error: DomainError, audit: Omit<AuditEntry, 'outcome'>): never {
    throw new RefusedAccess(error, { ...audit, outcome: AuditOutcome.Denied });
  }
}

@Injectable()
export class CaseFileTransactions {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly auditWriter: AuditWriter,
  ) {}

  /**
   * Runs one command in one transaction. The audit records it queued are written in the
   * same transaction just before commit: if they cannot be written, nothing is returned.
   */
  async run<T>(actor: Actor, command: (tx: CaseFileTx) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        // First: the database's row-level security sees this user, for this transaction only.
        await actAsUser(manager, actor.principal.userId);
        const tx = new CaseFileTx(manager, actor);
        const result = await command(tx);
        // An Idempotency-Key commits with what it created, or not at all (src/idempotency).
        await recordIdempotencyKey(manager, actor, result);
        await this.auditWriter.record(manager, actor, tx.takeAudit());
        return result;
      });
    } catch (error) {
      if (error instanceof RefusedAccess) {
        await this.auditWriter.recordNow(actor, error.audit);
        throw error.publicError;
      }
      // Row-level security refused a write the application let through: refused and audited
      // like any other refusal, never a 500 (the database is the second lock, not a crash).
      const driverError = (error as { driverError?: { code?: string; message?: string } })?.driverError;
      if (driverError?.code === '42501' && /row-level security/.test(driverError.message ?? '')) {
        await this.auditWriter.recordNow(actor, { action: AuditAction.Update, resourceType: ResourceType.Case, outcome: AuditOutcome.Denied, rule: ROW_SECURITY_RULE });
        throw new ForbiddenError('This change is not allowed');
      }
      if ((error as { code?: string; driverError?: { code?: string } })?.driverError?.code === '40001') {
        throw new DomainError(ErrorCode.VersionConflict, 'The case was changed by someone else at the same time; reload it and try again');
      }
      throw error;
    }
  }
}
