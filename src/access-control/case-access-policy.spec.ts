import { Principal } from '../auth/principal';
import {
  AccessDecision,
  AccessRule,
  CaseAccessFacts,
  CaseAction,
  caseActionDecision,
  caseVisibility,
  hasActiveGrant,
  isGrantActive,
  ItemAccessFacts,
  itemVisibility,
  mayMarkPartyConfidential,
  sourceVisibility,
} from './case-access-policy';
import { ItemHandling, TeamRole } from './handling';
import { ALL_ROLES, Region, Role } from './role';

/*
 * The access policy as DOMAIN.md ("The people who use it") states it, one rule at a time,
 * including the rule each decision names for the audit trail.
 */
const LABOUR = '00000000-0000-4000-8000-00000000000a';
const GREEN = '00000000-0000-4000-8000-00000000000b';

let nextId = 1;
function principal(role: Role, opts: { region?: Region | null; partyId?: string | null; userId?: string } = {}): Principal {
  const userId = opts.userId ?? `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`;
  return {
    userId,
    sessionId: `session-${userId}`,
    email: `${role}@test.example`,
    displayName: role,
    role,
    region: opts.region !== undefined ? opts.region : role === Role.RiepFacilitator ? Region.NorthEast : null,
    partyId: opts.partyId !== undefined ? opts.partyId : role === Role.LeadPoliticalPeer ? LABOUR : null,
  };
}

const officer = () => principal(Role.ClearingHouseOfficer);
const manager = () => principal(Role.ClearingHouseManager);
const riep = (region: Region | null = Region.NorthEast) => principal(Role.RiepFacilitator, { region });
const peer = (partyId: string | null = LABOUR) => principal(Role.LeadPoliticalPeer, { partyId });
const auditor = () => principal(Role.Auditor);
const administrator = () => principal(Role.Administrator);

function kase(facts: Partial<CaseAccessFacts> = {}): CaseAccessFacts {
  return { authorityRegion: Region.NorthEast, referredToRiepAt: null, team: [], ...facts };
}
const member = (p: Principal, teamRole: TeamRole) => ({ userId: p.userId, teamRole });
const allow = (rule: AccessRule): AccessDecision => ({ allowed: true, rule });
const deny = (rule: AccessRule): AccessDecision => ({ allowed: false, rule });

