import { Role } from '../access-control/role';
import { CaseMove, CaseState, OPEN_STATES } from './case-state';

/** Conditions a move may require; each has a stable name that a refusal reports. */
export enum Precondition {
  SensitiveConversationRecorded = 'sensitive_conversation_recorded',
  AgreedWayForwardRecorded = 'agreed_way_forward_recorded',
  GovernmentTriggerRecorded = 'government_trigger_recorded',
  SectorLedAlternativeAgreed = 'sector_led_alternative_agreed',
  OutcomeGiven = 'outcome_given',
  ReasonGiven = 'reason_given',
  InterventionProceedsForGovernmentOutcome = 'intervention_proceeds_for_government_outcome',
}

export const PRECONDITION_MESSAGES: Record<Precondition, string> = {
  [Precondition.SensitiveConversationRecorded]: 'A sensitive conversation must be recorded on the case before it is referred to the RIEP',
  [Precondition.AgreedWayForwardRecorded]: 'An agreed way forward (improvement support with status agreed) must be recorded before support starts',
  [Precondition.GovernmentTriggerRecorded]: 'A government trigger (department and power contemplated) must be recorded before a pre-intervention meeting is called',
  [Precondition.SectorLedAlternativeAgreed]: 'The pre-intervention meeting must have agreed a sector-led alternative before the case returns to support',
  [Precondition.OutcomeGiven]: 'Closing a case needs an outcome',
  [Precondition.ReasonGiven]: 'This move needs a reason',
  [Precondition.InterventionProceedsForGovernmentOutcome]:
    'A case closes as government intervention only after a pre-intervention meeting whose outcome is that intervention proceeds',
};

export interface Transition {
  from: readonly CaseState[];
  to: CaseState;
  roles: readonly Role[];
  preconditions: readonly Precondition[];
}

const STAFF = [Role.ClearingHouseOfficer, Role.ClearingHouseManager] as const;

/**
 * The workflow, as data: every move, where it may start, where it ends, who may make it and
 * what must be true first. Nothing else in the code decides which moves exist.
 */
export const WORKFLOW: Readonly<Record<CaseMove, Transition>> = {
  [CaseMove.StartTriage]: { from: [CaseState.ConcernRaised], to: CaseState.Triage, roles: STAFF, preconditions: [] },
  [CaseMove.Monitor]: { from: [CaseState.Triage], to: CaseState.Monitoring, roles: STAFF, preconditions: [Precondition.ReasonGiven] },
  [CaseMove.FollowUp]: { from: [CaseState.Triage, CaseState.Monitoring], to: CaseState.SensitiveConversation, roles: STAFF, preconditions: [] },
  [CaseMove.ReferToRiep]: {
    from: [CaseState.SensitiveConversation],
    to: CaseState.RiepDiscussion,
    roles: STAFF,
    preconditions: [Precondition.SensitiveConversationRecorded],
  },
  [CaseMove.StartSupport]: {
    from: [CaseState.RiepDiscussion],
    to: CaseState.ImprovementSupport,
    roles: [...STAFF, Role.RiepFacilitator],
    preconditions: [Precondition.AgreedWayForwardRecorded],
  },
  [CaseMove.CallPreInterventionMeeting]: {
    from: OPEN_STATES.filter((s) => s !== CaseState.PreIntervention),
    to: CaseState.PreIntervention,
    roles: STAFF,
    preconditions: [Precondition.GovernmentTriggerRecorded],
  },
  [CaseMove.ReturnToSectorLedSupport]: {
    from: [CaseState.PreIntervention],
    to: CaseState.ImprovementSupport,
    roles: STAFF,
    preconditions: [Precondition.SectorLedAlternativeAgreed],
  },
  [CaseMove.Close]: {
    from: OPEN_STATES,
    to: CaseState.Closed,
    roles: [Role.ClearingHouseManager],
    preconditions: [Precondition.OutcomeGiven, Precondition.ReasonGiven, Precondition.InterventionProceedsForGovernmentOutcome],
  },
  [CaseMove.Reopen]: { from: [CaseState.Closed], to: CaseState.Triage, roles: [Role.ClearingHouseManager], preconditions: [Precondition.ReasonGiven] },
};
