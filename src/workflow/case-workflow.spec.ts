import { ALL_ROLES, Role } from '../access-control/role';
import { CaseMove, CaseOutcome, CaseState, PreInterventionOutcome } from './case-state';
import { availableMoves, CaseFacts, decideMove, MoveRequest, RefusalKind } from './case-workflow';
import { Precondition, PRECONDITION_MESSAGES } from './workflow-table';

/*
 * The workflow as DOMAIN.md ("The workflow") describes it, written out here independently of
 * WORKFLOW so that a change to the table (a state, a role or a precondition added or removed)
 * makes these tests fail rather than silently following it.
 */
const OFFICER = Role.ClearingHouseOfficer;
const MANAGER = Role.ClearingHouseManager;
const RIEP = Role.RiepFacilitator;
const STAFF = [OFFICER, MANAGER];
const ALL_STATES = Object.values(CaseState);
const OPEN = ALL_STATES.filter((s) => s !== CaseState.Closed);
const NO_MOVE_ROLES = [Role.LeadPoliticalPeer, Role.Auditor, Role.Administrator];

interface ExpectedMove {
  from: CaseState[];
  to: CaseState;
  roles: Role[];
}

const EXPECTED: Record<CaseMove, ExpectedMove> = {
  [CaseMove.StartTriage]: { from: [CaseState.ConcernRaised], to: CaseState.Triage, roles: STAFF },
  [CaseMove.Monitor]: { from: [CaseState.Triage], to: CaseState.Monitoring, roles: STAFF },
  [CaseMove.FollowUp]: { from: [CaseState.Triage, CaseState.Monitoring], to: CaseState.SensitiveConversation, roles: STAFF },
  [CaseMove.ReferToRiep]: { from: [CaseState.SensitiveConversation], to: CaseState.RiepDiscussion, roles: STAFF },
  [CaseMove.StartSupport]: { from: [CaseState.RiepDiscussion], to: CaseState.ImprovementSupport, roles: [OFFICER, MANAGER, RIEP] },
  [CaseMove.CallPreInterventionMeeting]: {
    from: [
      CaseState.ConcernRaised,
      CaseState.Triage,
      CaseState.Monitoring,
      CaseState.SensitiveConversation,
      CaseState.RiepDiscussion,
      CaseState.ImprovementSupport,
    ],
    to: CaseState.PreIntervention,
    roles: STAFF,
  },
  [CaseMove.ReturnToSectorLedSupport]: { from: [CaseState.PreIntervention], to: CaseState.ImprovementSupport, roles: STAFF },
  [CaseMove.Close]: { from: OPEN, to: CaseState.Closed, roles: [MANAGER] },
  [CaseMove.Reopen]: { from: [CaseState.Closed], to: CaseState.Triage, roles: [MANAGER] },
};
const MOVES = Object.keys(EXPECTED) as CaseMove[];

/** A case with nothing recorded on it. */
function bare(state: CaseState): CaseFacts {
  return { state, hasSensitiveConversation: false, hasAgreedWayForward: false, hasGovernmentTrigger: false, latestPreInterventionOutcome: null };
}

/**
 * The least a move needs to be allowed: only its own preconditions are met, so an allowed answer
 * also shows that nothing else is required.
 */
function minimal(move: CaseMove, state: CaseState, role: Role): { facts: CaseFacts; req: MoveRequest } {
  const facts = bare(state);
  const req: MoveRequest = { move, role };
  switch (move) {
    case CaseMove.ReferToRiep:
      facts.hasSensitiveConversation = true;
      break;
    case CaseMove.StartSupport:
      facts.hasAgreedWayForward = true;
      break;
    case CaseMove.CallPreInterventionMeeting:
      facts.hasGovernmentTrigger = true;
      break;
    case CaseMove.ReturnToSectorLedSupport:
      facts.latestPreInterventionOutcome = PreInterventionOutcome.SectorLedAlternativeAgreed;
      break;
    case CaseMove.Close:
      req.outcome = CaseOutcome.NoFurtherAction;
      req.reason = 'Dealt with routinely by the authority';
      break;
    case CaseMove.Monitor:
    case CaseMove.Reopen:
      req.reason = 'New information from the inspectorate';
      break;
    case CaseMove.StartTriage:
    case CaseMove.FollowUp:
      break;
  }
  return { facts, req };
}

function expectRefused(facts: CaseFacts, req: MoveRequest, kind: RefusalKind, precondition?: Precondition): void {
  const d = decideMove(facts, req);
  expect(d.allowed).toBe(false);
  if (d.allowed) return;
  expect(d.kind).toBe(kind);
  expect(d.precondition).toBe(precondition);
  if (precondition) expect(d.message).toBe(PRECONDITION_MESSAGES[precondition]);
  expect(d.message.length).toBeGreaterThan(0);
}

