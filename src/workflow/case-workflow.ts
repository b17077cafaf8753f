import { Role } from '../access-control/role';
import { CaseMove, CaseOutcome, CaseState, PreInterventionOutcome } from './case-state';
import { Precondition, PRECONDITION_MESSAGES, WORKFLOW } from './workflow-table';

/** What the workflow needs to know about a case to decide a move. */
export interface CaseFacts {
  state: CaseState;
  hasSensitiveConversation: boolean;
  hasAgreedWayForward: boolean;
  hasGovernmentTrigger: boolean;
  latestPreInterventionOutcome: PreInterventionOutcome | null;
}

export interface MoveRequest {
  move: CaseMove;
  role: Role;
  reason?: string | null;
  outcome?: CaseOutcome | null;
}

export enum RefusalKind {
  /** The move does not start from the case's state. */
  NotFromThisState = 'not_from_this_state',
  /** The caller's role may not make this move. */
  RoleMayNotMove = 'role_may_not_move',
  /** Something the move needs is missing. */
  PreconditionMissing = 'precondition_missing',
}

export type MoveDecision =
  | { allowed: true; from: CaseState; to: CaseState }
  | { allowed: false; kind: RefusalKind; message: string; precondition?: Precondition };

function holds(p: Precondition, facts: CaseFacts, req: MoveRequest): boolean {
  switch (p) {
    case Precondition.SensitiveConversationRecorded:
      return facts.hasSensitiveConversation;
    case Precondition.AgreedWayForwardRecorded:
      return facts.hasAgreedWayForward;
    case Precondition.GovernmentTriggerRecorded:
      return facts.hasGovernmentTrigger;
    case Precondition.SectorLedAlternativeAgreed:
      return facts.latestPreInterventionOutcome === PreInterventionOutcome.SectorLedAlternativeAgreed;
    case Precondition.OutcomeGiven:
      return !!req.outcome;
    case Precondition.ReasonGiven:
      return !!req.reason && req.reason.trim().length > 0;
    case Precondition.InterventionProceedsForGovernmentOutcome:
      return (
        req.outcome !== CaseOutcome.GovernmentIntervention ||
        (facts.state === CaseState.PreIntervention && facts.latestPreInterventionOutcome === PreInterventionOutcome.InterventionProceeds)
      );
  }
}

/** Pure: decides one move against the table. The service applies an allowed decision. */
export function decideMove(facts: CaseFacts, req: MoveRequest): MoveDecision {
  const t = WORKFLOW[req.move];
  // The role first: a role that may never make this move is refused as such (403) whatever the
  // case's state, rather than being told the move does not start from here.
  if (!t.roles.includes(req.role)) {
    return { allowed: false, kind: RefusalKind.RoleMayNotMove, message: `The role ${req.role} may not make the move ${req.move}` };
  }
  if (!t.from.includes(facts.state)) {
    return { allowed: false, kind: RefusalKind.NotFromThisState, message: `A case in state ${facts.state} cannot make the move ${req.move}` };
  }
  for (const p of t.preconditions) {
    if (!holds(p, facts, req)) return { allowed: false, kind: RefusalKind.PreconditionMissing, message: PRECONDITION_MESSAGES[p], precondition: p };
  }
  return { allowed: true, from: facts.state, to: t.to };
}

/** The moves the caller could make now (for the API to offer). */
export function availableMoves(facts: CaseFacts, role: Role): CaseMove[] {
  return (Object.keys(WORKFLOW) as CaseMove[]).filter((move) => WORKFLOW[move].from.includes(facts.state) && WORKFLOW[move].roles.includes(role));
}
