export interface LockState {
  failures: number;
  lastFailureAt: Date;
  lockedUntil: Date | null;
}

export interface LockPolicySettings {
  maxFailures: number;
  lockoutSeconds: number;
}

/**
 * Lock-out after repeated failed sign-ins for one e-mail address. Failures older than the
 * lock-out window are forgotten, so a user who mistypes now and then is never locked.
 */
export class SignInLockPolicy {
  constructor(private readonly settings: LockPolicySettings) {}

  isLocked(state: LockState | null, now: Date): boolean {
    return !!state?.lockedUntil && state.lockedUntil.getTime() > now.getTime();
  }

  afterFailure(state: LockState | null, now: Date): LockState {
    const windowMs = this.settings.lockoutSeconds * 1000;
    const stale = !state || now.getTime() - state.lastFailureAt.getTime() > windowMs || (state.lockedUntil !== null && state.lockedUntil <= now);
    const failures = (stale ? 0 : state.failures) + 1;
    return {
      failures,
      lastFailureAt: now,
      lockedUntil: failures >= this.settings.maxFailures ? new Date(now.getTime() + windowMs) : null,
    };
  }
}
