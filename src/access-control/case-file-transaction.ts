import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, AuditOutcome, ResourceType, AuditAction } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { DomainError, ForbiddenError, NotFoundError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { CaseState } from '../workflow/case-state';
import { AccessDecision, AccessRule, CaseAccessFacts, CaseAction, caseActionDecision } from './case-access-policy';
import { TeamRole } from './handling';
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
                     FROM break_glass_grants g WHERE g.case_id = c.id AND g.expires_at > now()), '[]') AS break_glass_grants
    FROM cases c JOIN authorities a ON a.id = c.authority_id`;

export function accessFactsOf(row: CaseRow): CaseAccessFacts {
  return {
    authorityRegion: row.authority_region,
    referredToRiepAt: row.referred_to_riep_at,
    team: row.team,
    restrictedToTeam: row.restricted_to_team,
    restrictedBy: row.restricted_by,
    breakGlassGrants: row.break_glass_grants,
  };
}

/** The one "not found" answer for a kind of record, whether it is missing or hidden from the caller. */
function notFoundError(resourceType: ResourceType): NotFoundError {
  return new NotFoundError(resourceType.charAt(0).toUpperCase() + resourceType.slice(1).replace(/_/g, ' '));
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
      throw new RefusedAccess(notFound(), {
        action: auditAction, resourceType, resourceId: idOrReference.slice(0, 64), outcome: AuditOutcome.Denied, rule: 'case_not_found',
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
        const tx = new CaseFileTx(manager, actor);
        const result = await command(tx);
        await this.auditWriter.record(manager, actor, tx.takeAudit());
        return result;
      });
    } catch (error) {
      if (error instanceof RefusedAccess) {
        await this.auditWriter.recordNow(actor, error.audit);
        throw error.publicError;
      }
      if ((error as { code?: string; driverError?: { code?: string } })?.driverError?.code === '40001') {
        throw new DomainError(ErrorCode.VersionConflict, 'The case was changed by someone else at the same time; reload it and try again');
      }
      throw error;
    }
  }
}
