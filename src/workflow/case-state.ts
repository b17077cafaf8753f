/** Where a case stands (DOMAIN.md, "The workflow"). */
export enum CaseState {
  ConcernRaised = 'concern_raised',
  Triage = 'triage',
  Monitoring = 'monitoring',
  SensitiveConversation = 'sensitive_conversation',
  RiepDiscussion = 'riep_discussion',
  ImprovementSupport = 'improvement_support',
  PreIntervention = 'pre_intervention',
  Closed = 'closed',
}

export const OPEN_STATES: readonly CaseState[] = Object.values(CaseState).filter((s) => s !== CaseState.Closed);

/** How a case ended. */
export enum CaseOutcome {
  NoFurtherAction = 'no_further_action',
  ResolvedByAuthority = 'resolved_by_authority',
  ImprovementAchieved = 'improvement_achieved',
  GovernmentIntervention = 'government_intervention',
  Withdrawn = 'withdrawn',
}

/** The moves a case can make; each is one row of the workflow table. */
export enum CaseMove {
  StartTriage = 'start_triage',
  Monitor = 'monitor',
  FollowUp = 'follow_up',
  ReferToRiep = 'refer_to_riep',
  StartSupport = 'start_support',
  CallPreInterventionMeeting = 'call_pre_intervention_meeting',
  ReturnToSectorLedSupport = 'return_to_sector_led_support',
  Close = 'close',
  Reopen = 'reopen',
}

/** Interventions a government department may contemplate. */
export enum GovernmentPower {
  ImprovementNotice = 'improvement_notice',
  StatutoryDirection = 'statutory_direction',
  OtherPowers = 'other_powers',
}

/** The outcome of a pre-intervention meeting, which drives the next move. */
export enum PreInterventionOutcome {
  SectorLedAlternativeAgreed = 'sector_led_alternative_agreed',
  InterventionProceeds = 'intervention_proceeds',
  Deferred = 'deferred',
}
