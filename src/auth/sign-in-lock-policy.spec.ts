import { LockState, SignInLockPolicy } from './sign-in-lock-policy';

describe('SignInLockPolicy', () => {
  const policy = new SignInLockPolicy({ maxFailures: 3, lockoutSeconds: 60 });
  const t0 = new Date('2024-03-01T10:00:00.000Z');
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

  it('is not locked without any failures', () => {
    expect(policy.isLocked(null, t0)).toBe(false);
  });

  it('counts failures and locks exactly at the maximum, for the lock-out period', () => {
    const first = policy.afterFailure(null, t0);
    expect(first).toEqual({ failures: 1, lastFailureAt: t0, lockedUntil: null });
    const second = policy.afterFailure(first, at(10));
    expect(second).toEqual({ failures: 2, lastFailureAt: at(10), lockedUntil: null });
    expect(policy.isLocked(second, at(10))).toBe(false);

    const third = policy.afterFailure(second, at(20));
    expect(third.failures).toBe(3);
    expect(third.lockedUntil).toEqual(at(80));
    expect(policy.isLocked(third, at(20))).toBe(true);
    expect(policy.isLocked(third, at(79.999))).toBe(true);
    // The lock ends at lockedUntil.
    expect(policy.isLocked(third, at(80))).toBe(false);
  });

  it('keeps an address locked while failures continue during the lock', () => {
    const locked: LockState = { failures: 3, lastFailureAt: at(20), lockedUntil: at(80) };
    const next = policy.afterFailure(locked, at(30));
    expect(next.failures).toBe(4);
    expect(next.lockedUntil).toEqual(at(90));
    expect(policy.isLocked(next, at(85))).toBe(true);
  });

  it('forgets failures older than the lock-out window', () => {
    const old: LockState = { failures: 2, lastFailureAt: t0, lockedUntil: null };
    const afterWindow = policy.afterFailure(old, at(60.001));
    expect(afterWindow).toEqual({ failures: 1, lastFailureAt: at(60.001), lockedUntil: null });
    // Within the window they still count, and this one locks.
    const withinWindow = policy.afterFailure(old, at(60));
    expect(withinWindow.failures).toBe(3);
    expect(withinWindow.lockedUntil).not.toBeNull();
  });

  it('starts counting again once a lock has expired', () => {
    // lockedUntil has passed while the last failure is still inside the window.
    const expired: LockState = { failures: 5, lastFailureAt: at(30), lockedUntil: at(40) };
    expect(policy.isLocked(expired, at(40))).toBe(false);
    const next = policy.afterFailure(expired, at(40));
    expect(next).toEqual({ failures: 1, lastFailureAt: at(40), lockedUntil: null });
    expect(policy.isLocked(next, at(40))).toBe(false);
  });

  it('locks on the first failure when the maximum is one', () => {
    const strict = new SignInLockPolicy({ maxFailures: 1, lockoutSeconds: 900 });
    const state = strict.afterFailure(null, t0);
    expect(state.lockedUntil).toEqual(new Date(t0.getTime() + 900_000));
    expect(strict.isLocked(state, at(899))).toBe(true);
  });
});
