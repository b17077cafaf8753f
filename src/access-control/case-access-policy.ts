import { Principal } from '../auth/principal';
import { CompartmentFacts, compartmentScopeSql, compartmentVisibility } from '../compartments/compartment-policy';
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
  /** A case restricted to its team: seen by a current team member, */
  RestrictedOnTeam = 'restricted_on_team',
  /** by the manager who restricted it, */
  RestrictedByYou = 'restricted_by_you',
  /** and by a manager under an unexpired break-glass grant (read only, never the source). */
  BreakGlass = 'break_glass',
  /** Anyone else: hidden, exactly as a case that does not exist. */
  RestrictedToTeam = 'restricted_to_team',
  BreakGlassReadOnly = 'break_glass_read_only',
  SourceNotUnderBreakGlass = 'source_not_under_break_glass',
  /** The caller recused themselves from the case (src/conflicts): hidden whatever else would allow, until a manager withdraws it. */
  Recused = 'recused',
  /** A government liaison reads no case file, only a pre-intervention pack (src/stage-access). */
  LiaisonPackOnly = 'liaison_pack_only',
  /** A record in a compartment the caller is not inside (src/compartments): hidden as if it did not exist. */
  ItemInCompartment = 'item_in_compartment',
}

export interface AccessDecision {
  allowed: boolean;
  rule: AccessRule;
}

/** A manager's time-limited read access to a restricted case (break-glass). */
export interface BreakGlassGrantFacts {
  userId: string;
  expiresAt: Date | string;
}

/** The facts of a case that decide who may see it. */
export interface CaseAccessFacts {
  authorityRegion: Region | null;
  referredToRiepAt: Date | string | null;
  team: ReadonlyArray<{ userId: string; teamRole: TeamRole }>;
  /** Restricted to its team: only its current members and the manager who restricted it see it. */
  restrictedToTeam?: boolean;
  restrictedBy?: string | null;
  /** Break-glass grants on the case (only the caller's own count, and only until they expire). */
  breakGlassGrants?: ReadonlyArray<BreakGlassGrantFacts>;
  /** Users with an unwithdrawn recusal from the case (src/conflicts): they see nothing of it. */
  recusedUserIds?: readonly string[];
}

/** The facts of an item (concern, conversation record) that decide who may see it. */
export interface ItemAccessFacts {
  handling: ItemHandling;
  partyId: string | null;
  namedUserIds: readonly string[];
  /** The compartment a conversation record is in (src/compartments), if any. */
  compartment?: CompartmentFacts | null;
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
  /** Restrict the case to its team, or lift the restriction. */
  Restrict = 'restrict',
}

const allow = (rule: AccessRule): AccessDecision => ({ allowed: true, rule });
const deny = (rule: AccessRule): AccessDecision => ({ allowed: false, rule });

export const isStaff = (p: Pick<Principal, 'role'>): boolean =>
  p.role === Role.ClearingHouseOfficer || p.role === Role.ClearingHouseManager;

function onTeam(p: Principal, c: CaseAccessFacts): boolean {
  return c.team.some((m) => m.userId === p.userId);
}

/** A grant gives access from when it is made until (not including) its expiry. */
export function isGrantActive(grant: BreakGlassGrantFacts, now: Date): boolean {
  return new Date(grant.expiresAt).getTime() > now.getTime();
}

/** Whether the caller holds an unexpired break-glass grant on the case. */
export function hasActiveGrant(p: Pick<Principal, 'userId'>, c: CaseAccessFacts, now: Date): boolean {
  return (c.breakGlassGrants ?? []).some((g) => g.userId === p.userId && isGrantActive(g, now));
}

/**
 * Who may see a case. The register rule by role first; then, for a case restricted to its
 * team, only its current members, the manager who restricted it, and a manager holding an
 * unexpired break-glass grant on it.
 */
export function caseVisibility(p: Principal, c: CaseAccessFacts, now: Date = new Date()): AccessDecision {
  // A recusal is the caller's own decision to step away: it beats every rule that would let them see the case.
  if (c.recusedUserIds?.includes(p.userId)) return deny(AccessRule.Recused);
  const register = registerVisibility(p, c);
  if (!c.restrictedToTeam || !register.allowed) return register;
  if (onTeam(p, c)) return allow(AccessRule.RestrictedOnTeam);
  if (p.role === Role.ClearingHouseManager) {
    if (c.restrictedBy === p.userId) return allow(AccessRule.RestrictedByYou);
    if (hasActiveGrant(p, c, now)) return allow(AccessRule.BreakGlass);
  }
  return deny(AccessRule.RestrictedToTeam);
}

function registerVisibility(p: Principal, c: CaseAccessFacts): AccessDecision {
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
    case Role.BoardMember:
      return deny(AccessRule.NoCaseContentForRole);
    case Role.GovernmentLiaison:
      return deny(AccessRule.LiaisonPackOnly);
  }
}

