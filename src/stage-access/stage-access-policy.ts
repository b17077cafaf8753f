import { Role } from '../access-control/role';
import { CaseState } from '../workflow/case-state';

/**
 * Access that follows the workflow stage (issue 8, point 1). A government liaison sees nothing of
 * any case; while a case is at its pre-intervention meeting stage, a liaison a manager has named
 * for that stage reads the stage's pack (the items the clearing house released into it), and
 * nothing else. Decided from the case's state at the moment of the request: when the case leaves
 * the stage, the naming no longer matches the current stage and access ends, with no job to run.
 * A later pre-intervention stage of the same case starts with nobody named and an empty pack.
 *
 * The other stage-driven rules live in the case access policy and are decided the same way, at
 * request time: a RIEP facilitator of the region sees a case from its referral to the RIEP
 * (`referred_to_riep_at`), and anyone removed from a case team loses what the team gave them
 * at once (`removed_at`).
 */
export interface StageFacts {
  state: CaseState;
  /** The case transition that moved the case into its current pre-intervention stage; null when at another stage. */
  stageTransitionId: string | null;
  /** The caller's own namings on this case, for any stage. */
  namings: ReadonlyArray<{ stageTransitionId: string; removedAt: Date | string | null }>;
}

export enum StageAccessRule {
  LiaisonNamedForStage = 'liaison_named_for_stage',
  /** The case is not at a pre-intervention stage now (before it, or after it ended). */
  CaseNotAtStage = 'liaison_case_not_at_stage',
  /** Named for an earlier stage of the case only, or never named. */
  LiaisonNotNamed = 'liaison_not_named',
  /** Named for this stage, and removed since. */
  LiaisonRemoved = 'liaison_removed',
  /** Not a government liaison: the case access policy decides (clearing-house staff read the pack of a case they see). */
  NotALiaison = 'not_a_liaison',
}

export interface StageAccessDecision {
  allowed: boolean;
  rule: StageAccessRule;
}

const allow = (rule: StageAccessRule): StageAccessDecision => ({ allowed: true, rule });
const deny = (rule: StageAccessRule): StageAccessDecision => ({ allowed: false, rule });

/** May this government liaison read the case's pack now? Anyone else is refused here (their case access decides). */
export function liaisonPackAccess(p: { role: Role }, f: StageFacts): StageAccessDecision {
  if (p.role !== Role.GovernmentLiaison) return deny(StageAccessRule.NotALiaison);
  if (f.state !== CaseState.PreIntervention || !f.stageTransitionId) return deny(StageAccessRule.CaseNotAtStage);
  const forThisStage = f.namings.filter((n) => n.stageTransitionId === f.stageTransitionId);
  if (forThisStage.length === 0) return deny(StageAccessRule.LiaisonNotNamed);
  if (forThisStage.every((n) => n.removedAt !== null)) return deny(StageAccessRule.LiaisonRemoved);
  return allow(StageAccessRule.LiaisonNamedForStage);
}

/** Naming a liaison: a clearing-house manager, and only while the case is at the pre-intervention stage. */
export function mayNameLiaison(p: { role: Role }, state: CaseState): boolean {
  return p.role === Role.ClearingHouseManager && state === CaseState.PreIntervention;
}

/** Releasing (or withdrawing) pack items: clearing-house staff, only while the case is at the stage. */
export function mayReleasePackItem(p: { role: Role }, state: CaseState): boolean {
  return (p.role === Role.ClearingHouseOfficer || p.role === Role.ClearingHouseManager) && state === CaseState.PreIntervention;
}

/** Only support already agreed (or under way, or completed) goes into a pack: never a proposal, never a withdrawn one. */
export const RELEASABLE_SUPPORT_STATUSES: readonly string[] = ['agreed', 'in_progress', 'completed'];

/** When a liaison's access for one naming began and ended, for the auditors' listing. */
export function grantPeriod(
  naming: { namedAt: Date; removedAt: Date | null },
  stage: { enteredAt: Date; endedAt: Date | null },
): { from: Date; until: Date | null; endedBecause: 'stage_ended' | 'removed' | null } {
  const from = naming.namedAt > stage.enteredAt ? naming.namedAt : stage.enteredAt;
  const ends: Array<{ at: Date; because: 'stage_ended' | 'removed' }> = [];
  if (stage.endedAt) ends.push({ at: stage.endedAt, because: 'stage_ended' });
  if (naming.removedAt) ends.push({ at: naming.removedAt, because: 'removed' });
  ends.sort((a, b) => a.at.getTime() - b.at.getTime());
  const first = ends[0];
  return { from, until: first?.at ?? null, endedBecause: first?.because ?? null };
}
