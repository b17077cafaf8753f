import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum SessionEndReason {
  SignedOut = 'signed_out',
  UserDisabled = 'user_disabled',
  RoleChanged = 'role_changed',
  PasswordChanged = 'password_changed',
  RefreshReused = 'refresh_reused',
  /** The user enrolled a second factor or replaced their recovery codes (their other sessions end). */
  MfaChanged = 'mfa_changed',
  /** An administrator removed the user's second factor. */
  MfaReset = 'mfa_reset',
}

/**
 * A server-side session. Every access token names one; a token whose session has ended is
 * refused on its next request, so sign-out, disabling and re-roling take effect at once.
 */
@Entity({ name: 'sessions' })
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** SHA-256 of the current refresh token; the token itself is never stored. */
  @Column({ name: 'refresh_token_hash', type: 'text', select: false })
  refreshTokenHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @Column({ name: 'end_reason', type: 'text', nullable: true })
  endReason: SessionEndReason | null;

  /** When this session proved a second factor; null for a password-only session. */
  @Column({ name: 'mfa_at', type: 'timestamptz', nullable: true })
  mfaAt: Date | null;

  @Column({ name: 'client_ip', type: 'text', nullable: true })
  clientIp: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;
}