const BLANK_REASONS: Array<[string, string | null | undefined]> = [
  ['undefined', undefined],
  ['null', null],
  ['empty', ''],
  ['spaces', '   '],
  ['tabs and newlines', '\t\n \r\n'],
];

describe('decideMove', () => {
  describe.each(MOVES)('%s', (move) => {
    const e = EXPECTED[move];
    const allowedCases = e.from.flatMap((state) => e.roles.map((role) => [state, role] as const));
    const otherStates = ALL_STATES.filter((s) => !e.from.includes(s));
    const otherRoles = ALL_ROLES.filter((r) => !e.roles.includes(r));

    it.each(allowedCases)(`is allowed from %s for %s, to ${e.to}`, (state, role) => {
      const { facts, req } = minimal(move, state, role);
      expect(decideMove(facts, req)).toEqual({ allowed: true, from: state, to: e.to });
    });

    if (otherStates.length > 0) {
      const refusedStates = otherStates.flatMap((state) => e.roles.map((role) => [state, role] as const));
      it.each(refusedStates)('is refused from %s (for %s) as not from this state', (state, role) => {
        const { facts, req } = minimal(move, state, role);
        expectRefused(facts, req, RefusalKind.NotFromThisState);
      });
    }

    const refusedRoles = e.from.flatMap((state) => otherRoles.map((role) => [state, role] as const));
    it.each(refusedRoles)('is refused from %s for %s as a role that may not move', (state, role) => {
      const { facts, req } = minimal(move, state, role);
      expectRefused(facts, req, RefusalKind.RoleMayNotMove);
    });
  });

  describe('who may move', () => {
    it.each(NO_MOVE_ROLES)('%s may make no move from any state, even with everything recorded', (role) => {
      for (const move of MOVES) {
        for (const state of EXPECTED[move].from) {
          const facts: CaseFacts = {
            state,
            hasSensitiveConversation: true,
            hasAgreedWayForward: true,
            hasGovernmentTrigger: true,
            latestPreInterventionOutcome: PreInterventionOutcome.SectorLedAlternativeAgreed,
          };
          expectRefused(facts, { move, role, reason: 'a reason', outcome: CaseOutcome.Withdrawn }, RefusalKind.RoleMayNotMove);
        }
      }
    });

    it('a role that may never make a move is refused as such whatever state the case is in', () => {
      for (const move of MOVES) {
        for (const role of ALL_ROLES.filter((r) => !EXPECTED[move].roles.includes(r))) {
          for (const state of ALL_STATES) {
            const { facts, req } = minimal(move, state, role);
            expectRefused(facts, req, RefusalKind.RoleMayNotMove);
          }
        }
      }
    });

    it('only a manager may close or reopen', () => {
      for (const role of ALL_ROLES.filter((r) => r !== MANAGER)) {
        for (const [move, state] of [[CaseMove.Close, CaseState.Triage], [CaseMove.Reopen, CaseState.Closed]] as const) {
          const { facts, req } = minimal(move, state, role);
          expectRefused(facts, req, RefusalKind.RoleMayNotMove);
        }
      }
    });

    it('a RIEP facilitator may start support and make no other move', () => {
      for (const move of MOVES) {
        for (const state of EXPECTED[move].from) {
          const { facts, req } = minimal(move, state, RIEP);
          expect(decideMove(facts, req).allowed).toBe(move === CaseMove.StartSupport);
        }
      }
    });
  });

  describe('preconditions', () => {
    it('moves without preconditions need nothing recorded and no reason', () => {
      expect(decideMove(bare(CaseState.ConcernRaised), { move: CaseMove.StartTriage, role: OFFICER })).toEqual({
        allowed: true,
        from: CaseState.ConcernRaised,
        to: CaseState.Triage,
      });
      expect(decideMove(bare(CaseState.Triage), { move: CaseMove.FollowUp, role: OFFICER }).allowed).toBe(true);
      expect(decideMove(bare(CaseState.Monitoring), { move: CaseMove.FollowUp, role: MANAGER, reason: '  ' }).allowed).toBe(true);
    });

    describe('refer_to_riep needs a sensitive conversation on record', () => {
      it.each(STAFF)('is refused for %s without one', (role) => {
        const facts = { ...bare(CaseState.SensitiveConversation), hasAgreedWayForward: true, hasGovernmentTrigger: true };
        expectRefused(facts, { move: CaseMove.ReferToRiep, role, reason: 'r' }, RefusalKind.PreconditionMissing, Precondition.SensitiveConversationRecorded);
      });
    });

    describe('start_support needs an agreed way forward', () => {
      it.each([OFFICER, MANAGER, RIEP])('is refused for %s without one', (role) => {
        const facts = { ...bare(CaseState.RiepDiscussion), hasSensitiveConversation: true, hasGovernmentTrigger: true };
        expectRefused(facts, { move: CaseMove.StartSupport, role, reason: 'r' }, RefusalKind.PreconditionMissing, Precondition.AgreedWayForwardRecorded);
      });
    });

    describe('call_pre_intervention_meeting needs a government trigger', () => {
      const fromStates = EXPECTED[CaseMove.CallPreInterventionMeeting].from;
      const cases = fromStates.flatMap((state) => STAFF.map((role) => [state, role] as const));

      it('is reachable from every open state except pre_intervention itself', () => {
        for (const state of ALL_STATES) {
          const d = decideMove({ ...bare(state), hasGovernmentTrigger: true }, { move: CaseMove.CallPreInterventionMeeting, role: OFFICER });
          expect(d.allowed).toBe(state !== CaseState.PreIntervention && state !== CaseState.Closed);
        }
      });

      it.each(cases)('is refused from %s for %s without one', (state, role) => {
        const facts = { ...bare(state), hasSensitiveConversation: true, hasAgreedWayForward: true };
        expectRefused(facts, { move: CaseMove.CallPreInterventionMeeting, role }, RefusalKind.PreconditionMissing, Precondition.GovernmentTriggerRecorded);
      });
    });

    describe('return_to_sector_led_support needs the meeting to have agreed a sector-led alternative', () => {
      const cases = [null, PreInterventionOutcome.Deferred, PreInterventionOutcome.InterventionProceeds].flatMap((outcome) =>
        STAFF.map((role) => [outcome, role] as const),
      );
      it.each(cases)('is refused when the latest meeting outcome is %s (for %s)', (outcome, role) => {
        const facts: CaseFacts = {
          state: CaseState.PreIntervention,
          hasSensitiveConversation: true,
          hasAgreedWayForward: true,
          hasGovernmentTrigger: true,
          latestPreInterventionOutcome: outcome,
        };
        expectRefused(facts, { move: CaseMove.ReturnToSectorLedSupport, role, reason: 'r' }, RefusalKind.PreconditionMissing, Precondition.SectorLedAlternativeAgreed);
      });
    });

    describe('close needs an outcome and a reason', () => {
      it.each(OPEN)('is refused from %s without an outcome', (state) => {
        expectRefused(bare(state), { move: CaseMove.Close, role: MANAGER, reason: 'Resolved' }, RefusalKind.PreconditionMissing, Precondition.OutcomeGiven);
        expectRefused(bare(state), { move: CaseMove.Close, role: MANAGER, reason: 'Resolved', outcome: null }, RefusalKind.PreconditionMissing, Precondition.OutcomeGiven);
      });

      it.each(BLANK_REASONS)('is refused with a reason that is %s', (_label, reason) => {
        for (const state of OPEN) {
          expectRefused(bare(state), { move: CaseMove.Close, role: MANAGER, outcome: CaseOutcome.Withdrawn, reason }, RefusalKind.PreconditionMissing, Precondition.ReasonGiven);
        }
      });

      it.each(Object.values(CaseOutcome).filter((o) => o !== CaseOutcome.GovernmentIntervention))(
        'closes with outcome %s from every open state whatever the meeting outcome',
        (outcome) => {
          for (const state of OPEN) {
            for (const meeting of [null, ...Object.values(PreInterventionOutcome)]) {
              const facts = { ...bare(state), latestPreInterventionOutcome: meeting };
              expect(decideMove(facts, { move: CaseMove.Close, role: MANAGER, outcome, reason: 'Because' })).toEqual({
                allowed: true,
                from: state,
                to: CaseState.Closed,
              });
            }
          }
        },
      );
    });

    describe('close as government intervention needs a pre-intervention meeting whose outcome is that intervention proceeds', () => {
      const req: MoveRequest = { move: CaseMove.Close, role: MANAGER, outcome: CaseOutcome.GovernmentIntervention, reason: 'Department issued a notice' };

      it('is allowed from pre_intervention after an intervention_proceeds meeting', () => {
        const facts = { ...bare(CaseState.PreIntervention), hasGovernmentTrigger: true, latestPreInterventionOutcome: PreInterventionOutcome.InterventionProceeds };
        expect(decideMove(facts, req)).toEqual({ allowed: true, from: CaseState.PreIntervention, to: CaseState.Closed });
      });

      it.each([null, PreInterventionOutcome.Deferred, PreInterventionOutcome.SectorLedAlternativeAgreed])(
        'is refused from pre_intervention when the latest meeting outcome is %s',
        (meeting) => {
          const facts = { ...bare(CaseState.PreIntervention), hasGovernmentTrigger: true, latestPreInterventionOutcome: meeting };
          expectRefused(facts, req, RefusalKind.PreconditionMissing, Precondition.InterventionProceedsForGovernmentOutcome);
        },
      );

      it.each(OPEN.filter((s) => s !== CaseState.PreIntervention))('is refused from %s even after an intervention_proceeds meeting', (state) => {
        const facts = { ...bare(state), hasGovernmentTrigger: true, latestPreInterventionOutcome: PreInterventionOutcome.InterventionProceeds };
        expectRefused(facts, req, RefusalKind.PreconditionMissing, Precondition.InterventionProceedsForGovernmentOutcome);
      });
    });

    describe.each([
      [CaseMove.Reopen, CaseState.Closed],
      [CaseMove.Monitor, CaseState.Triage],
    ])('%s needs a reason', (move, state) => {
      const roles = EXPECTED[move].roles;
      const cases = BLANK_REASONS.flatMap(([label, reason]) => roles.map((role) => [label, reason, role] as const));
      it.each(cases)('is refused with a reason that is %s (for %s)', (_label, reason, role) => {
        expectRefused(bare(state), { move, role, reason }, RefusalKind.PreconditionMissing, Precondition.ReasonGiven);
      });
      it('is allowed with a reason that has surrounding whitespace', () => {
        expect(decideMove(bare(state), { move, role: MANAGER, reason: '  because  ' }).allowed).toBe(true);
      });
    });
  });
});