describe('caseVisibility', () => {
  const referredAt = new Date('2026-03-01T09:00:00Z');

  describe('clearing-house officers and managers see the whole register', () => {
    const cases: Array<[string, CaseAccessFacts]> = [
      ['an unreferred case with no team', kase()],
      ['a case of an authority with no region', kase({ authorityRegion: null })],
      ['a referred case in another region', kase({ authorityRegion: Region.London, referredToRiepAt: referredAt })],
      ['a case whose team they are not on', kase({ team: [{ userId: 'someone-else', teamRole: TeamRole.CaseLead }] })],
    ];
    it.each(cases)('officer: %s', (_label, c) => expect(caseVisibility(officer(), c)).toEqual(allow(AccessRule.StaffSeeRegister)));
    it.each(cases)('manager: %s', (_label, c) => expect(caseVisibility(manager(), c)).toEqual(allow(AccessRule.StaffSeeRegister)));
  });

  describe('a RIEP facilitator sees own-region cases once referred, or when on the team', () => {
    it('sees a referred case in their own region', () => {
      expect(caseVisibility(riep(), kase({ referredToRiepAt: referredAt }))).toEqual(allow(AccessRule.RiepOwnRegionAfterReferral));
    });

    it('accepts the referral time as a string, as it may come from the database', () => {
      expect(caseVisibility(riep(), kase({ referredToRiepAt: '2026-03-01T09:00:00Z' }))).toEqual(allow(AccessRule.RiepOwnRegionAfterReferral));
    });

    it('sees an unreferred case in their own region when on its team', () => {
      const p = riep();
      expect(caseVisibility(p, kase({ team: [member(p, TeamRole.RiepFacilitator)] }))).toEqual(allow(AccessRule.RiepOnTeam));
    });

    it('does not see an unreferred case in their own region when not on the team', () => {
      const other = riep();
      expect(caseVisibility(riep(), kase({ team: [member(other, TeamRole.RiepFacilitator)] }))).toEqual(deny(AccessRule.RiepNotReferred));
      expect(caseVisibility(riep(), kase())).toEqual(deny(AccessRule.RiepNotReferred));
    });

    it('does not see a referred case in another region', () => {
      expect(caseVisibility(riep(Region.NorthEast), kase({ authorityRegion: Region.NorthWest, referredToRiepAt: referredAt }))).toEqual(
        deny(AccessRule.RiepOtherRegion),
      );
    });

    it('does not see a case in another region even when on its team and referred', () => {
      const p = riep(Region.NorthEast);
      const c = kase({ authorityRegion: Region.London, referredToRiepAt: referredAt, team: [member(p, TeamRole.RiepFacilitator)] });
      expect(caseVisibility(p, c)).toEqual(deny(AccessRule.RiepOtherRegion));
    });

    it('does not see a case of an authority with no region', () => {
      const p = riep(Region.NorthEast);
      const c = kase({ authorityRegion: null, referredToRiepAt: referredAt, team: [member(p, TeamRole.RiepFacilitator)] });
      expect(caseVisibility(p, c)).toEqual(deny(AccessRule.RiepOtherRegion));
    });

    it('sees nothing without a region of their own', () => {
      const p = riep(null);
      expect(caseVisibility(p, kase({ authorityRegion: null, referredToRiepAt: referredAt, team: [member(p, TeamRole.RiepFacilitator)] }))).toEqual(
        deny(AccessRule.RiepOtherRegion),
      );
      expect(caseVisibility(p, kase({ referredToRiepAt: referredAt }))).toEqual(deny(AccessRule.RiepOtherRegion));
    });

    it('checks the region for every region', () => {
      for (const own of Object.values(Region)) {
        for (const theirs of Object.values(Region)) {
          expect(caseVisibility(riep(own), kase({ authorityRegion: theirs, referredToRiepAt: referredAt })).allowed).toBe(own === theirs);
        }
      }
    });
  });

  describe('a lead political peer sees only cases they are on the team of', () => {
    it('sees a case they are on, in any region, referred or not', () => {
      const p = peer();
      for (const authorityRegion of [Region.NorthEast, Region.SouthWest, null]) {
        for (const referredToRiepAt of [null, referredAt]) {
          expect(caseVisibility(p, kase({ authorityRegion, referredToRiepAt, team: [member(p, TeamRole.LeadPoliticalPeer)] }))).toEqual(
            allow(AccessRule.PeerOnTeam),
          );
        }
      }
    });

    it('does not see a case they are not on, even with a same-party peer on it, or once referred', () => {
      const colleague = peer(LABOUR);
      expect(caseVisibility(peer(LABOUR), kase({ referredToRiepAt: referredAt, team: [member(colleague, TeamRole.LeadPoliticalPeer)] }))).toEqual(
        deny(AccessRule.PeerNotOnTeam),
      );
      expect(caseVisibility(peer(), kase())).toEqual(deny(AccessRule.PeerNotOnTeam));
    });
  });

  describe('auditors and administrators never see case content', () => {
    it.each([Role.Auditor, Role.Administrator])('%s is refused even when on the team of a referred case', (role) => {
      const p = principal(role);
      const c = kase({ referredToRiepAt: referredAt, team: [member(p, TeamRole.CaseOfficer)] });
      expect(caseVisibility(p, c)).toEqual(deny(AccessRule.NoCaseContentForRole));
      expect(caseVisibility(p, kase())).toEqual(deny(AccessRule.NoCaseContentForRole));
    });
  });
});

