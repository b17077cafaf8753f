import { Principal } from '../auth/principal';
import { ItemHandling, TeamRole } from './handling';
import { Region, Role } from './role';

/**
 * The one access policy for case data (issue: cases, point 6). Every decision is a pure
 * function of who is asking and the facts of the record, and names the rule that decided it,
 * so that the audit trail can say why. `caseScopeSql` is the same rule expressed in SQL, used
 * for lists so that pages and counts never include what the caller may not see; the tests
 * check the two agree.
 */
export enum AccessRule {
  StaffSeeRegister = 'staff_see_register',
  RiepOwnRegionAfterReferral = 'riep_own_region_after_referral',
  RiepOnTeam = 'riep_on_team',
  RiepOtherRegion = 'riep_other_region',
  RiepNotReferred = 'riep_not_referred',
  PeerOnTeam = 'peer_on_team',
  PeerNotOnTeam = 'peer_not_on_team',
  NoCaseContentForRole = 'no_case_content_for_role',
  ItemNormal = 'item_normal',
  ItemNamedPerson = 'item_named_person',
  ItemNotNamed = 'item_not_named',
  ItemManagerSeesAll = 'item_manager_sees_all',
  ItemSameParty = 'item_same_party',
  ItemOtherParty = 'item_other_party',
  ItemPartyConfidentialNotPeer = 'item_party_confidential_not_peer',
  SourceStaffOnly = 'source_staff_only',
  ActionRoleMayNot = 'action_role_may_not',
  ActionAllowed = 'action_allowed',
  WorkflowRefused = 'workflow_refused',
}

export interface AccessDecision {
  allowed: boolean;
  rule: AccessRule;
}

/** The facts of a case that decide who may see it. */
export interface CaseAccessFacts {
  authorityRegion: Region | null;
  referredToRiepAt: Date | string | null;
  team: ReadonlyArray<{ userId: string; teamRole: TeamRole }>;
}

/** The facts of an item (concern, conversation record) that decide who may see it. */
export interface ItemAccessFacts {
  handling: ItemHandling;
  partyId: string | null;
  namedUserIds: readonly string[];
}

/** What a caller may do on a case they can see. */
export enum CaseAction {
  Read = 'read',
  LogConcern = 'log_concern',
  RecordConversation = 'record_conversation',
  ManageTeam = 'manage_team',
  RecordGovernmentTrigger = 'record_government_trigger',
  RecordMeeting = 'record_meeting',
  ManageSupport = 'manage_support',
  AddProgressNote = 'add_progress_note',
}

const allow = (rule: AccessRule): AccessDecision => ({ allowed: true, rule });
const deny = (rule: AccessRule): AccessDecision => ({ allowed: false, rule });

export const isStaff = (p: Pick<Principal, 'role'>): boolean =>
  p.role === Role.ClearingHouseOfficer || p.role === Role.ClearingHouseManager;

function onTeam(p: Principal, c: CaseAccessFacts): boolean {
  return c.team.some((m) => m.userId === p.userId);
}

export function caseVisibility(p: Principal, c: CaseAccessFacts): AccessDecision {
  switch (p.role) {
    case Role.ClearingHouseOfficer:
    case Role.ClearingHouseManager:
      return allow(AccessRule.StaffSeeRegister);
    case Role.RiepFacilitator:
      if (!p.region || c.authorityRegion !== p.region) return deny(AccessRule.RiepOtherRegion);
      if (onTeam(p, c)) return allow(AccessRule.RiepOnTeam);
      return c.referredToRiepAt ? allow(AccessRule.RiepOwnRegionAfterReferral) : deny(AccessRule.RiepNotReferred);
    case Role.LeadPoliticalPeer:
      return onTeam(p, c) ? allow(AccessRule.PeerOnTeam) : deny(AccessRule.PeerNotOnTeam);
    case Role.Auditor:
    case Role.Administrator:
      return deny(AccessRule.NoCaseContentForRole);
  }
}