describe('availableMoves', () => {
  const everything = (state: CaseState): CaseFacts => ({
    state,
    hasSensitiveConversation: true,
    hasAgreedWayForward: true,
    hasGovernmentTrigger: true,
    latestPreInterventionOutcome: PreInterventionOutcome.SectorLedAlternativeAgreed,
  });
  const CALL = CaseMove.CallPreInterventionMeeting;

  const OFFICER_MOVES: Record<CaseState, CaseMove[]> = {
    [CaseState.ConcernRaised]: [CaseMove.StartTriage, CALL],
    [CaseState.Triage]: [CaseMove.Monitor, CaseMove.FollowUp, CALL],
    [CaseState.Monitoring]: [CaseMove.FollowUp, CALL],
    [CaseState.SensitiveConversation]: [CaseMove.ReferToRiep, CALL],
    [CaseState.RiepDiscussion]: [CaseMove.StartSupport, CALL],
    [CaseState.ImprovementSupport]: [CALL],
    [CaseState.PreIntervention]: [CaseMove.ReturnToSectorLedSupport],
    [CaseState.Closed]: [],
  };

  const sorted = (moves: CaseMove[]) => [...moves].sort();

  it.each(ALL_STATES)('offers an officer the expected moves in %s', (state) => {
    expect(sorted(availableMoves(everything(state), OFFICER))).toEqual(sorted(OFFICER_MOVES[state]));
  });

  it.each(ALL_STATES)('offers a manager the officer moves plus close (open) or reopen (closed) in %s', (state) => {
    const extra = state === CaseState.Closed ? [CaseMove.Reopen] : [CaseMove.Close];
    expect(sorted(availableMoves(everything(state), MANAGER))).toEqual(sorted([...OFFICER_MOVES[state], ...extra]));
  });

  it.each(ALL_STATES)('offers a RIEP facilitator only start_support, and only in riep_discussion (%s)', (state) => {
    expect(availableMoves(everything(state), RIEP)).toEqual(state === CaseState.RiepDiscussion ? [CaseMove.StartSupport] : []);
  });

  it.each(NO_MOVE_ROLES)('offers %s nothing in any state', (role) => {
    for (const state of ALL_STATES) expect(availableMoves(everything(state), role)).toEqual([]);
  });

  it('offers exactly the moves that decideMove does not refuse for state or role', () => {
    for (const state of ALL_STATES) {
      for (const role of ALL_ROLES) {
        const offered = availableMoves(bare(state), role);
        for (const move of MOVES) {
          const d = decideMove(bare(state), { move, role });
          const refusedForStateOrRole = !d.allowed && d.kind !== RefusalKind.PreconditionMissing;
          expect(offered.includes(move)).toBe(!refusedForStateOrRole);
        }
      }
    }
  });
});
