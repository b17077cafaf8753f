import { AccessRule, CaseAction, caseActionDecision, caseScopeSql, caseVisibility } from '../access-control/case-access-policy';
import { TeamRole } from '../access-control/handling';
import { Role } from '../access-control/role';
import { Principal } from '../auth/principal';
import { CaseState } from '../workflow/case-state';
import { grantPeriod, liaisonPackAccess, mayNameLiaison, mayReleasePackItem, StageAccessRule } from './stage-access-policy';

const liaison = { role: Role.GovernmentLiaison };
const STAGE = 'stage-2';

describe('liaisonPackAccess', () => {
  it('allows a liaison named for the current pre-intervention stage', () => {
    expect(liaisonPackAccess(liaison, { state: CaseState.PreIntervention, stageTransitionId: STAGE, namings: [{ stageTransitionId: STAGE, removedAt: null }] }))
      .toEqual({ allowed: true, rule: StageAccessRule.LiaisonNamedForStage });
  });

  it.each(Object.values(CaseState).filter((s) => s !== CaseState.PreIntervention))('refuses at %s, even if named before', (state) => {
    expect(liaisonPackAccess(liaison, { state, stageTransitionId: null, namings: [{ stageTransitionId: STAGE, removedAt: null }] }))
      .toEqual({ allowed: false, rule: StageAccessRule.CaseNotAtStage });
  });

  it('refuses a liaison named only for an earlier stage of the case', () => {
    expect(liaisonPackAccess(liaison, { state: CaseState.PreIntervention, stageTransitionId: STAGE, namings: [{ stageTransitionId: 'stage-1', removedAt: null }] }))
      .toEqual({ allowed: false, rule: StageAccessRule.LiaisonNotNamed });
  });

  it('refuses a liaison not named at all', () => {
    expect(liaisonPackAccess(liaison, { state: CaseState.PreIntervention, stageTransitionId: STAGE, namings: [] }))
      .toEqual({ allowed: false, rule: StageAccessRule.LiaisonNotNamed });
  });

  it('refuses a liaison removed from the stage, and allows one named again', () => {
    const removed = { stageTransitionId: STAGE, removedAt: new Date() };
    expect(liaisonPackAccess(liaison, { state: CaseState.PreIntervention, stageTransitionId: STAGE, namings: [removed] }))
      .toEqual({ allowed: false, rule: StageAccessRule.LiaisonRemoved });
    expect(liaisonPackAccess(liaison, { state: CaseState.PreIntervention, stageTransitionId: STAGE, namings: [removed, { stageTransitionId: STAGE, removedAt: null }] }).allowed)
      .toBe(true);
  });

  it.each(Object.values(Role).filter((r) => r !== Role.GovernmentLiaison))('is not how a %s reads a pack', (role) => {
    expect(liaisonPackAccess({ role }, { state: CaseState.PreIntervention, stageTransitionId: STAGE, namings: [{ stageTransitionId: STAGE, removedAt: null }] }))
      .toEqual({ allowed: false, rule: StageAccessRule.NotALiaison });
  });
});

describe('who manages the stage', () => {
  it('lets only a manager name a liaison, only at the pre-intervention stage', () => {
    for (const role of Object.values(Role)) {
      for (const state of Object.values(CaseState)) {
        expect({ role, state, may: mayNameLiaison({ role }, state) })
          .toEqual({ role, state, may: role === Role.ClearingHouseManager && state === CaseState.PreIntervention });
      }
    }
  });

  it('lets clearing-house staff release pack items, only at the stage', () => {
    for (const role of Object.values(Role)) {
      for (const state of Object.values(CaseState)) {
        const staff = role === Role.ClearingHouseOfficer || role === Role.ClearingHouseManager;
        expect({ role, state, may: mayReleasePackItem({ role }, state) }).toEqual({ role, state, may: staff && state === CaseState.PreIntervention });
      }
    }
  });
});

describe('grantPeriod', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 10, 1, 10, m));
  it('runs from the naming until the stage ends', () => {
    expect(grantPeriod({ namedAt: at(5), removedAt: null }, { enteredAt: at(0), endedAt: at(30) })).toEqual({ from: at(5), until: at(30), endedBecause: 'stage_ended' });
  });
  it('ends at a removal before the stage ends', () => {
    expect(grantPeriod({ namedAt: at(5), removedAt: at(10) }, { enteredAt: at(0), endedAt: at(30) })).toEqual({ from: at(5), until: at(10), endedBecause: 'removed' });
  });
  it('is open while the stage lasts', () => {
    expect(grantPeriod({ namedAt: at(5), removedAt: null }, { enteredAt: at(0), endedAt: null })).toEqual({ from: at(5), until: null, endedBecause: null });
  });
});

describe('the case access policy for a government liaison', () => {
  const p = { userId: 'liaison-1', sessionId: 's', email: 'l@x', displayName: 'L', role: Role.GovernmentLiaison, region: null, partyId: null } as Principal;
  const onEveryTeam = { authorityRegion: null, referredToRiepAt: new Date(), team: [{ userId: 'liaison-1', teamRole: TeamRole.CaseOfficer }] };

  it('shows no case at all, whatever the facts (even on a team, even referred): the pack is their only way in', () => {
    expect(caseVisibility(p, onEveryTeam)).toEqual({ allowed: false, rule: AccessRule.LiaisonPackOnly });
    for (const action of Object.values(CaseAction)) expect(caseActionDecision(p, action, onEveryTeam).action.allowed).toBe(false);
    expect(caseScopeSql(p, 1)).toEqual({ sql: 'FALSE', params: [] });
  });
});