/** Item-level marking, applied on top of case visibility. */
export function itemVisibility(p: Principal, item: ItemAccessFacts): AccessDecision {
  const manager = p.role === Role.ClearingHouseManager;
  switch (item.handling) {
    case ItemHandling.Normal:
      return allow(AccessRule.ItemNormal);
    case ItemHandling.NamedOnly:
      if (manager) return allow(AccessRule.ItemManagerSeesAll);
      return item.namedUserIds.includes(p.userId) ? allow(AccessRule.ItemNamedPerson) : deny(AccessRule.ItemNotNamed);
    case ItemHandling.PartyConfidential:
      if (manager) return allow(AccessRule.ItemManagerSeesAll);
      if (p.role !== Role.LeadPoliticalPeer) return deny(AccessRule.ItemPartyConfidentialNotPeer);
      return p.partyId !== null && p.partyId === item.partyId ? allow(AccessRule.ItemSameParty) : deny(AccessRule.ItemOtherParty);
  }
}

/** The source's identity: clearing-house staff only; everyone else gets the concern without it. */
export function sourceVisibility(p: Principal): AccessDecision {
  return isStaff(p) ? allow(AccessRule.StaffSeeRegister) : deny(AccessRule.SourceStaffOnly);
}

const ACTION_ROLES: Record<CaseAction, readonly Role[]> = {
  [CaseAction.Read]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer],
  [CaseAction.LogConcern]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager],
  [CaseAction.RecordConversation]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer],
  [CaseAction.ManageTeam]: [Role.ClearingHouseManager],
  [CaseAction.RecordGovernmentTrigger]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager],
  [CaseAction.RecordMeeting]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager],
  [CaseAction.ManageSupport]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator],
  [CaseAction.AddProgressNote]: [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer],
};

/**
 * May the caller do this on the case? First they must be able to see it (otherwise the
 * answer is "not found"), then their role must be one that does this.
 */
export function caseActionDecision(p: Principal, action: CaseAction, c: CaseAccessFacts): { visible: AccessDecision; action: AccessDecision } {
  const visible = caseVisibility(p, c);
  if (!visible.allowed) return { visible, action: visible };
  return { visible, action: ACTION_ROLES[action].includes(p.role) ? allow(AccessRule.ActionAllowed) : deny(AccessRule.ActionRoleMayNot) };
}

/** Which markings a caller may put on a conversation record they write. */
export function mayMarkPartyConfidential(p: Principal): boolean {
  return p.role === Role.LeadPoliticalPeer && p.partyId !== null;
}

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/**
 * `caseVisibility` as a WHERE fragment over a `cases` row aliased `c` joined to its authority
 * aliased `a`. `next` is the next free parameter number.
 */
export function caseScopeSql(p: Principal, next: number): SqlFragment {
  const teamMember = (n: number) =>
    `EXISTS (SELECT 1 FROM case_team_members tm WHERE tm.case_id = c.id AND tm.user_id = $${n} AND tm.removed_at IS NULL)`;
  switch (p.role) {
    case Role.ClearingHouseOfficer:
    case Role.ClearingHouseManager:
      return { sql: 'TRUE', params: [] };
    case Role.RiepFacilitator:
      return {
        sql: `(a.region = $${next} AND (c.referred_to_riep_at IS NOT NULL OR ${teamMember(next + 1)}))`,
        params: [p.region ?? '', p.userId],
      };
    case Role.LeadPoliticalPeer:
      return { sql: teamMember(next), params: [p.userId] };
    case Role.Auditor:
    case Role.Administrator:
      return { sql: 'FALSE', params: [] };
  }
}

/**
 * `itemVisibility` as a WHERE fragment over an item row aliased `i` with handling and
 * named_user_ids (and party_id when the item kind can be party-confidential).
 */
export function itemScopeSql(p: Principal, next: number, { partyMarking }: { partyMarking: boolean }): SqlFragment {
  if (p.role === Role.ClearingHouseManager) return { sql: 'TRUE', params: [] };
  const named = `(i.handling = 'named_only' AND $${next}::uuid = ANY (i.named_user_ids))`;
  if (p.role === Role.LeadPoliticalPeer && partyMarking) {
    return {
      sql: `(i.handling = 'normal' OR ${named} OR (i.handling = 'party_confidential' AND i.party_id = $${next + 1}::uuid))`,
      params: [p.userId, p.partyId],
    };
  }
  return { sql: `(i.handling = 'normal' OR ${named})`, params: [p.userId] };
}
