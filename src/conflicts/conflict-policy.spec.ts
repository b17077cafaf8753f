import { AccessRule, CaseAccessFacts, caseActionDecision, CaseAction, caseScopeSql, caseVisibility } from '../access-control/case-access-policy';
import { TeamRole } from '../access-control/handling';
import { Region, Role } from '../access-control/role';
import { Principal } from '../auth/principal';
import { ConflictPolicy, ConflictRule, TieFacts, TieKind } from './conflict-policy';

const AUTHORITY = 'a0000000-0000-4000-8000-000000000001';
const OTHER_AUTHORITY = 'a0000000-0000-4000-8000-000000000002';
const MANAGER = { userId: 'u-manager', role: Role.ClearingHouseManager };
const tie = (over: Partial<TieFacts> = {}): TieFacts => ({ id: 't1', kind: TieKind.AuthorityEmployment, authorityId: AUTHORITY, endedAt: null, ...over });
const request = (over: Partial<Parameters<typeof ConflictPolicy.teamAdd>[0]> = {}) => ({
  actor: MANAGER, candidateUserId: 'u-candidate', caseAuthorityId: AUTHORITY, ties: [tie()], candidateRecused: false, override: null, ...over,
});

describe('ConflictPolicy.teamAdd', () => {
  it('refuses a candidate with a current tie to the case authority, naming the tie', () => {
    const d = ConflictPolicy.teamAdd(request());
    expect(d).toEqual({ outcome: 'refused', rule: ConflictRule.DeclaredTie, refusal: 'conflict', conflicting: [tie()] });
  });

  it('lets a tie to another authority, an ended tie, or a tie naming no authority through', () => {
    for (const ties of [[tie({ authorityId: OTHER_AUTHORITY })], [tie({ endedAt: new Date() })], [tie({ kind: TieKind.PartyRole, authorityId: null })], []]) {
      expect(ConflictPolicy.teamAdd(request({ ties }))).toEqual({ outcome: 'clear', rule: ConflictRule.Clear });
    }
  });

  it('counts every kind of tie that names the authority', () => {
    for (const kind of Object.values(TieKind)) expect(ConflictPolicy.teamAdd(request({ ties: [tie({ kind })] })).outcome).toBe('refused');
  });

  it("allows a manager's override with a reason", () => {
    expect(ConflictPolicy.teamAdd(request({ override: { reason: 'The tie ended in practice years ago' } }))).toMatchObject({ outcome: 'overridden', rule: ConflictRule.Overridden });
  });

  it('refuses an override by anyone but a clearing-house manager', () => {
    for (const role of Object.values(Role).filter((r) => r !== Role.ClearingHouseManager)) {
      const d = ConflictPolicy.teamAdd(request({ actor: { userId: 'u-x', role }, override: { reason: 'x'.repeat(20) } }));
      expect(d).toMatchObject({ outcome: 'refused', rule: ConflictRule.OverrideManagersOnly, refusal: 'forbidden' });
    }
  });

  it('refuses a manager overriding a tie of their own', () => {
    const d = ConflictPolicy.teamAdd(request({ candidateUserId: MANAGER.userId, override: { reason: 'x'.repeat(20) } }));
    expect(d).toMatchObject({ outcome: 'refused', rule: ConflictRule.OverrideNotForYourself, refusal: 'forbidden' });
  });

  it('refuses a recused candidate even with an override or without any tie', () => {
    for (const over of [{ ties: [] }, { override: { reason: 'x'.repeat(20) } }]) {
      expect(ConflictPolicy.teamAdd(request({ ...over, candidateRecused: true }))).toMatchObject({ outcome: 'refused', rule: ConflictRule.CandidateRecused, refusal: 'conflict' });
    }
  });
});

describe('ConflictPolicy.withdrawRecusal', () => {
  it('is for a clearing-house manager other than the recused user', () => {
    expect(ConflictPolicy.withdrawRecusal(MANAGER, 'u-other').allowed).toBe(true);
    expect(ConflictPolicy.withdrawRecusal(MANAGER, MANAGER.userId).allowed).toBe(false);
    for (const role of Object.values(Role).filter((r) => r !== Role.ClearingHouseManager)) {
      expect(ConflictPolicy.withdrawRecusal({ userId: 'u-x', role }, 'u-other')).toEqual({ allowed: false, rule: ConflictRule.WithdrawManagersOnly });
    }
  });
});

describe('ConflictPolicy.missingField', () => {
  it('asks a council tie for its council and the other kinds for their detail', () => {
    expect(ConflictPolicy.missingField(TieKind.AuthorityEmployment, { authority: false, detail: true })).toBe('authority');
    expect(ConflictPolicy.missingField(TieKind.AuthorityRepresentation, { authority: true, detail: false })).toBeNull();
    expect(ConflictPolicy.missingField(TieKind.PersonalTie, { authority: true, detail: false })).toBe('detail');
    expect(ConflictPolicy.missingField(TieKind.Employer, { authority: false, detail: true })).toBeNull();
    expect(ConflictPolicy.missingField(TieKind.PartyRole, { authority: false, detail: false })).toBe('detail');
  });
});

describe('a recusal in the case access policy', () => {
  const principal = (role: Role, over: Partial<Principal> = {}): Principal => ({
    userId: `u-${role}`, sessionId: 's', email: `${role}@x`, displayName: role, role, region: Region.NorthEast, partyId: 'p-labour', ...over,
  });
  const facts = (over: Partial<CaseAccessFacts> = {}): CaseAccessFacts => ({ authorityRegion: Region.NorthEast, referredToRiepAt: new Date(), team: [], ...over });
  const roles = [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer];

  it('denies the recused user whatever else would let them see the case (register, team, region, restriction, break-glass)', () => {
    for (const role of roles) {
      const p = principal(role);
      const teamRole = role === Role.LeadPoliticalPeer ? TeamRole.LeadPoliticalPeer : role === Role.RiepFacilitator ? TeamRole.RiepFacilitator : TeamRole.CaseLead;
      const seen = facts({ team: [{ userId: p.userId, teamRole }], restrictedToTeam: true, restrictedBy: p.userId, breakGlassGrants: [{ userId: p.userId, expiresAt: new Date(Date.now() + 3_600_000) }] });
      expect(caseVisibility(p, seen).allowed).toBe(true);
      expect(caseVisibility(p, { ...seen, recusedUserIds: [p.userId] })).toEqual({ allowed: false, rule: AccessRule.Recused });
      expect(caseActionDecision(p, CaseAction.Read, { ...seen, recusedUserIds: [p.userId] }).action.rule).toBe(AccessRule.Recused);
    }
  });

  it("changes nothing for anyone else on the case", () => {
    for (const role of roles) {
      const p = principal(role);
      const seen = facts({ team: [{ userId: p.userId, teamRole: TeamRole.CaseOfficer }] });
      expect(caseVisibility(p, { ...seen, recusedUserIds: ['u-someone-else'] })).toEqual(caseVisibility(p, seen));
    }
  });

  it('is excluded in the SQL twin for every role that sees any case', () => {
    for (const role of roles) {
      const s = caseScopeSql(principal(role), 1);
      expect(s.sql).toContain('case_recusals');
      expect(s.params).toContain(principal(role).userId);
    }
    expect(caseScopeSql(principal(Role.Auditor), 1).sql).toBe('FALSE');
  });
});
