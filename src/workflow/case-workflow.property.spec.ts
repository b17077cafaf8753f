import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { ALL_ROLES, Role } from '../access-control/role';
import { CaseMove, CaseOutcome, CaseState, PreInterventionOutcome } from './case-state';
import { CaseFacts, decideMove, MoveDecision, MoveRequest } from './case-workflow';
import { WORKFLOW } from './workflow-table';

/*
 * Property-based tests of the workflow: random histories of moves, by random people, with
 * random reasons and outcomes, interleaved with random things being recorded on the case. A
 * tiny model applies each allowed decision the way the service does (state := to, one history
 * entry per allowed move, outcome set on close and cleared on reopen).
 */

interface Step {
  move: CaseMove;
  role: Role;
  from: CaseState;
  to: CaseState;
  reason: string | null | undefined;
  outcome: CaseOutcome | null | undefined;
  /** The meeting outcome on record when the move was made. */
  meeting: PreInterventionOutcome | null;
}

interface ModelCase {
  facts: CaseFacts;
  outcome: CaseOutcome | null;
  history: readonly Step[];
}

type FactChange =
  | { kind: 'sensitive_conversation' }
  | { kind: 'agree_support' }
  | { kind: 'government_trigger' }
  | { kind: 'meeting_outcome'; outcome: PreInterventionOutcome };

/**
 * A move, or (guided) "the n-th move the table lets this case start from now", so that long
 * histories travel deep into the workflow instead of stalling on moves that cannot start here.
 * Role, reason and outcome stay random either way.
 */
type Command = { type: 'move'; req: MoveRequest; guided?: number } | { type: 'fact'; change: FactChange };

const ALL_STATES = Object.values(CaseState);
const ALL_MOVES = Object.values(CaseMove);

function newCase(): ModelCase {
  return {
    facts: {
      state: CaseState.ConcernRaised,
      hasSensitiveConversation: false,
      hasAgreedWayForward: false,
      hasGovernmentTrigger: false,
      latestPreInterventionOutcome: null,
    },
    outcome: null,
    history: [],
  };
}

function applyFact(c: ModelCase, change: FactChange): ModelCase {
  const facts = { ...c.facts };
  switch (change.kind) {
    case 'sensitive_conversation':
      facts.hasSensitiveConversation = true;
      break;
    case 'agree_support':
      facts.hasAgreedWayForward = true;
      break;
    case 'government_trigger':
      facts.hasGovernmentTrigger = true;
      break;
    case 'meeting_outcome':
      facts.latestPreInterventionOutcome = change.outcome;
      break;
  }
  return { ...c, facts };
}

/** Decides the move and, only when it is allowed, applies it. */
function applyMove(c: ModelCase, req: MoveRequest): { next: ModelCase; decision: MoveDecision } {
  const decision = decideMove(c.facts, req);
  if (!decision.allowed) return { next: c, decision };
  const step: Step = {
    move: req.move,
    role: req.role,
    from: decision.from,
    to: decision.to,
    reason: req.reason,
    outcome: req.outcome,
    meeting: c.facts.latestPreInterventionOutcome,
  };
  let outcome = c.outcome;
  if (req.move === CaseMove.Close) outcome = req.outcome ?? null;
  if (req.move === CaseMove.Reopen) outcome = null;
  return { next: { facts: { ...c.facts, state: decision.to }, outcome, history: [...c.history, step] }, decision };
}

// Generators, biased towards people who can move and reasons that count, so that long histories
// actually travel through the workflow; but every role, blank reason and missing outcome appears.
const roleArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(Role.ClearingHouseManager) },
  { weight: 2, arbitrary: fc.constant(Role.ClearingHouseOfficer) },
  { weight: 1, arbitrary: fc.constant(Role.RiepFacilitator) },
  { weight: 1, arbitrary: fc.constantFrom(...ALL_ROLES) },
);
const reasonArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('Resolved locally', 'Inspectorate letter received', 'x') },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, '', ' ', '\t\n  ') },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);
const outcomeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.values(CaseOutcome)) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null) },
);
const moveArb: fc.Arbitrary<Command> = fc.record({
  move: fc.constantFrom(...ALL_MOVES),
  role: roleArb,
  reason: reasonArb,
  outcome: outcomeArb,
}).map((req) => ({ type: 'move', req }));
const factArb: fc.Arbitrary<Command> = fc
  .oneof(
    fc.constant<FactChange>({ kind: 'sensitive_conversation' }),
    fc.constant<FactChange>({ kind: 'agree_support' }),
    fc.constant<FactChange>({ kind: 'government_trigger' }),
    fc.constantFrom(...Object.values(PreInterventionOutcome)).map<FactChange>((outcome) => ({ kind: 'meeting_outcome', outcome })),
  )
  .map((change) => ({ type: 'fact', change }));
