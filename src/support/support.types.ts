/** The agreed way forward (seed paper 003, Appendix 1; DOMAIN.md "Improvement support"). */
export enum SupportKind {
  CorporatePeerReview = 'corporate_peer_review',
  ServicePeerReview = 'service_peer_review',
  PeerChallenge = 'peer_challenge',
  Mentoring = 'mentoring',
  InterAuthorityExchange = 'inter_authority_exchange',
  ImprovementPlan = 'improvement_plan',
  PeerSupportPanel = 'peer_support_panel',
}

export enum SupportStatus {
  Proposed = 'proposed',
  Agreed = 'agreed',
  InProgress = 'in_progress',
  Completed = 'completed',
  Withdrawn = 'withdrawn',
}

export enum ProviderKind {
  Peer = 'peer',
  SupportingAuthority = 'supporting_authority',
  IDeA = 'idea',
  Riep = 'riep',
  Other = 'other',
}

/** Which status may follow which. Agreement is the "agreed way forward" the workflow asks for. */
export const SUPPORT_STATUS_MOVES: Readonly<Record<SupportStatus, readonly SupportStatus[]>> = {
  [SupportStatus.Proposed]: [SupportStatus.Agreed, SupportStatus.Withdrawn],
  [SupportStatus.Agreed]: [SupportStatus.InProgress, SupportStatus.Withdrawn],
  [SupportStatus.InProgress]: [SupportStatus.Completed, SupportStatus.Withdrawn],
  [SupportStatus.Completed]: [],
  [SupportStatus.Withdrawn]: [],
};
