import { AccessDecision, AccessRule, sourceVisibility } from '../access-control/case-access-policy';
import { Role } from '../access-control/role';
import { Principal } from '../auth/principal';

/** Where a release stands. `expired` is also what an approved release reads as once its time is up. */
export enum ReleaseState {
  Requested = 'requested',
  Approved = 'approved',
  Refused = 'refused',
  Revoked = 'revoked',
  Expired = 'expired',
}

/** The rules these decisions name in the audit trail. */
export enum SourceIdentityRule {
  /** A clearing-house manager read the identity, giving a reason. */
  RevealedWithReason = 'source_revealed_with_reason',
  /** Only clearing-house managers reveal the identity, ask for its release, or decide on one. */
  ManagersOnly = 'source_identity_managers_only',
  /** Read by the colleague it was released to, within the release's time. */
  ReleasedToYou = 'source_released_to_you',
  /** No approved, unexpired, unrevoked release of this concern's source to the caller. */
  NoActiveRelease = 'source_no_active_release',
  /** A second manager approved (or refused) the release. */
  DecidedBySecondManager = 'source_release_second_manager',
  /** The manager who asked for a release may not decide it. */
  RequesterMayNotDecide = 'source_release_requester_may_not_decide',
  /** Nobody approves (or refuses) a release to themselves. */
  RecipientMayNotDecide = 'source_release_recipient_may_not_decide',
  /** The release is no longer waiting for a decision. */
  NotPending = 'source_release_not_pending',
  /** Revoked (a request withdrawn, or an approved release ended early). */
  Revoked = 'source_release_revoked',
  /** The release has already ended (refused, revoked or expired). */
  NotOpen = 'source_release_not_open',
}

/** Who may receive a released identity: clearing-house staff only (see `mayReceive`). */
export const RELEASE_RECIPIENT_ROLES: readonly Role[] = [Role.ClearingHouseOfficer, Role.ClearingHouseManager];

export interface ReleaseFacts {
  id: string;
  requestedBy: string;
  releasedTo: string;
  state: ReleaseState;
  expiresAt: Date | string | null;
}

/** A refusal says whether it is about who is asking (403) or about where the release stands (409). */
export interface SourceIdentityDecision {
  allowed: boolean;
  rule: SourceIdentityRule | AccessRule;
  refusal?: 'forbidden' | 'conflict';
}

const allow = (rule: SourceIdentityDecision['rule']): SourceIdentityDecision => ({ allowed: true, rule });
const forbid = (rule: SourceIdentityDecision['rule']): SourceIdentityDecision => ({ allowed: false, rule, refusal: 'forbidden' });
const conflict = (rule: SourceIdentityDecision['rule']): SourceIdentityDecision => ({ allowed: false, rule, refusal: 'conflict' });

/**
 * Who may learn a source's identity (issue 5, point 3). Ordinary reads of a concern never carry
 * it: they say only that a source exists (`hasSource`) and how the concern arrived (`channel`).
 * The identity is shown to a clearing-house manager who gives a reason, each time; or to a named
 * colleague after a release asked for by one manager and approved by a second, different one,
 * until it expires or is revoked. Never under break-glass. Every decision here assumes the caller
 * can already see the case and the concern (the case access policy answers 404 otherwise).
 *
 * Pure functions: `caseAccess` is the decision that let the caller see the case, `now` the clock.
 */
export class SourceIdentityPolicy {
  /** The first gate for everything below: clearing-house staff, never under break-glass. */
  private static gate(p: Principal, caseAccess: AccessDecision | undefined): SourceIdentityDecision | null {
    const base = sourceVisibility(p, caseAccess);
    return base.allowed ? null : forbid(base.rule);
  }

  /** A manager reads the identity now, with a reason (the reason is checked at the edge). */
  static reveal(p: Principal, caseAccess: AccessDecision | undefined): SourceIdentityDecision {
    const gate = this.gate(p, caseAccess);
    if (gate) return gate;
    return p.role === Role.ClearingHouseManager ? allow(SourceIdentityRule.RevealedWithReason) : forbid(SourceIdentityRule.ManagersOnly);
  }

  /** A manager asks for the identity to be released to a colleague. */
  static request(p: Principal, caseAccess: AccessDecision | undefined): SourceIdentityDecision {
    const gate = this.gate(p, caseAccess);
    if (gate) return gate;
    return p.role === Role.ClearingHouseManager ? allow(AccessRule.ActionAllowed) : forbid(SourceIdentityRule.ManagersOnly);
  }

  /**
   * Whether a user may receive a release: an active clearing-house officer or manager who can read
   * the case and the concern now (through the register, the team or their restriction, not a
   * break-glass grant). Auditors, administrators, Board members, peers and RIEP facilitators never:
   * the domain keeps the identity from all of them, and none of them needs it to contact the source.
   */
  static mayReceive(target: { role: Role; disabled: boolean }, seesCase: AccessDecision, seesConcern: AccessDecision): boolean {
    return !target.disabled && RELEASE_RECIPIENT_ROLES.includes(target.role) && seesCase.allowed && seesCase.rule !== AccessRule.BreakGlass && seesConcern.allowed;
  }

  /** A second manager approves or refuses a release: not the one who asked, not the one it is for. */
  static decide(p: Principal, release: ReleaseFacts, caseAccess: AccessDecision | undefined): SourceIdentityDecision {
    const gate = this.gate(p, caseAccess);
    if (gate) return gate;
    if (p.role !== Role.ClearingHouseManager) return forbid(SourceIdentityRule.ManagersOnly);
    if (release.requestedBy === p.userId) return forbid(SourceIdentityRule.RequesterMayNotDecide);
    if (release.releasedTo === p.userId) return forbid(SourceIdentityRule.RecipientMayNotDecide);
    if (release.state !== ReleaseState.Requested) return conflict(SourceIdentityRule.NotPending);
    return allow(SourceIdentityRule.DecidedBySecondManager);
  }

  /** Any manager who can see the case may withdraw a request or end an approved release early. */
  static revoke(p: Principal, release: ReleaseFacts, caseAccess: AccessDecision | undefined, now: Date): SourceIdentityDecision {
    const gate = this.gate(p, caseAccess);
    if (gate) return gate;
    if (p.role !== Role.ClearingHouseManager) return forbid(SourceIdentityRule.ManagersOnly);
    const state = this.effectiveState(release, now);
    if (state !== ReleaseState.Requested && state !== ReleaseState.Approved) return conflict(SourceIdentityRule.NotOpen);
    return allow(SourceIdentityRule.Revoked);
  }

  /** The colleague reads the identity: only under an approved release to them that has not expired. */
  static readReleased(p: Principal, releases: readonly ReleaseFacts[], caseAccess: AccessDecision | undefined, now: Date): SourceIdentityDecision & { release?: ReleaseFacts } {
    const gate = this.gate(p, caseAccess);
    if (gate) return gate;
    const release = releases.find((r) => r.releasedTo === p.userId && this.effectiveState(r, now) === ReleaseState.Approved);
    return release ? { ...allow(SourceIdentityRule.ReleasedToYou), release } : forbid(SourceIdentityRule.NoActiveRelease);
  }

  /** An approved release reads as expired from its expiry on (not including the instant before). */
  static effectiveState(release: Pick<ReleaseFacts, 'state' | 'expiresAt'>, now: Date): ReleaseState {
    if (release.state === ReleaseState.Approved && (release.expiresAt === null || new Date(release.expiresAt).getTime() <= now.getTime())) return ReleaseState.Expired;
    return release.state;
  }
}