const guidedArb: fc.Arbitrary<Command> = fc
  .tuple(moveArb, fc.nat())
  .map(([command, guided]) => ({ ...command, guided }) as Command);
const commandsArb = fc.array(
  fc.oneof({ weight: 2, arbitrary: moveArb }, { weight: 3, arbitrary: guidedArb }, { weight: 2, arbitrary: factArb }),
  { maxLength: 60, size: 'max' },
);

/** The request a move command makes of a case in this state. */
function requestFor(command: Extract<Command, { type: 'move' }>, state: CaseState): MoveRequest {
  if (command.guided === undefined) return command.req;
  const startingHere = ALL_MOVES.filter((m) => WORKFLOW[m].from.includes(state));
  return startingHere.length === 0 ? command.req : { ...command.req, move: startingHere[command.guided % startingHere.length] };
}

/** A copy sharing nothing with the original, to compare it against afterwards. */
function deepCopy(c: ModelCase): ModelCase {
  return { facts: { ...c.facts }, outcome: c.outcome, history: c.history.map((step) => ({ ...step })) };
}

const isBlank = (s: string | null | undefined) => !s || s.trim().length === 0;

/** A plain assertion: the hot loop runs tens of thousands of times, and a failure is shrunk by fast-check. */
function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** One history step is a row of the table (a). */
function checkStep(step: Step): void {
  const row = WORKFLOW[step.move];
  check(row.from.includes(step.from), `${step.move} may not start from ${step.from}`);
  check(step.to === row.to, `${step.move} must end in ${row.to}, not ${step.to}`);
  check(row.roles.includes(step.role), `${step.role} may not make ${step.move}`);
  // (e) a closed case only leaves by reopening.
  check(step.from !== CaseState.Closed || step.move === CaseMove.Reopen, `a closed case left by ${step.move}`);
  // (c) closing always carries an outcome and a real reason.
  if (step.to === CaseState.Closed) {
    check(!!step.outcome, 'closed without an outcome');
    check(!isBlank(step.reason), `closed with the blank reason ${JSON.stringify(step.reason)}`);
  }
  // A government-intervention closure follows a meeting at which intervention proceeded.
  if (step.move === CaseMove.Close && step.outcome === CaseOutcome.GovernmentIntervention) {
    check(step.from === CaseState.PreIntervention, `closed as government intervention from ${step.from}`);
    check(step.meeting === PreInterventionOutcome.InterventionProceeds, `closed as government intervention after a meeting outcome ${step.meeting}`);
  }
}

/** The state of the case as it stands (c, e). */
function checkCurrent(c: ModelCase): void {
  check(ALL_STATES.includes(c.facts.state), `unknown state ${c.facts.state}`);
  const last = c.history[c.history.length - 1];
  check(c.facts.state === (last ? last.to : CaseState.ConcernRaised), 'the state is not where the history leads');
  if (c.facts.state === CaseState.Closed) {
    check(last.move === CaseMove.Close, 'closed other than by close');
    check(!!c.outcome && c.outcome === last.outcome, 'closed without the outcome of its closing move');
    check(!isBlank(last.reason), 'closed without a reason');
  } else {
    check(c.outcome === null, `open case with outcome ${c.outcome}`);
  }
}

/** The whole history: every step valid and the steps chained from concern_raised (a). */
function checkHistory(c: ModelCase): void {
  let expectedFrom = CaseState.ConcernRaised;
  for (const step of c.history) {
    checkStep(step);
    check(step.from === expectedFrom, `step ${step.move} starts from ${step.from}, but the case was in ${expectedFrom}`);
    expectedFrom = step.to;
  }
  checkCurrent(c);
}

