import { AccessDecision, AccessRule } from '../access-control/case-access-policy';
import { ALL_ROLES, Region, Role } from '../access-control/role';
import { Principal } from '../auth/principal';
import { ReleaseFacts, ReleaseState, SourceIdentityPolicy, SourceIdentityRule } from './source-identity-policy';

let nextId = 1;
function principal(role: Role): Principal {
  const userId = `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`;
  return {
    userId, sessionId: `s-${userId}`, email: `${role}@test.example`, displayName: role, role,
    region: role === Role.RiepFacilitator ? Region.NorthEast : null, partyId: null,
  };
}
const seen: AccessDecision = { allowed: true, rule: AccessRule.StaffSeeRegister };
const viaBreakGlass: AccessDecision = { allowed: true, rule: AccessRule.BreakGlass };
const now = new Date('2026-11-29T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const NOT_STAFF = ALL_ROLES.filter((r) => r !== Role.ClearingHouseOfficer && r !== Role.ClearingHouseManager);

function release(over: Partial<ReleaseFacts> = {}): ReleaseFacts {
  return { id: 'r1', requestedBy: 'requester', releasedTo: 'colleague', state: ReleaseState.Requested, expiresAt: null, ...over };
}

describe('SourceIdentityPolicy.reveal (a manager, with a reason)', () => {
  it('lets a manager who sees the case reveal it', () => {
    expect(SourceIdentityPolicy.reveal(principal(Role.ClearingHouseManager), seen)).toEqual({ allowed: true, rule: SourceIdentityRule.RevealedWithReason });
  });
  it('refuses an officer (403: officers see only that a source exists)', () => {
    expect(SourceIdentityPolicy.reveal(principal(Role.ClearingHouseOfficer), seen)).toEqual({ allowed: false, rule: SourceIdentityRule.ManagersOnly, refusal: 'forbidden' });
  });
  it.each(NOT_STAFF)('refuses %s', (role) => {
    expect(SourceIdentityPolicy.reveal(principal(role), seen)).toEqual({ allowed: false, rule: AccessRule.SourceStaffOnly, refusal: 'forbidden' });
  });
  it('never under break-glass', () => {
    expect(SourceIdentityPolicy.reveal(principal(Role.ClearingHouseManager), viaBreakGlass)).toEqual({ allowed: false, rule: AccessRule.SourceNotUnderBreakGlass, refusal: 'forbidden' });
  });
});

describe('SourceIdentityPolicy.request', () => {
  it('managers ask for releases; officers do not; never under break-glass', () => {
    expect(SourceIdentityPolicy.request(principal(Role.ClearingHouseManager), seen).allowed).toBe(true);
    expect(SourceIdentityPolicy.request(principal(Role.ClearingHouseOfficer), seen)).toMatchObject({ allowed: false, rule: SourceIdentityRule.ManagersOnly });
    expect(SourceIdentityPolicy.request(principal(Role.ClearingHouseManager), viaBreakGlass)).toMatchObject({ allowed: false, rule: AccessRule.SourceNotUnderBreakGlass });
  });
});

describe('SourceIdentityPolicy.mayReceive', () => {
  const itemSeen: AccessDecision = { allowed: true, rule: AccessRule.ItemNormal };
  it.each([Role.ClearingHouseOfficer, Role.ClearingHouseManager])('an active %s who sees the case and the concern may receive a release', (role) => {
    expect(SourceIdentityPolicy.mayReceive({ role, disabled: false }, seen, itemSeen)).toBe(true);
  });
  it.each(NOT_STAFF)('%s never, even seeing the case', (role) => {
    expect(SourceIdentityPolicy.mayReceive({ role, disabled: false }, seen, itemSeen)).toBe(false);
  });
  it('not a disabled user, nor one who cannot see the case or the concern, nor through break-glass', () => {
    const officer = { role: Role.ClearingHouseOfficer, disabled: false };
    expect(SourceIdentityPolicy.mayReceive({ ...officer, disabled: true }, seen, itemSeen)).toBe(false);
    expect(SourceIdentityPolicy.mayReceive(officer, { allowed: false, rule: AccessRule.RestrictedToTeam }, itemSeen)).toBe(false);
    expect(SourceIdentityPolicy.mayReceive(officer, seen, { allowed: false, rule: AccessRule.ItemNotNamed })).toBe(false);
    expect(SourceIdentityPolicy.mayReceive({ role: Role.ClearingHouseManager, disabled: false }, viaBreakGlass, itemSeen)).toBe(false);
  });
});

describe('SourceIdentityPolicy.decide (approve or refuse): a second, different manager', () => {
  it('a manager who neither asked nor receives it decides a pending release', () => {
    const m = principal(Role.ClearingHouseManager);
    expect(SourceIdentityPolicy.decide(m, release(), seen)).toEqual({ allowed: true, rule: SourceIdentityRule.DecidedBySecondManager });
  });
  it('not the manager who asked', () => {
    const m = principal(Role.ClearingHouseManager);
    expect(SourceIdentityPolicy.decide(m, release({ requestedBy: m.userId }), seen)).toEqual({ allowed: false, rule: SourceIdentityRule.RequesterMayNotDecide, refusal: 'forbidden' });
  });
  it('not the colleague it is for (nobody approves a release to themselves)', () => {
    const m = principal(Role.ClearingHouseManager);
    expect(SourceIdentityPolicy.decide(m, release({ releasedTo: m.userId }), seen)).toEqual({ allowed: false, rule: SourceIdentityRule.RecipientMayNotDecide, refusal: 'forbidden' });
  });
  it('not an officer, nor under break-glass', () => {
    expect(SourceIdentityPolicy.decide(principal(Role.ClearingHouseOfficer), release(), seen)).toMatchObject({ allowed: false, rule: SourceIdentityRule.ManagersOnly });
    expect(SourceIdentityPolicy.decide(principal(Role.ClearingHouseManager), release(), viaBreakGlass)).toMatchObject({ allowed: false, rule: AccessRule.SourceNotUnderBreakGlass });
  });
  it.each([ReleaseState.Approved, ReleaseState.Refused, ReleaseState.Revoked, ReleaseState.Expired])('only once: a %s release is a conflict', (state) => {
    expect(SourceIdentityPolicy.decide(principal(Role.ClearingHouseManager), release({ state, expiresAt: later(1000) }), seen)).toEqual({
      allowed: false, rule: SourceIdentityRule.NotPending, refusal: 'conflict',
    });
  });
});

describe('SourceIdentityPolicy.revoke', () => {
  const m = () => principal(Role.ClearingHouseManager);
  it('a manager withdraws a request or ends an approved release, including the one who asked', () => {
    expect(SourceIdentityPolicy.revoke(m(), release(), seen, now).allowed).toBe(true);
    const requester = m();
    expect(SourceIdentityPolicy.revoke(requester, release({ requestedBy: requester.userId, state: ReleaseState.Approved, expiresAt: later(1) }), seen, now).allowed).toBe(true);
  });
  it('not a release that has already ended', () => {
    for (const r of [release({ state: ReleaseState.Refused }), release({ state: ReleaseState.Revoked }), release({ state: ReleaseState.Approved, expiresAt: now })]) {
      expect(SourceIdentityPolicy.revoke(m(), r, seen, now)).toEqual({ allowed: false, rule: SourceIdentityRule.NotOpen, refusal: 'conflict' });
    }
  });
  it('not an officer, nor under break-glass', () => {
    expect(SourceIdentityPolicy.revoke(principal(Role.ClearingHouseOfficer), release(), seen, now)).toMatchObject({ allowed: false, rule: SourceIdentityRule.ManagersOnly });
    expect(SourceIdentityPolicy.revoke(m(), release(), viaBreakGlass, now)).toMatchObject({ allowed: false, rule: AccessRule.SourceNotUnderBreakGlass });
  });
});

describe('SourceIdentityPolicy.readReleased (the colleague)', () => {
  const colleague = principal(Role.ClearingHouseOfficer);
  const approved = release({ releasedTo: colleague.userId, state: ReleaseState.Approved, expiresAt: later(60_000) });
  it('reads under an approved release to them that has not expired', () => {
    expect(SourceIdentityPolicy.readReleased(colleague, [approved], seen, now)).toEqual({ allowed: true, rule: SourceIdentityRule.ReleasedToYou, release: approved });
  });
  it('not before approval, after refusal, revocation or expiry, nor under a release to someone else', () => {
    const refused = (r: ReleaseFacts[]) => expect(SourceIdentityPolicy.readReleased(colleague, r, seen, now)).toEqual({ allowed: false, rule: SourceIdentityRule.NoActiveRelease, refusal: 'forbidden' });
    refused([]);
    refused([{ ...approved, state: ReleaseState.Requested, expiresAt: null }]);
    refused([{ ...approved, state: ReleaseState.Refused, expiresAt: null }]);
    refused([{ ...approved, state: ReleaseState.Revoked }]);
    refused([{ ...approved, state: ReleaseState.Expired }]);
    refused([{ ...approved, expiresAt: now }]);
    refused([{ ...approved, releasedTo: 'someone else' }]);
  });
  it('never under break-glass, even with a release', () => {
    const m = principal(Role.ClearingHouseManager);
    expect(SourceIdentityPolicy.readReleased(m, [{ ...approved, releasedTo: m.userId }], viaBreakGlass, now)).toMatchObject({ allowed: false, rule: AccessRule.SourceNotUnderBreakGlass });
  });
  it.each(NOT_STAFF)('never %s, even named on a release', (role) => {
    const p = principal(role);
    expect(SourceIdentityPolicy.readReleased(p, [{ ...approved, releasedTo: p.userId }], seen, now).allowed).toBe(false);
  });
});

describe('SourceIdentityPolicy.effectiveState', () => {
  it('an approved release is expired from its expiry on', () => {
    expect(SourceIdentityPolicy.effectiveState({ state: ReleaseState.Approved, expiresAt: later(1) }, now)).toBe(ReleaseState.Approved);
    expect(SourceIdentityPolicy.effectiveState({ state: ReleaseState.Approved, expiresAt: now }, now)).toBe(ReleaseState.Expired);
    expect(SourceIdentityPolicy.effectiveState({ state: ReleaseState.Approved, expiresAt: '2026-11-29T11:59:59Z' }, now)).toBe(ReleaseState.Expired);
    expect(SourceIdentityPolicy.effectiveState({ state: ReleaseState.Requested, expiresAt: null }, now)).toBe(ReleaseState.Requested);
    expect(SourceIdentityPolicy.effectiveState({ state: ReleaseState.Revoked, expiresAt: later(1) }, now)).toBe(ReleaseState.Revoked);
  });
});