describe('a case restricted to its team', () => {
  const referredAt = new Date('2026-03-01T09:00:00Z');
  const now = new Date('2026-04-01T12:00:00Z');
  const minutes = (n: number) => new Date(now.getTime() + n * 60_000);
  const setter = manager();
  const restricted = (facts: Partial<CaseAccessFacts> = {}) =>
    kase({ referredToRiepAt: referredAt, restrictedToTeam: true, restrictedBy: setter.userId, ...facts });

  it('is hidden from officers and other managers not on its team', () => {
    expect(caseVisibility(officer(), restricted(), now)).toEqual(deny(AccessRule.RestrictedToTeam));
    expect(caseVisibility(manager(), restricted(), now)).toEqual(deny(AccessRule.RestrictedToTeam));
  });

  it('is seen by the manager who restricted it', () => {
    expect(caseVisibility(setter, restricted(), now)).toEqual(allow(AccessRule.RestrictedByYou));
  });

  it('is seen by its current team members of every role that sees cases', () => {
    for (const p of [officer(), manager(), riep(), peer()]) {
      expect(caseVisibility(p, restricted({ team: [member(p, TeamRole.CaseOfficer)] }), now)).toEqual(allow(AccessRule.RestrictedOnTeam));
    }
  });

  it('is hidden from a RIEP facilitator of its region who would see it once referred, unless on its team', () => {
    expect(caseVisibility(riep(), kase({ referredToRiepAt: referredAt }), now).allowed).toBe(true);
    expect(caseVisibility(riep(), restricted(), now)).toEqual(deny(AccessRule.RestrictedToTeam));
  });

  it('never opens what the register rule refuses: another region, auditors and administrators stay refused', () => {
    const p = riep(Region.London);
    expect(caseVisibility(p, restricted({ team: [member(p, TeamRole.RiepFacilitator)] }), now)).toEqual(deny(AccessRule.RiepOtherRegion));
    expect(caseVisibility(auditor(), restricted(), now)).toEqual(deny(AccessRule.NoCaseContentForRole));
    expect(caseVisibility(administrator(), restricted(), now)).toEqual(deny(AccessRule.NoCaseContentForRole));
  });

  it('changes nothing while not restricted, whoever the restrictedBy field names', () => {
    expect(caseVisibility(officer(), kase({ restrictedToTeam: false, restrictedBy: null }), now)).toEqual(allow(AccessRule.StaffSeeRegister));
  });

  describe('break-glass', () => {
    it('lets a manager with an unexpired grant read it', () => {
      const m = manager();
      const c = restricted({ breakGlassGrants: [{ userId: m.userId, expiresAt: minutes(30) }] });
      expect(caseVisibility(m, c, now)).toEqual(allow(AccessRule.BreakGlass));
      expect(caseActionDecision(m, CaseAction.Read, c, now).action).toEqual(allow(AccessRule.ActionAllowed));
    });

    it('ends when the grant expires (the expiry itself is outside the grant)', () => {
      const m = manager();
      const grantUntil = (expiresAt: Date | string) => restricted({ breakGlassGrants: [{ userId: m.userId, expiresAt }] });
      expect(caseVisibility(m, grantUntil(minutes(0.001)), now).allowed).toBe(true);
      expect(caseVisibility(m, grantUntil(now), now)).toEqual(deny(AccessRule.RestrictedToTeam));
      expect(caseVisibility(m, grantUntil(minutes(-1)), now)).toEqual(deny(AccessRule.RestrictedToTeam));
      expect(caseVisibility(m, grantUntil(minutes(-1).toISOString()), now)).toEqual(deny(AccessRule.RestrictedToTeam));
    });

    it("counts only the caller's own grant", () => {
      const m = manager();
      const other = manager();
      expect(caseVisibility(m, restricted({ breakGlassGrants: [{ userId: other.userId, expiresAt: minutes(30) }] }), now)).toEqual(
        deny(AccessRule.RestrictedToTeam),
      );
    });

    it('is for managers only: a grant does nothing for an officer', () => {
      const o = officer();
      expect(caseVisibility(o, restricted({ breakGlassGrants: [{ userId: o.userId, expiresAt: minutes(30) }] }), now)).toEqual(
        deny(AccessRule.RestrictedToTeam),
      );
    });

    it('reads only: every other action is forbidden (403, not hidden)', () => {
      const m = manager();
      const c = restricted({ breakGlassGrants: [{ userId: m.userId, expiresAt: minutes(30) }] });
      for (const action of Object.values(CaseAction).filter((a) => a !== CaseAction.Read)) {
        const d = caseActionDecision(m, action, c, now);
        expect(d.visible).toEqual(allow(AccessRule.BreakGlass));
        expect(d.action).toEqual(deny(AccessRule.BreakGlassReadOnly));
      }
    });

    it('never lets the source through, although managers may otherwise reveal it with a reason', () => {
      const m = manager();
      expect(sourceVisibility(m, allow(AccessRule.BreakGlass))).toEqual(deny(AccessRule.SourceNotUnderBreakGlass));
      expect(sourceVisibility(m, allow(AccessRule.RestrictedByYou))).toEqual(allow(AccessRule.StaffSeeRegister));
      expect(sourceVisibility(m, allow(AccessRule.StaffSeeRegister))).toEqual(allow(AccessRule.StaffSeeRegister));
    });
  });
});

