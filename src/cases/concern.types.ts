/** How a concern reached the clearing house (DOMAIN.md, "Concern"). */
export enum ConcernChannel {
  SelfReferral = 'self_referral',
  InspectorateOrAudit = 'inspectorate_or_audit',
  SectorIntelligence = 'sector_intelligence',
  PoliticalGroup = 'political_group',
  GovernmentOffice = 'government_office',
  Riep = 'riep',
  Peer = 'peer',
  Other = 'other',
}

export enum ConcernArea {
  CorporateGovernance = 'corporate_governance',
  Finance = 'finance',
  ChildrensServicesAndSafeguarding = 'childrens_services_and_safeguarding',
  AdultSocialCare = 'adult_social_care',
  PoliticalLeadership = 'political_leadership',
  MemberOfficerRelations = 'member_officer_relations',
  LeaderChiefExecutiveRelationship = 'leader_chief_executive_relationship',
  PartnershipWorking = 'partnership_working',
  SeriousAdverseIncident = 'serious_adverse_incident',
  Other = 'other',
}

/** Early-warning signals a concern shows (seed paper 002, 14.4). */
export enum EarlyWarningSignal {
  ChangeOfPoliticalControl = 'change_of_political_control',
  ChangeOfSeniorManagement = 'change_of_senior_management',
  PoorMemberOfficerRelations = 'poor_member_officer_relations',
  InwardLookingCulture = 'inward_looking_culture',
  FinancialDifficulty = 'financial_difficulty',
  PoorInspectionResult = 'poor_inspection_result',
}
