import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, AuditOutcome, ResourceType, AuditAction } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { DomainError, ForbiddenError, NotFoundError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { CaseState } from '../workflow/case-state';
import { AccessRule, CaseAccessFacts, CaseAction, caseActionDecision } from './case-access-policy';
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
  team: Array<{ userId: string; teamRole: TeamRole; displayName: string; addedAt: string }>;
}

export const CASE_SELECT = `
  SELECT c.id, c.reference, c.authority_id, a.code AS authority_code, a.official_name AS authority_name, a.region AS authority_region,
         c.state, c.handling, c.government_department, c.government_power, c.government_trigger_at, c.referred_to_riep_at,
         c.outcome, c.outcome_reason, c.closed_at, c.opened_at, c.opened_by, c.updated_at, c.version,
         coalesce((SELECT jsonb_agg(jsonb_build_object('userId', tm.user_id, 'teamRole', tm.team_role, 'displayName', u.display_name, 'addedAt', tm.added_at) ORDER BY tm.added_at)
                     FROM case_team_members tm JOIN users u ON u.id = tm.user_id
                    WHERE tm.case_id = c.id AND tm.removed_at IS NULL), '[]') AS team
    FROM cases c JOIN authorities a ON a.id = c.authority_id`;

export function accessFactsOf(row: CaseRow): CaseAccessFacts {
  return { authorityRegion: row.authority_region, referredToRiepAt: row.referred_to_riep_at, team: row.team };
}

/** The one "not found" answer for a kind of record, whether it is missing or hidden from the caller. */
function notFoundError(resourceType: ResourceType): NotFoundError {
  return new NotFoundError(resourceType.charAt(0).toUpperCase() + resourceType.slice(1).replace(/_/g, ' '));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One command against the case file: one transaction, the caller's policy, and its audit records. */
export class CaseFileTx {
  private readonly pending: AuditEntry[] = [];

  constructor(
    readonly manager: EntityManager,
    readonly actor: Actor,
  ) {}

  /** Queues an audit record; all are written, in this transaction, before it commits. */
  audit(entry: Omit<AuditEntry, 'outcome'> & { outcome?: AuditOutcome }): void {
    this.pending.push({ outcome: AuditOutcome.Allowed, ...entry });
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
    if (!decision.visible.allowed) {
      throw new RefusedAccess(notFound(), {
        action: auditAction, resourceType, resourceId: row.id, caseId: row.id, outcome: AuditOutcome.Denied, rule: decision.visible.rule,
      });
    }
    if (!decision.action.allowed) {
      throw new RefusedAccess(new ForbiddenError(`Your role may not ${action.replace(/_/g, ' ')} on this case`), {
        action: auditAction, resourceType, resourceId: row.id, caseId: row.id, outcome: AuditOutcome.Denied, rule: decision.action.rule,
      });
    }
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
