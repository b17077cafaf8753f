import { Role } from '../../access-control/role';
import { Principal } from '../principal';

/**
 * Roles that must sign in with a second factor: they can see everything, or change who can; and
 * government liaisons, whose accounts sit outside the sector and read pre-intervention packs.
 */
export const MFA_REQUIRED_ROLES: ReadonlySet<Role> = new Set([Role.ClearingHouseManager, Role.Administrator, Role.Auditor, Role.GovernmentLiaison]);

export function mfaRequiredForRole(role: Role): boolean {
  return MFA_REQUIRED_ROLES.has(role);
}

/**
 * A session of a user whose role requires a second factor, that has not proved one: it may
 * only enrol (and see who it is, and sign out) until the factor is confirmed.
 */
export function mustEnrolMfa(p: Pick<Principal, 'role' | 'mfaVerified'>): boolean {
  return mfaRequiredForRole(p.role) && p.mfaVerified !== true;
}
