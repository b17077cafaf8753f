import { Injectable } from '@nestjs/common';
import { CaseAction } from '../access-control/case-access-policy';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { Actor } from '../auth/actor.decorator';
import { ConflictError, ForbiddenError, ValidationError } from '../common/domain-error';
import { iso } from '../cases/case-mappers';
import { ConflictPolicy, ConflictRule, TieKind } from './conflict-policy';
import { CaseRecusalDto, DeclareTieDto, RecusalDto, TieDto, WithdrawRecusalDto } from './dto';

interface TieRow {
  id: string;
  user_id: string;
  kind: TieKind;
  authority_id: string | null;
  authority_code: string | null;
  authority_name: string | null;
  party_id: string | null;
  party_name: string | null;
  detail: string | null;
  declared_at: Date;
  ended_at: Date | null;
}

const TIE_SELECT = `
  SELECT d.id, d.user_id, d.kind, d.authority_id, a.code AS authority_code, a.official_name AS authority_name,
         d.party_id, p.name AS party_name, d.detail, d.declared_at, d.ended_at
    FROM conflict_declarations d
    LEFT JOIN authorities a ON a.id = d.authority_id
    LEFT JOIN parties p ON p.id = d.party_id`;

function toTieDto(r: TieRow): TieDto {
  return {
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    authority: r.authority_id ? { id: r.authority_id, code: r.authority_code!, name: r.authority_name! } : null,
    party: r.party_id ? { id: r.party_id, name: r.party_name! } : null,
    detail: r.detail,
    declaredAt: iso(r.declared_at)!,
    endedAt: iso(r.ended_at),
  };
}

/**
 * Declared ties and recusals (issue 8, point 4). Every command runs in one transaction under
 * the caller's row-level security, with its audit records (never a tie's detail, which can name
 * people; a recusal's reason only as the record's justification, as for break-glass).
 */
@Injectable()
export class ConflictsService {
  constructor(private readonly transactions: CaseFileTransactions) {}