/** Item-level marking, applied on top of case visibility. */
export function itemVisibility(p: Principal, item: ItemAccessFacts): AccessDecision {
  const manager = p.role === Role.ClearingHouseManager;
  // A compartment keeps out everyone not inside it, managers included, whatever the marking.
  if (item.compartment && !compartmentVisibility(p, item.compartment).allowed) return deny(AccessRule.ItemInCompartment);
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

/**
 * The first gate to a source's identity: clearing-house staff only, and never under break-glass
 * (`caseAccess` is the decision that let the caller see the case). Passing it shows nothing by
 * itself: ordinary reads of a concern never carry the identity (only `hasSource` and the
 * channel); a manager reveals it with a reason, a colleague reads it under a release approved by
 * a second manager (`SourceIdentityPolicy`, src/source-identity/source-identity-policy.ts).
 */
export function sourceVisibility(p: Principal, caseAccess?: AccessDecision): AccessDecision {
  if (caseAccess?.rule === AccessRule.BreakGlass) return deny(AccessRule.SourceNotUnderBreakGlass);
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
  [CaseAction.Restrict]: [Role.ClearingHouseManager],
};

/**
 * May the caller do this on the case? First they must be able to see it (otherwise the
 * answer is "not found"), then their role must be one that does this. Break-glass access
 * reads only.
 */
export function caseActionDecision(p: Principal, action: CaseAction, c: CaseAccessFacts, now: Date = new Date()): { visible: AccessDecision; action: AccessDecision } {
  const visible = caseVisibility(p, c, now);
  if (!visible.allowed) return { visible, action: visible };
  if (!ACTION_ROLES[action].includes(p.role)) return { visible, action: deny(AccessRule.ActionRoleMayNot) };
  if (visible.rule === AccessRule.BreakGlass && action !== CaseAction.Read) return { visible, action: deny(AccessRule.BreakGlassReadOnly) };
  return { visible, action: allow(AccessRule.ActionAllowed) };
}

/** Which markings a caller may put on a conversation record they write. */
export function mayMarkPartyConfidential(p: Principal): boolean {
  return p.role === Role.LeadPoliticalPeer && p.partyId !== null;
}

export interface SqlFragment {
  sql: string;
  params: unknown[];
}

const teamMemberSql = (n: number) =>
  `EXISTS (SELECT 1 FROM case_team_members tm WHERE tm.case_id = c.id AND tm.user_id = $${n}::uuid AND tm.removed_at IS NULL)`;

/**
 * `caseVisibility` as a WHERE fragment over a `cases` row aliased `c` joined to its authority
 * aliased `a`. `next` is the next free parameter number.
 */
export function caseScopeSql(p: Principal, next: number): SqlFragment {
  const register = registerScopeSql(p, next);
  if (register.sql === 'FALSE') return register;
  const me = next + register.params.length;
  const manager = p.role === Role.ClearingHouseManager;
  const restricted = manager
    ? `(NOT c.restricted_to_team OR ${teamMemberSql(me)} OR c.restricted_by = $${me}::uuid
        OR EXISTS (SELECT 1 FROM break_glass_grants g WHERE g.case_id = c.id AND g.user_id = $${me}::uuid AND g.expires_at > now()))`
    : `(NOT c.restricted_to_team OR ${teamMemberSql(me)})`;
  const scoped = register.sql === 'TRUE' ? restricted : `(${register.sql} AND ${restricted})`;
  return { sql: `(${scoped} AND NOT ${recusedSql(me)})`, params: [...register.params, p.userId] };
}

/** The caller ($n) recused themselves from case `c` (AccessRule.Recused). */
const recusedSql = (n: number) =>
  `EXISTS (SELECT 1 FROM case_recusals rc WHERE rc.case_id = c.id AND rc.user_id = $${n}::uuid AND rc.withdrawn_at IS NULL)`;

/**
 * Rows of the caller's list that they see only through a break-glass grant (each such row is
 * audited as a break-glass read): a WHERE-able boolean over `c`. Meaningful for managers only.
 */
export function viaBreakGlassSql(p: Principal, next: number): SqlFragment {
  if (p.role !== Role.ClearingHouseManager) return { sql: 'FALSE', params: [] };
  return { sql: `(c.restricted_to_team AND c.restricted_by IS DISTINCT FROM $${next}::uuid AND NOT ${teamMemberSql(next)})`, params: [p.userId] };
}

function registerScopeSql(p: Principal, next: number): SqlFragment {
  const teamMember = teamMemberSql;
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
    case Role.BoardMember:
    case Role.GovernmentLiaison:
      return { sql: 'FALSE', params: [] };
  }
}

/**
 * `itemVisibility` as a WHERE fragment over an item row aliased `i` with handling and
 * named_user_ids (and party_id when the item kind can be party-confidential).
 */
export function itemScopeSql(p: Principal, next: number, { partyMarking }: { partyMarking: boolean }): SqlFragment {
  // Items that can be party-confidential are conversation records, which can also be in a compartment.
  if (partyMarking) {
    const inner = itemMarkingScopeSql(p, next, partyMarking);
    const compartment = compartmentScopeSql(p, next + inner.params.length);
    return { sql: `(${inner.sql} AND ${compartment.sql})`, params: [...inner.params, ...compartment.params] };
  }
  return itemMarkingScopeSql(p, next, partyMarking);
}

function itemMarkingScopeSql(p: Principal, next: number, partyMarking: boolean): SqlFragment {
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
