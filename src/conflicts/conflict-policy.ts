import { Role } from '../access-control/role';

/** The kinds of tie a user may declare about themselves. Stable names: stored and shown. */
export enum TieKind {
  /** Works for a council (an officer, an employee): names the council. */
  AuthorityEmployment = 'authority_employment',
  /** Represents a council (a councillor, a member): names the council. */
  AuthorityRepresentation = 'authority_representation',
  /** Another employer (detail: who); may name a council it concerns. */
  Employer = 'employer',
  /** A role in a political party (detail: which role); may name the party. */
  PartyRole = 'party_role',
  /** A personal tie to named people (detail: who, and how); may name the council they belong to. */
  PersonalTie = 'personal_tie',
}

/** Kinds whose declaration must name a council. */
export const AUTHORITY_KINDS: readonly TieKind[] = [TieKind.AuthorityEmployment, TieKind.AuthorityRepresentation];
/** Kinds whose declaration must say who or what, in `detail`. */
export const DETAIL_KINDS: readonly TieKind[] = [TieKind.Employer, TieKind.PartyRole, TieKind.PersonalTie];

/** The rules these decisions name in the audit trail and in refusals. */
export enum ConflictRule {
  /** The candidate declared a tie to the case's authority: refused without an override. */
  DeclaredTie = 'conflict_of_interest',
  /** The candidate recused themselves from this case: a manager must withdraw the recusal first. */
  CandidateRecused = 'conflict_candidate_recused',
  /** A clearing-house manager overrode a declared tie, giving a reason. */
  Overridden = 'conflict_overridden',
  /** Only clearing-house managers override a declared tie. */
  OverrideManagersOnly = 'conflict_override_managers_only',
  /** Nobody overrides a tie of their own: a second person decides. */
  OverrideNotForYourself = 'conflict_override_not_for_yourself',
  /** No declared tie to the case's authority. */
  Clear = 'no_conflict',
  /** Anyone who may see a case may recuse themselves from it. */
  SelfRecusal = 'self_recusal',
  /** Only a clearing-house manager withdraws a recusal (never the recused person: they cannot see the case). */
  WithdrawManagersOnly = 'recusal_withdrawal_managers_only',
  RecusalWithdrawn = 'recusal_withdrawn',
}

/** A declared tie, as the policy needs it (never its free-text detail). */
export interface TieFacts {
  id: string;
  kind: TieKind;
  authorityId: string | null;
  endedAt: Date | string | null;
}

export interface TeamAddRequest {
  actor: { userId: string; role: Role };
  candidateUserId: string;
  caseAuthorityId: string;
  /** The candidate's declarations (ended ones are ignored). */
  ties: readonly TieFacts[];
  /** Whether the candidate has an unwithdrawn recusal from this case. */
  candidateRecused: boolean;
  /** The manager's override: present only when asked for, with their reason (already validated as given). */
  override?: { reason: string } | null;
}

export type TeamAddDecision =
  | { outcome: 'clear'; rule: ConflictRule.Clear }
  | { outcome: 'overridden'; rule: ConflictRule.Overridden; conflicting: TieFacts[] }
  | { outcome: 'refused'; rule: ConflictRule; refusal: 'conflict' | 'forbidden'; conflicting: TieFacts[] };

/**
 * Conflicts of interest (issue 8, point 4): pure decisions, tested on their own
 * (conflict-policy.spec.ts) and through the API (test/conflicts).
 */
export class ConflictPolicy {
  /** The ties that conflict with work on a case about this authority: current ones naming it. */
  static conflictingTies(ties: readonly TieFacts[], authorityId: string): TieFacts[] {
    return ties.filter((t) => t.endedAt === null && t.authorityId !== null && t.authorityId === authorityId);
  }

  /**
   * May the candidate join a case team? A recusal always stops it (withdraw it first: an
   * override must not quietly undo someone's own decision to step away). A declared tie to the
   * case's authority stops it unless a clearing-house manager other than the candidate overrides
   * it with a reason. Without a conflict an override is not needed and changes nothing.
   */
  static teamAdd(req: TeamAddRequest): TeamAddDecision {
    if (req.candidateRecused) return { outcome: 'refused', rule: ConflictRule.CandidateRecused, refusal: 'conflict', conflicting: [] };
    const conflicting = ConflictPolicy.conflictingTies(req.ties, req.caseAuthorityId);
    if (conflicting.length === 0) return { outcome: 'clear', rule: ConflictRule.Clear };
    if (!req.override) return { outcome: 'refused', rule: ConflictRule.DeclaredTie, refusal: 'conflict', conflicting };
    if (req.actor.role !== Role.ClearingHouseManager) {
      return { outcome: 'refused', rule: ConflictRule.OverrideManagersOnly, refusal: 'forbidden', conflicting };
    }
    if (req.actor.userId === req.candidateUserId) {
      return { outcome: 'refused', rule: ConflictRule.OverrideNotForYourself, refusal: 'forbidden', conflicting };
    }
    return { outcome: 'overridden', rule: ConflictRule.Overridden, conflicting };
  }

  /**
   * Withdrawing a recusal: a clearing-house manager, with a reason, never for themselves (the
   * recused person cannot see the case anyway: this is the rule should that ever change).
   */
  static withdrawRecusal(actor: { userId: string; role: Role }, recusedUserId: string): { allowed: boolean; rule: ConflictRule } {
    if (actor.role !== Role.ClearingHouseManager || actor.userId === recusedUserId) return { allowed: false, rule: ConflictRule.WithdrawManagersOnly };
    return { allowed: true, rule: ConflictRule.RecusalWithdrawn };
  }

  /** What a declaration of this kind must say: the field that is missing, or null when complete. */
  static missingField(kind: TieKind, given: { authority: boolean; detail: boolean }): 'authority' | 'detail' | null {
    if (AUTHORITY_KINDS.includes(kind) && !given.authority) return 'authority';
    if (DETAIL_KINDS.includes(kind) && !given.detail) return 'detail';
    return null;
  }
}