  listOwn(actor: Actor): Promise<TieDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const rows: TieRow[] = await tx.manager.query(`${TIE_SELECT} WHERE d.user_id = $1 ORDER BY d.declared_at DESC, d.id`, [actor.principal.userId]);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.ConflictDeclaration, resourceId: actor.principal.userId });
      return rows.map(toTieDto);
    });
  }

  /** Managers (who compose case teams) and administrators: one user's declarations, current and ended. */
  listOfUser(actor: Actor, userId: string): Promise<TieDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const [user] = await tx.manager.query(`SELECT id FROM users WHERE id = $1`, [userId]);
      if (!user) tx.refuseHiddenItem(ResourceType.User, userId, null, 'user_not_found', AuditAction.List);
      const rows: TieRow[] = await tx.manager.query(`${TIE_SELECT} WHERE d.user_id = $1 ORDER BY d.declared_at DESC, d.id`, [userId]);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.ConflictDeclaration, resourceId: userId });
      return rows.map(toTieDto);
    });
  }

  declare(actor: Actor, dto: DeclareTieDto): Promise<TieDto> {
    return this.transactions.run(actor, async (tx) => {
      const missing = ConflictPolicy.missingField(dto.kind, { authority: !!dto.authority, detail: !!dto.detail });
      if (missing) throw new ValidationError([{ field: missing, messages: [`${missing} is required for a tie of kind ${dto.kind}`] }]);
      let authorityId: string | null = null;
      if (dto.authority) {
        const [authority]: Array<{ id: string }> = await tx.manager.query(`SELECT id FROM authorities WHERE code = $1 OR gss_code = $1`, [dto.authority]);
        if (!authority) throw new ValidationError([{ field: 'authority', messages: ['authority is not in the register'] }]);
        authorityId = authority.id;
      }
      if (dto.partyId) {
        const [party] = await tx.manager.query(`SELECT id FROM parties WHERE id = $1`, [dto.partyId]);
        if (!party) throw new ValidationError([{ field: 'partyId', messages: ['partyId must name a party'] }]);
      }
      const [created]: Array<{ id: string }> = await tx.manager.query(
        `INSERT INTO conflict_declarations (user_id, kind, authority_id, party_id, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [actor.principal.userId, dto.kind, authorityId, dto.partyId ?? null, dto.detail ?? null],
      );
      tx.audit({ action: AuditAction.DeclareConflict, resourceType: ResourceType.ConflictDeclaration, resourceId: created.id, rule: dto.kind });
      const [row]: TieRow[] = await tx.manager.query(`${TIE_SELECT} WHERE d.id = $1`, [created.id]);
      return toTieDto(row);
    });
  }

  /** Ends one of your own declarations (kept, with the time it ended). Someone else's reads as missing. */
  end(actor: Actor, declarationId: string): Promise<TieDto> {
    return this.transactions.run(actor, async (tx) => {
      const [own]: Array<{ ended_at: Date | null }> = await tx.manager.query(
        `SELECT ended_at FROM conflict_declarations WHERE id = $1 AND user_id = $2 FOR UPDATE`, [declarationId, actor.principal.userId]);
      if (!own) tx.refuseHiddenItem(ResourceType.ConflictDeclaration, declarationId, null, 'declaration_not_yours', AuditAction.EndConflictDeclaration);
      if (own.ended_at) throw new ConflictError('This declaration has already ended');
      await tx.manager.query(`UPDATE conflict_declarations SET ended_at = now() WHERE id = $1`, [declarationId]);
      tx.audit({ action: AuditAction.EndConflictDeclaration, resourceType: ResourceType.ConflictDeclaration, resourceId: declarationId });
      const [row]: TieRow[] = await tx.manager.query(`${TIE_SELECT} WHERE d.id = $1`, [declarationId]);
      return toTieDto(row);
    });
  }

  /**
   * The caller steps away from a case they may see. From the next statement on they see nothing
   * of it (AccessRule.Recused, and the database's own policy), and they leave its team. Not
   * under a break-glass grant's read-only rule: stepping away changes nothing of the case file.
   */
  recuse(actor: Actor, caseIdOrReference: string, reason: string | null): Promise<RecusalDto> {
    return this.transactions.run(actor, async (tx) => {
      const m = tx.manager;
      const row = await tx.openCase(caseIdOrReference, CaseAction.Read, { resourceType: ResourceType.Recusal, auditAction: AuditAction.Recuse });
      // The case's row lock serialises this with a manager adding the caller to the team (which
      // checks for a recusal under the same lock). A break-glass reader may not lock (read only)
      // and is never on the team.
      if (!tx.viaBreakGlass(row.id)) await m.query(`SELECT id FROM cases WHERE id = $1 FOR UPDATE`, [row.id]);
      const [created]: Array<{ id: string; recused_at: Date }> = await m.query(
        `INSERT INTO case_recusals (case_id, user_id, reason) VALUES ($1, $2, $3) RETURNING id, recused_at`,
        [row.id, actor.principal.userId, reason],
      );
      // From here on the database shows this user nothing of the case: leaving its team is the one change left, made by a narrow function.
      const [{ left }]: Array<{ left: number }> = await m.query(`SELECT ch_leave_case_team($1::uuid) AS left`, [row.id]);
      const leftTeam = left > 0;
      if (leftTeam) {
        tx.audit({ action: AuditAction.RemoveTeamMember, resourceType: ResourceType.Team, resourceId: actor.principal.userId, caseId: row.id, rule: ConflictRule.SelfRecusal });
      }
      tx.audit({ action: AuditAction.Recuse, resourceType: ResourceType.Recusal, resourceId: created.id, caseId: row.id, rule: ConflictRule.SelfRecusal, justification: reason });
      return { id: created.id, caseId: row.id, caseReference: row.reference, recusedAt: iso(created.recused_at)!, leftTeam };
    });
  }

  /** Every recusal on a case, withdrawn ones too (clearing-house managers who may manage its team). */
  listForCase(actor: Actor, caseIdOrReference: string): Promise<CaseRecusalDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseIdOrReference, CaseAction.ManageTeam, { resourceType: ResourceType.Recusal, auditAction: AuditAction.List });
      const rows: Array<{ id: string; user_id: string; display_name: string; reason: string | null; recused_at: Date; withdrawn_at: Date | null; withdrawn_by: string | null; withdraw_reason: string | null }> =
        await tx.manager.query(
          `SELECT r.id, r.user_id, u.display_name, r.reason, r.recused_at, r.withdrawn_at, r.withdrawn_by, r.withdraw_reason
             FROM case_recusals r JOIN users u ON u.id = r.user_id WHERE r.case_id = $1 ORDER BY r.recused_at DESC, r.id`,
          [row.id],
        );
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Recusal, resourceId: row.id, caseId: row.id });
      return rows.map((r) => ({
        id: r.id, userId: r.user_id, userName: r.display_name, reason: r.reason, recusedAt: iso(r.recused_at)!,
        withdrawnAt: iso(r.withdrawn_at), withdrawnBy: r.withdrawn_by, withdrawReason: r.withdraw_reason,
      }));
    });
  }

  /**
   * A clearing-house manager lifts someone's recusal, with a reason: their access is back as
   * their role gives it (a peer or a facilitator who was on the team must be added again).
   */
  withdraw(actor: Actor, caseIdOrReference: string, dto: WithdrawRecusalDto): Promise<CaseRecusalDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseIdOrReference, CaseAction.ManageTeam, { lock: true, resourceType: ResourceType.Recusal, auditAction: AuditAction.WithdrawRecusal });
      const decision = ConflictPolicy.withdrawRecusal({ userId: actor.principal.userId, role: actor.principal.role }, dto.userId);
      if (!decision.allowed) {
        tx.refuse(new ForbiddenError('Only a clearing-house manager other than the recused user may withdraw a recusal'), {
          action: AuditAction.WithdrawRecusal, resourceType: ResourceType.Recusal, resourceId: dto.userId, caseId: row.id, rule: decision.rule,
        });
      }
      const [updated]: Array<{ id: string }> = await tx.manager.query(
        `UPDATE case_recusals SET withdrawn_at = now(), withdrawn_by = $3, withdraw_reason = $4
          WHERE case_id = $1 AND user_id = $2 AND withdrawn_at IS NULL RETURNING id`,
        [row.id, dto.userId, actor.principal.userId, dto.reason],
      ).then((r: [Array<{ id: string }>, number]) => r[0]);
      if (!updated) tx.refuseHiddenItem(ResourceType.Recusal, dto.userId, row.id, 'no_current_recusal', AuditAction.WithdrawRecusal);
      tx.audit({ action: AuditAction.WithdrawRecusal, resourceType: ResourceType.Recusal, resourceId: updated.id, caseId: row.id, rule: decision.rule, justification: dto.reason });
      const [r]: Array<{ id: string; user_id: string; display_name: string; reason: string | null; recused_at: Date; withdrawn_at: Date; withdrawn_by: string; withdraw_reason: string }> =
        await tx.manager.query(
          `SELECT r.id, r.user_id, u.display_name, r.reason, r.recused_at, r.withdrawn_at, r.withdrawn_by, r.withdraw_reason
             FROM case_recusals r JOIN users u ON u.id = r.user_id WHERE r.id = $1`,
          [updated.id],
        );
      return {
        id: r.id, userId: r.user_id, userName: r.display_name, reason: r.reason, recusedAt: iso(r.recused_at)!,
        withdrawnAt: iso(r.withdrawn_at), withdrawnBy: r.withdrawn_by, withdrawReason: r.withdraw_reason,
      };
    });
  }
}
