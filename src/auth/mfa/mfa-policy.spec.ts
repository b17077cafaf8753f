import { ALL_ROLES, Role } from '../../access-control/role';
import { mfaRequiredForRole, mustEnrolMfa } from './mfa-policy';

describe('MFA policy', () => {
  it('requires a second factor of managers, administrators, auditors and government liaisons only', () => {
    expect(ALL_ROLES.filter(mfaRequiredForRole).sort()).toEqual([Role.Administrator, Role.Auditor, Role.ClearingHouseManager, Role.GovernmentLiaison].sort());
  });

  it('confines a session without a proved factor to enrolment, for those roles only', () => {
    for (const role of ALL_ROLES) {
      expect(mustEnrolMfa({ role, mfaVerified: false })).toBe(mfaRequiredForRole(role));
      expect(mustEnrolMfa({ role, mfaVerified: true })).toBe(false);
    }
  });
});
