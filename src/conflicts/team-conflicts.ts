import { CaseFileTx, CaseRow } from '../access-control/case-file-transaction';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { ConflictError, ForbiddenError, ValidationError } from '../common/domain-error';
import { ConflictPolicy, ConflictRule, TieFacts, TieKind } from './conflict-policy';

/**
 * Checks a team addition against the candidate's declared ties and recusals (called by
 * CasesService.addTeamMember inside its transaction, after the caller was allowed to manage the
 * team). Refuses (audited) with 409 naming the conflict, or 403 for an override the caller may
 * not make; an allowed override is queued in the audit trail with the manager's reason.
 */
export async function checkTeamConflicts(
  tx: CaseFileTx,
  row: Pick<CaseRow, 'id' | 'authority_id' | 'authority_code'>,
  candidateUserId: string,
  request: { overrideConflict?: boolean; overrideReason?: string },
): Promise<void> {
  if (request.overrideReason !== undefined && request.overrideConflict !== true) {
    throw new ValidationError([{ field: 'overrideConflict', messages: ['overrideReason is given only with overrideConflict: true'] }]);
  }
  const ties: Array<{ id: string; kind: TieKind; authority_id: string | null; ended_at: Date | null }> = await tx.manager.query(
    `SELECT id, kind, authority_id, ended_at FROM conflict_declarations WHERE user_id = $1 AND ended_at IS NULL AND authority_id = $2`,
    [candidateUserId, row.authority_id],
  );
  const [{ recused }]: Array<{ recused: boolean }> = await tx.manager.query(
    `SELECT EXISTS (SELECT 1 FROM case_recusals WHERE case_id = $1 AND user_id = $2 AND withdrawn_at IS NULL) AS recused`,
    [row.id, candidateUserId],
  );
  const facts: TieFacts[] = ties.map((t) => ({ id: t.id, kind: t.kind, authorityId: t.authority_id, endedAt: t.ended_at }));
  const decision = ConflictPolicy.teamAdd({
    actor: { userId: tx.actor.principal.userId, role: tx.actor.principal.role },
    candidateUserId,
    caseAuthorityId: row.authority_id,
    ties: facts,
    candidateRecused: recused,
    override: request.overrideConflict ? { reason: request.overrideReason ?? '' } : null,
  });
  // Kinds and declaration ids only: the free-text detail of a tie stays with its declaration.
  const conflict = {
    rule: decision.rule,
    userId: candidateUserId,
    authority: row.authority_code,
    declarations: decision.outcome === 'clear' ? [] : decision.conflicting.map((t) => ({ id: t.id, kind: t.kind })),
  };
  const audit = { action: AuditAction.AddTeamMember, resourceType: ResourceType.Team, resourceId: candidateUserId, caseId: row.id, rule: decision.rule };
  if (decision.outcome === 'refused') {
    if (decision.refusal === 'forbidden') {
      tx.refuse(
        new ForbiddenError(
          decision.rule === ConflictRule.OverrideNotForYourself
            ? 'You may not override a conflict of interest of your own: another clearing-house manager must'
            : 'Only a clearing-house manager may override a conflict of interest',
        ),
        { ...audit, action: AuditAction.OverrideConflict, justification: request.overrideReason ?? null },
      );
    }
    tx.refuse(
      new ConflictError(
        decision.rule === ConflictRule.CandidateRecused
          ? 'The user recused themselves from this case; a clearing-house manager must withdraw the recusal first'
          : 'The user declared a tie to this authority: a clearing-house manager may add them with overrideConflict and a reason',
        { conflict },
      ),
      audit,
    );
  }
  if (decision.outcome === 'overridden') {
    tx.audit({ ...audit, action: AuditAction.OverrideConflict, justification: request.overrideReason ?? null });
  }
}
