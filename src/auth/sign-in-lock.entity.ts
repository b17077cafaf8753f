import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Failed sign-ins per e-mail address, whether or not a user has that address, so that a
 * lock-out cannot be used to learn which addresses exist.
 */
@Entity({ name: 'sign_in_locks' })
export class SignInLock {
  @PrimaryColumn({ name: 'email_key', type: 'text' })
  emailKey: string;

  @Column({ type: 'int', default: 0 })
  failures: number;

  @Column({ name: 'last_failure_at', type: 'timestamptz' })
  lastFailureAt: Date;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;
}
