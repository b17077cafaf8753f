import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { LockState, SignInLockPolicy } from './sign-in-lock-policy';

/**
 * The sign-in lock-out per e-mail address (`sign_in_locks`, decided by SignInLockPolicy). Wrong
 * passwords and wrong second-factor codes count alike, so a stolen password cannot be used to
 * guess codes without limit; only a complete sign-in clears the count.
 */
@Injectable()
export class SignInLocks {
  private readonly policy: SignInLockPolicy;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.policy = new SignInLockPolicy({ maxFailures: config.get('SIGN_IN_MAX_FAILURES'), lockoutSeconds: config.get('SIGN_IN_LOCKOUT_SECONDS') });
  }

  static keyOf(email: string): string {
    return email.trim().toLowerCase();
  }

  async isLocked(emailKey: string, now = new Date()): Promise<boolean> {
    return this.policy.isLocked(await this.stateOf(emailKey), now);
  }

  /** Counts one failure, in a transaction of its own (it must outlive a refused request). */
  async recordFailure(emailKey: string, now = new Date()): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO sign_in_locks (email_key, failures, last_failure_at) VALUES ($1, 0, $2) ON CONFLICT (email_key) DO NOTHING`,
        [emailKey, now],
      );
      const [row]: Array<{ failures: number; last_failure_at: Date; locked_until: Date | null }> = await manager.query(
        `SELECT failures, last_failure_at, locked_until FROM sign_in_locks WHERE email_key = $1 FOR UPDATE`,
        [emailKey],
      );
      const previous: LockState | null = row.failures === 0 ? null : { failures: row.failures, lastFailureAt: new Date(row.last_failure_at), lockedUntil: row.locked_until ? new Date(row.locked_until) : null };
      const next = this.policy.afterFailure(previous, now);
      await manager.query(`UPDATE sign_in_locks SET failures = $2, last_failure_at = $3, locked_until = $4 WHERE email_key = $1`, [
        emailKey, next.failures, next.lastFailureAt, next.lockedUntil,
      ]);
    });
  }

  /** Forgets the failures: called when a sign-in completes. */
  async clear(manager: EntityManager, emailKey: string): Promise<void> {
    await manager.query(`DELETE FROM sign_in_locks WHERE email_key = $1`, [emailKey]);
  }

  private async stateOf(emailKey: string): Promise<LockState | null> {
    const [row]: Array<{ failures: number; last_failure_at: Date; locked_until: Date | null }> = await this.dataSource.query(
      `SELECT failures, last_failure_at, locked_until FROM sign_in_locks WHERE email_key = $1`,
      [emailKey],
    );
    return row ? { failures: row.failures, lastFailureAt: new Date(row.last_failure_at), lockedUntil: row.locked_until ? new Date(row.locked_until) : null } : null;
  }
}
