/** Handling marking of an item inside a case (a concern or a conversation record). */
export enum ItemHandling {
  Normal = 'normal',
  /** Only peers of the recording peer's party and clearing-house managers. */
  PartyConfidential = 'party_confidential',
  /** Only the named people and clearing-house managers. */
  NamedOnly = 'named_only',
}

/** Classification of the case file as a whole (UK Government Security Classifications). */
export enum CaseHandling {
  Official = 'official',
  OfficialSensitive = 'official_sensitive',
}

/** A user's role on one case's team. */
export enum TeamRole {
  CaseLead = 'case_lead',
  CaseOfficer = 'case_officer',
  LeadPoliticalPeer = 'lead_political_peer',
  RiepFacilitator = 'riep_facilitator',
}