describe('break-glass grant expiry', () => {
  const now = new Date('2026-04-01T12:00:00Z');
  it('is active strictly before its expiry', () => {
    expect(isGrantActive({ userId: 'u', expiresAt: new Date(now.getTime() + 1) }, now)).toBe(true);
    expect(isGrantActive({ userId: 'u', expiresAt: now }, now)).toBe(false);
    expect(isGrantActive({ userId: 'u', expiresAt: '2026-04-01T11:59:59.999Z' }, now)).toBe(false);
    expect(isGrantActive({ userId: 'u', expiresAt: '2026-04-01T13:00:00Z' }, now)).toBe(true);
  });

  it('finds the caller\'s active grant among others', () => {
    const facts = kase({
      breakGlassGrants: [
        { userId: 'a', expiresAt: '2026-04-01T11:00:00Z' },
        { userId: 'b', expiresAt: '2026-04-01T13:00:00Z' },
        { userId: 'a', expiresAt: '2026-04-01T12:30:00Z' },
      ],
    });
    expect(hasActiveGrant({ userId: 'a' }, facts, now)).toBe(true);
    expect(hasActiveGrant({ userId: 'b' }, facts, now)).toBe(true);
    expect(hasActiveGrant({ userId: 'c' }, facts, now)).toBe(false);
    expect(hasActiveGrant({ userId: 'a' }, facts, new Date('2026-04-01T12:30:00Z'))).toBe(false);
    expect(hasActiveGrant({ userId: 'a' }, kase(), now)).toBe(false);
  });
});

describe('itemVisibility', () => {
  const item = (facts: Partial<ItemAccessFacts>): ItemAccessFacts => ({ handling: ItemHandling.Normal, partyId: null, namedUserIds: [], ...facts });

  describe('normal items', () => {
    it.each(ALL_ROLES)('are visible to %s', (role) => {
      expect(itemVisibility(principal(role), item({}))).toEqual(allow(AccessRule.ItemNormal));
    });
  });

  describe('named-only items: the named people and managers only', () => {
    it('a manager sees one without being named', () => {
      expect(itemVisibility(manager(), item({ handling: ItemHandling.NamedOnly, namedUserIds: ['someone-else'] }))).toEqual(
        allow(AccessRule.ItemManagerSeesAll),
      );
    });

    it.each([Role.ClearingHouseOfficer, Role.RiepFacilitator, Role.LeadPoliticalPeer])('%s sees one when named', (role) => {
      const p = principal(role);
      expect(itemVisibility(p, item({ handling: ItemHandling.NamedOnly, namedUserIds: ['someone-else', p.userId] }))).toEqual(
        allow(AccessRule.ItemNamedPerson),
      );
    });

    it.each([Role.ClearingHouseOfficer, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.Administrator])(
      '%s is refused one when not named',
      (role) => {
        expect(itemVisibility(principal(role), item({ handling: ItemHandling.NamedOnly, namedUserIds: ['someone-else'] }))).toEqual(
          deny(AccessRule.ItemNotNamed),
        );
      },
    );

    it('an officer not named is refused even though officers see the whole register', () => {
      const named = officer();
      const notNamed = officer();
      const i = item({ handling: ItemHandling.NamedOnly, namedUserIds: [named.userId] });
      expect(itemVisibility(named, i).allowed).toBe(true);
      expect(itemVisibility(notNamed, i)).toEqual(deny(AccessRule.ItemNotNamed));
    });
  });

  describe('party-confidential items: managers and peers of the same party only', () => {
    const note = item({ handling: ItemHandling.PartyConfidential, partyId: LABOUR });

    it('a manager sees one', () => {
      expect(itemVisibility(manager(), note)).toEqual(allow(AccessRule.ItemManagerSeesAll));
    });

    it('a peer of the same party sees one', () => {
      expect(itemVisibility(peer(LABOUR), note)).toEqual(allow(AccessRule.ItemSameParty));
    });

    it('a peer of another party is refused', () => {
      expect(itemVisibility(peer(GREEN), note)).toEqual(deny(AccessRule.ItemOtherParty));
    });

    it('a peer with no party is refused', () => {
      expect(itemVisibility(peer(null), note)).toEqual(deny(AccessRule.ItemOtherParty));
      expect(itemVisibility(peer(null), item({ handling: ItemHandling.PartyConfidential, partyId: null }))).toEqual(deny(AccessRule.ItemOtherParty));
    });

    it.each([Role.ClearingHouseOfficer, Role.RiepFacilitator, Role.Auditor, Role.Administrator])('%s is refused, even if named on it or given the party', (role) => {
      const p = principal(role, { partyId: LABOUR });
      expect(itemVisibility(p, { ...note, namedUserIds: [p.userId] })).toEqual(deny(AccessRule.ItemPartyConfidentialNotPeer));
    });
  });
});

