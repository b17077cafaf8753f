import { ItemHandling } from '../access-control/handling';
import { AccessRule, itemVisibility } from '../access-control/case-access-policy';
import { Role } from '../access-control/role';
import { Principal } from '../auth/principal';
import { compartmentScopeSql, compartmentVisibility, CompartmentRule, mayBeNamedOnCompartment, mayManageCompartment, mayPlaceRecord } from './compartment-policy';

const PEER = 'peer-1';
const STAFF = 'officer-named';
const compartment = { peerId: PEER, staffIds: [STAFF, 'manager-named'] };
const principal = (userId: string, role: Role, partyId: string | null = null): Principal =>
  ({ userId, role, partyId, region: null, sessionId: 's', email: `${userId}@x`, displayName: userId }) as Principal;

describe('compartmentVisibility', () => {
  it('admits its peer and the named clearing-house staff', () => {
    expect(compartmentVisibility(principal(PEER, Role.LeadPoliticalPeer), compartment)).toEqual({ allowed: true, rule: CompartmentRule.Owner });
    expect(compartmentVisibility(principal(STAFF, Role.ClearingHouseOfficer), compartment)).toEqual({ allowed: true, rule: CompartmentRule.NamedStaff });
    expect(compartmentVisibility(principal('manager-named', Role.ClearingHouseManager), compartment).allowed).toBe(true);
  });

  it('keeps out managers not named, other peers, RIEP facilitators and a named user who is no longer staff', () => {
    for (const p of [
      principal('manager-other', Role.ClearingHouseManager),
      principal('officer-other', Role.ClearingHouseOfficer),
      principal('peer-2', Role.LeadPoliticalPeer),
      principal('riep', Role.RiepFacilitator),
      principal(STAFF, Role.RiepFacilitator),
      principal(PEER, Role.ClearingHouseOfficer),
    ]) {
      expect(compartmentVisibility(p, compartment)).toEqual({ allowed: false, rule: CompartmentRule.Outside });
    }
  });
});

describe('itemVisibility with a compartment', () => {
  const record = { handling: ItemHandling.Normal, partyId: null, namedUserIds: [], compartment };
  it('hides a record in a compartment from a manager outside it (a named-only record would not)', () => {
    expect(itemVisibility(principal('manager-other', Role.ClearingHouseManager), record)).toEqual({ allowed: false, rule: AccessRule.ItemInCompartment });
    expect(itemVisibility(principal('manager-other', Role.ClearingHouseManager), { ...record, handling: ItemHandling.NamedOnly, compartment: null }).allowed).toBe(true);
  });

  it('still applies the marking inside the compartment', () => {
    const partyConfidential = { ...record, handling: ItemHandling.PartyConfidential, partyId: 'labour' };
    expect(itemVisibility(principal(STAFF, Role.ClearingHouseOfficer), partyConfidential)).toEqual({ allowed: false, rule: AccessRule.ItemPartyConfidentialNotPeer });
    expect(itemVisibility(principal(PEER, Role.LeadPoliticalPeer, 'labour'), partyConfidential).allowed).toBe(true);
    expect(itemVisibility(principal('manager-named', Role.ClearingHouseManager), partyConfidential).allowed).toBe(true);
  });

  it('changes nothing for a record in no compartment', () => {
    expect(itemVisibility(principal('riep', Role.RiepFacilitator), { ...record, compartment: null })).toEqual({ allowed: true, rule: AccessRule.ItemNormal });
  });
});

describe('managing a compartment', () => {
  it('is its peer only', () => {
    expect(mayManageCompartment(principal(PEER, Role.LeadPoliticalPeer), compartment)).toBe(true);
    expect(mayManageCompartment(principal('manager-named', Role.ClearingHouseManager), compartment)).toBe(false);
    expect(mayManageCompartment(principal('peer-2', Role.LeadPoliticalPeer), compartment)).toBe(false);
  });

  it('names clearing-house staff only', () => {
    expect(Object.values(Role).filter(mayBeNamedOnCompartment).sort()).toEqual([Role.ClearingHouseManager, Role.ClearingHouseOfficer].sort());
  });

  it('places only the peer’s own records of the same case', () => {
    const p = principal(PEER, Role.LeadPoliticalPeer);
    const c = { peerId: PEER, caseId: 'case-1' };
    expect(mayPlaceRecord(p, c, { caseId: 'case-1', recordedBy: PEER })).toBe(true);
    expect(mayPlaceRecord(p, c, { caseId: 'case-2', recordedBy: PEER })).toBe(false);
    expect(mayPlaceRecord(p, c, { caseId: 'case-1', recordedBy: STAFF })).toBe(false);
  });
});

describe('compartmentScopeSql', () => {
  it('gives the owner clause to peers and the membership clause to staff only', () => {
    expect(compartmentScopeSql(principal(PEER, Role.LeadPoliticalPeer), 3).sql).toContain('(TRUE AND k.peer_id = $3::uuid)');
    expect(compartmentScopeSql(principal(PEER, Role.LeadPoliticalPeer), 3).sql).toContain('(FALSE AND EXISTS');
    expect(compartmentScopeSql(principal(STAFF, Role.ClearingHouseOfficer), 3).sql).toContain('(TRUE AND EXISTS');
    expect(compartmentScopeSql(principal('riep', Role.RiepFacilitator), 3).sql).toContain('NOT ((FALSE AND k.peer_id = $3::uuid) OR (FALSE AND EXISTS');
  });
});
