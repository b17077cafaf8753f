/** The people who use the clearing house (DOMAIN.md, "The people who use it"). */
export enum Role {
  ClearingHouseOfficer = 'clearing_house_officer',
  ClearingHouseManager = 'clearing_house_manager',
  RiepFacilitator = 'riep_facilitator',
  LeadPoliticalPeer = 'lead_political_peer',
  Auditor = 'auditor',
  Administrator = 'administrator',
  /** Reads the Board's aggregate statistics (small numbers suppressed); sees no case data at all. */
  BoardMember = 'board_member',
  /**
   * A named official of a government department: sees nothing of any case, except the pack the
   * clearing house releases for a pre-intervention meeting they are named on, while the case is
   * at that stage (src/stage-access).
   */
  GovernmentLiaison = 'government_liaison',
}

export const ALL_ROLES = Object.values(Role);

/** The nine English regions; each has one regional improvement and efficiency partnership (RIEP). */
export enum Region {
  NorthEast = 'North East',
  NorthWest = 'North West',
  YorkshireAndTheHumber = 'Yorkshire and The Humber',
  EastMidlands = 'East Midlands',
  WestMidlands = 'West Midlands',
  EastOfEngland = 'East of England',
  London = 'London',
  SouthEast = 'South East',
  SouthWest = 'South West',
}

export const ALL_REGIONS = Object.values(Region);

/** A RIEP facilitator works for one region; a lead political peer belongs to one party. */
export function roleNeedsRegion(role: Role): boolean {
  return role === Role.RiepFacilitator;
}

export function roleNeedsParty(role: Role): boolean {
  return role === Role.LeadPoliticalPeer;
}