// The first gate only: ordinary reads never carry the identity; who gets past this gate and how
// (a manager's reason, a second manager's approval) is SourceIdentityPolicy's (its own spec).
describe('sourceVisibility (the first gate to a source identity)', () => {
  it.each([Role.ClearingHouseOfficer, Role.ClearingHouseManager])('%s passes the gate (may reveal or receive a release, under SourceIdentityPolicy)', (role) => {
    expect(sourceVisibility(principal(role))).toEqual(allow(AccessRule.StaffSeeRegister));
  });

  it.each(ALL_ROLES.filter((r) => r !== Role.ClearingHouseOfficer && r !== Role.ClearingHouseManager))('%s never passes it', (role) => {
    expect(sourceVisibility(principal(role))).toEqual(deny(AccessRule.SourceStaffOnly));
  });
});

describe('caseActionDecision', () => {
  const O = Role.ClearingHouseOfficer;
  const M = Role.ClearingHouseManager;
  const R = Role.RiepFacilitator;
  const P = Role.LeadPoliticalPeer;
  const ALLOWED: Record<CaseAction, Role[]> = {
    [CaseAction.Read]: [O, M, R, P],
    [CaseAction.LogConcern]: [O, M],
    [CaseAction.RecordConversation]: [O, M, R, P],
    [CaseAction.ManageTeam]: [M],
    [CaseAction.RecordGovernmentTrigger]: [O, M],
    [CaseAction.RecordMeeting]: [O, M],
    [CaseAction.ManageSupport]: [O, M, R],
    [CaseAction.AddProgressNote]: [O, M, R, P],
    [CaseAction.Restrict]: [M],
  };

  /** A case everyone who can see cases can see: referred, in the RIEP's region, with the caller on the team. */
  const visibleTo = (p: Principal) => kase({ referredToRiepAt: new Date(), team: [member(p, TeamRole.CaseOfficer)] });

  const grid = (Object.keys(ALLOWED) as CaseAction[]).flatMap((action) =>
    [O, M, R, P].map((role) => [action, role, ALLOWED[action].includes(role)] as const),
  );

  it.each(grid)('%s by %s on a case they can see: allowed=%s', (action, role, allowed) => {
    const p = principal(role);
    const c = visibleTo(p);
    const d = caseActionDecision(p, action, c);
    expect(d.visible).toEqual(caseVisibility(p, c));
    expect(d.visible.allowed).toBe(true);
    expect(d.action).toEqual(allowed ? allow(AccessRule.ActionAllowed) : deny(AccessRule.ActionRoleMayNot));
  });

  it.each(Object.values(CaseAction))('%s on a case the caller cannot see is refused as invisible, with the visibility rule', (action) => {
    const cases: Array<[Principal, CaseAccessFacts, AccessRule]> = [
      [riep(Region.NorthEast), kase({ authorityRegion: Region.London, referredToRiepAt: new Date() }), AccessRule.RiepOtherRegion],
      [riep(Region.NorthEast), kase(), AccessRule.RiepNotReferred],
      [peer(), kase({ referredToRiepAt: new Date() }), AccessRule.PeerNotOnTeam],
      [auditor(), kase(), AccessRule.NoCaseContentForRole],
      [administrator(), kase(), AccessRule.NoCaseContentForRole],
    ];
    for (const [p, c, rule] of cases) {
      const d = caseActionDecision(p, action, c);
      expect(d.visible).toEqual(deny(rule));
      expect(d.action).toEqual(deny(rule));
    }
  });

  it.each([Role.Auditor, Role.Administrator])('%s may do nothing even on the team of a referred case', (role) => {
    const p = principal(role);
    for (const action of Object.values(CaseAction)) {
      const d = caseActionDecision(p, action, visibleTo(p));
      expect(d.visible).toEqual(deny(AccessRule.NoCaseContentForRole));
      expect(d.action.allowed).toBe(false);
    }
  });
});

describe('mayMarkPartyConfidential', () => {
  it('only a peer with a party may mark a record party-confidential', () => {
    expect(mayMarkPartyConfidential(peer(LABOUR))).toBe(true);
    expect(mayMarkPartyConfidential(peer(null))).toBe(false);
    for (const role of ALL_ROLES.filter((r) => r !== Role.LeadPoliticalPeer)) {
      expect(mayMarkPartyConfidential(principal(role, { partyId: LABOUR }))).toBe(false);
    }
  });
});