describe('case workflow properties', () => {
  it('random histories only ever follow the table, keep every entry, close with an outcome and reason, and refusals change nothing', () => {
    const statesReached = new Set<CaseState>();
    const movesAllowed = new Set<CaseMove>();
    const movesRefused = new Set<CaseMove>();
    let longestHistory = 0;

    fc.assert(
      fc.property(commandsArb, (commands) => {
        let c = newCase();
        let allowedCount = 0;
        checkCurrent(c);
        for (const command of commands) {
          const before = c;
          const snapshot = deepCopy(before);
          if (command.type === 'fact') {
            c = applyFact(c, command.change);
            check(c.history === before.history && c.facts.state === before.facts.state, 'recording a fact moved the case');
          } else {
            const req = requestFor(command, c.facts.state);
            const { next, decision } = applyMove(c, req);
            c = next;
            if (decision.allowed) {
              allowedCount += 1;
              movesAllowed.add(req.move);
              // (b) one new entry, on top of all the old ones, unchanged.
              check(c.history.length === before.history.length + 1, 'an allowed move did not add exactly one entry');
              check(before.history.every((step, i) => c.history[i] === step), 'an allowed move rewrote history');
              const step = c.history[c.history.length - 1];
              checkStep(step);
              check(step.from === before.facts.state, 'the new step does not start where the case was');
            } else {
              movesRefused.add(req.move);
              // (d) a refused move changes nothing.
              check(isDeepStrictEqual(c, snapshot), `refused ${req.move} changed the case`);
            }
          }
          // The previous model is never altered in place, and (b) entries equal allowed moves.
          check(isDeepStrictEqual(before, snapshot), 'the previous case was altered in place');
          check(c.history.length === allowedCount, 'history length differs from the number of allowed moves');
          checkCurrent(c);
          statesReached.add(c.facts.state);
        }
        checkHistory(c);
        longestHistory = Math.max(longestHistory, c.history.length);
      }),
      { numRuns: 1000 },
    );

    // The generators must actually exercise the workflow, or the properties above say little.
    expect([...statesReached].sort()).toEqual([...ALL_STATES].sort());
    expect([...movesAllowed].sort()).toEqual([...ALL_MOVES].sort());
    expect([...movesRefused].sort()).toEqual([...ALL_MOVES].sort());
    expect(longestHistory).toBeGreaterThanOrEqual(10);
  });

  it('a refused move leaves the case exactly as it was, whatever the case', () => {
    const factsArb: fc.Arbitrary<CaseFacts> = fc.record({
      state: fc.constantFrom(...ALL_STATES),
      hasSensitiveConversation: fc.boolean(),
      hasAgreedWayForward: fc.boolean(),
      hasGovernmentTrigger: fc.boolean(),
      latestPreInterventionOutcome: fc.constantFrom(null, ...Object.values(PreInterventionOutcome)),
    });
    const reqArb: fc.Arbitrary<MoveRequest> = fc.record({ move: fc.constantFrom(...ALL_MOVES), role: roleArb, reason: reasonArb, outcome: outcomeArb });
    fc.assert(
      fc.property(factsArb, reqArb, (facts, req) => {
        const c: ModelCase = { facts, outcome: facts.state === CaseState.Closed ? CaseOutcome.Withdrawn : null, history: [] };
        const snapshot = deepCopy(c);
        const { next, decision } = applyMove(c, req);
        if (decision.allowed) {
          expect(decision.from).toBe(facts.state);
          expect(decision.to).toBe(WORKFLOW[req.move].to);
          expect(next.facts.state).toBe(decision.to);
        } else {
          expect(next).toEqual(snapshot);
          expect(c).toEqual(snapshot);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('from closed, only reopen by a manager with a reason leads anywhere, and it leads to triage', () => {
    const closedFacts: fc.Arbitrary<CaseFacts> = fc.record({
      state: fc.constant(CaseState.Closed),
      hasSensitiveConversation: fc.boolean(),
      hasAgreedWayForward: fc.boolean(),
      hasGovernmentTrigger: fc.boolean(),
      latestPreInterventionOutcome: fc.constantFrom(null, ...Object.values(PreInterventionOutcome)),
    });
    const reqArb: fc.Arbitrary<MoveRequest> = fc.record({ move: fc.constantFrom(...ALL_MOVES), role: fc.constantFrom(...ALL_ROLES), reason: reasonArb, outcome: outcomeArb });
    fc.assert(
      fc.property(closedFacts, reqArb, (facts, req) => {
        const d = decideMove(facts, req);
        const shouldAllow = req.move === CaseMove.Reopen && req.role === Role.ClearingHouseManager && !isBlank(req.reason);
        expect(d.allowed).toBe(shouldAllow);
        if (d.allowed) expect(d.to).toBe(CaseState.Triage);
      }),
      { numRuns: 1000 },
    );
  });
});
