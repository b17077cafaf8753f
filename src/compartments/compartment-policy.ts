import { Role } from '../access-control/role';

/**
 * Compartments inside a case (issue 8, point 2). A lead political peer may keep their
 * conversation records in a compartment of their own on a case, visible only to that peer and to
 * the clearing-house staff they name. Unlike a `named_only` marking (which every clearing-house
 * manager reads) a compartment also keeps out managers who are not named, break-glass included;
 * and it sits on top of the record's marking (a party-confidential record in a compartment is
 * read only by someone both rules admit).
 *
 * Outside the compartment a record in it does not exist: it is left out of lists and counts, its
 * agreed actions' deadlines are not shown, and asking for it answers exactly as for a record that
 * does not exist.
 */
export interface CompartmentFacts {
  /** The lead political peer whose compartment it is. */
  peerId: string;
  /** Clearing-house staff currently named on it. */
  staffIds: readonly string[];
}

export enum CompartmentRule {
  Owner = 'compartment_owner',
  NamedStaff = 'compartment_named_staff',
  /** Anyone else: the record is hidden, exactly as one that does not exist. */
  Outside = 'item_in_compartment',
}

export interface CompartmentDecision {
  allowed: boolean;
  rule: CompartmentRule;
}

interface Caller {
  userId: string;
  role: Role;
}

const STAFF: readonly Role[] = [Role.ClearingHouseOfficer, Role.ClearingHouseManager];

/** Whether the caller is inside the compartment (a record outside any compartment is not decided here). */
export function compartmentVisibility(p: Caller, c: CompartmentFacts): CompartmentDecision {
  if (p.userId === c.peerId && p.role === Role.LeadPoliticalPeer) return { allowed: true, rule: CompartmentRule.Owner };
  // A named colleague who has since changed role is no longer staff, so no longer inside.
  if (STAFF.includes(p.role) && c.staffIds.includes(p.userId)) return { allowed: true, rule: CompartmentRule.NamedStaff };
  return { allowed: false, rule: CompartmentRule.Outside };
}

/** Who may name clearing-house staff on a compartment, or place records in it: its peer only. */
export function mayManageCompartment(p: Caller, c: Pick<CompartmentFacts, 'peerId'>): boolean {
  return p.role === Role.LeadPoliticalPeer && p.userId === c.peerId;
}

/** Only clearing-house staff may be named on a compartment. */
export function mayBeNamedOnCompartment(role: Role): boolean {
  return STAFF.includes(role);
}

/**
 * A record may be placed in a compartment by its peer only if the peer recorded it (the original
 * version) on the same case.
 */
export function mayPlaceRecord(p: Caller, c: Pick<CompartmentFacts, 'peerId'> & { caseId: string }, record: { caseId: string; recordedBy: string }): boolean {
  return mayManageCompartment(p, c) && record.caseId === c.caseId && record.recordedBy === p.userId;
}

/**
 * `compartmentVisibility` as a WHERE fragment over a conversation record aliased `i`: true for a
 * record in no compartment, or in one the caller is inside. `next` is the next free parameter.
 */
export function compartmentScopeSql(p: Caller, next: number): { sql: string; params: unknown[] } {
  const me = `$${next}::uuid`;
  // Both clauses always name the parameter (PostgreSQL refuses one it cannot type); the role literal decides.
  const owner = `(${p.role === Role.LeadPoliticalPeer ? 'TRUE' : 'FALSE'} AND k.peer_id = ${me})`;
  const named = `(${STAFF.includes(p.role) ? 'TRUE' : 'FALSE'} AND EXISTS (SELECT 1 FROM compartment_staff s WHERE s.compartment_id = k.id AND s.user_id = ${me} AND s.removed_at IS NULL))`;
  return {
    sql: `NOT EXISTS (SELECT 1 FROM compartment_records cr JOIN case_compartments k ON k.id = cr.compartment_id
                       WHERE cr.record_id = i.record_id AND NOT (${owner} OR ${named}))`,
    params: [p.userId],
  };
}
