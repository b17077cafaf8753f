import { SealVerificationState, sealVerificationState, VERIFICATION_AUDIT_RULE } from './seal-verification';

describe('sealVerificationState', () => {
  it('is intact with no problem and the content still there', () => {
    expect(sealVerificationState({ contentDestroyed: false, problems: 0 })).toBe(SealVerificationState.Intact);
  });

  it('is content_destroyed, not a failure, when retention destroyed the content and the audit record is intact', () => {
    expect(sealVerificationState({ contentDestroyed: true, problems: 0 })).toBe(SealVerificationState.ContentDestroyed);
  });

  it('is broken whenever a check found a problem, destroyed or not', () => {
    expect(sealVerificationState({ contentDestroyed: false, problems: 1 })).toBe(SealVerificationState.Broken);
    expect(sealVerificationState({ contentDestroyed: true, problems: 2 })).toBe(SealVerificationState.Broken);
  });

  it('keeps the audit rules the trail already uses', () => {
    expect(VERIFICATION_AUDIT_RULE).toEqual({ intact: 'seal_intact', broken: 'seal_broken', content_destroyed: 'content_destroyed' });
  });
});
