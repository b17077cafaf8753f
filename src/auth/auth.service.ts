import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { DomainError, ValidationError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { AppConfig } from '../config/app-config';
import { passwordProblems } from '../users/password-policy';
import { mfaRequiredForRole } from './mfa/mfa-policy';
import { MfaService } from './mfa/mfa.service';
import { PasswordHasher } from './password-hasher';
import { Principal } from './principal';
import { SessionEndReason } from './session.entity';
import { ClientInfo, IssuedSession, SessionsService } from './sessions.service';
import { SignInLocks } from './sign-in-locks';

const INVALID_CREDENTIALS = 'The e-mail address or password is not correct';

export interface SignedIn extends IssuedSession {
  principal: Principal;
}

/**
 * What a correct password leads to: a session (confined to enrolling a second factor when the
 * role requires one and the user has none yet), or, for a user with a second factor, a
 * challenge to complete at POST /auth/mfa/verify.
 */
export type SignInOutcome =
  | ({ kind: 'signed_in'; mfaEnrolmentRequired: boolean } & SignedIn)
  | { kind: 'mfa_required'; challengeToken: string; challengeExpiresAt: Date };

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly config: AppConfig,
    private readonly audit: AuditWriter,
    private readonly locks: SignInLocks,
    private readonly mfa: MfaService,
  ) {}

  /**
   * The same answer, after the same work, for an unknown address, a wrong password and a
   * disabled account. Lock-out is kept per address whether or not a user has it.
   */
  async signIn(email: string, password: string, client: ClientInfo): Promise<SignInOutcome> {
    const emailKey = SignInLocks.keyOf(email);
    const now = new Date();
    if (await this.locks.isLocked(emailKey, now)) {
      await this.recordSignInFailure(client, null, 'locked');
      throw new DomainError(ErrorCode.SignInLocked, 'Too many failed sign-ins for this address; try again later or ask an administrator to unlock it');
    }
    const [user]: Array<{ id: string; password_hash: string; disabled_at: Date | null; email: string; display_name: string; role: Principal['role']; region: Principal['region']; party_id: string | null }> =
      await this.dataSource.query(`SELECT id, password_hash, disabled_at, email, display_name, role, region, party_id FROM users WHERE email = $1`, [emailKey]);
    const passwordOk = await this.hasher.verify(user?.password_hash ?? null, password);
    if (!user || !passwordOk || user.disabled_at) {
      await this.locks.recordFailure(emailKey, now);
      await this.recordSignInFailure(client, user ?? null, !user ? 'unknown_address' : user.disabled_at ? 'disabled' : 'wrong_password');
      throw new DomainError(ErrorCode.InvalidCredentials, INVALID_CREDENTIALS);
    }
    if (await this.mfa.hasActiveFactor(this.dataSource.manager, user.id)) {
      // The password alone proves nothing yet: the failure count stays until the second factor
      // is proved, so that a known password cannot be used to guess codes without limit.
      const challenge = await this.mfa.startChallenge(user, client);
      return { kind: 'mfa_required', challengeToken: challenge.token, challengeExpiresAt: challenge.expiresAt };
    }
    const mfaEnrolmentRequired = mfaRequiredForRole(user.role);
    return this.dataSource.transaction(async (manager) => {
      await this.locks.clear(manager, emailKey);
      const issued = await this.sessions.start(manager, user.id, client);
      await this.audit.record(manager, actorOf(user, client), {
        action: AuditAction.SignIn, resourceType: ResourceType.Session, resourceId: issued.sessionId, outcome: AuditOutcome.Allowed,
        rule: mfaEnrolmentRequired ? 'mfa_enrolment_required' : null,
      });
      return {
        kind: 'signed_in' as const,
        mfaEnrolmentRequired,
        ...issued,
        principal: {
          userId: user.id, sessionId: issued.sessionId, email: user.email, displayName: user.display_name, role: user.role, region: user.region, partyId: user.party_id,
          mfaVerified: false,
        },
      };
    });
  }

  async signOut(principal: Principal, client: ClientInfo): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.sessions.endOne(manager, principal.sessionId, SessionEndReason.SignedOut);
      await this.audit.record(manager, actorOf({ id: principal.userId, role: principal.role }, client), {
        action: AuditAction.SignOut, resourceType: ResourceType.Session, resourceId: principal.sessionId, outcome: AuditOutcome.Allowed,
      });
    });
  }

  /** Failed sign-ins are audited on their own: who it matched (if anyone) and why, never the address typed. */
  private recordSignInFailure(client: ClientInfo, user: { id: string; role: string } | null, rule: string): Promise<void> {
    return this.audit.recordNow(actorOf(user, client), { action: AuditAction.SignInFailed, resourceType: ResourceType.Session, outcome: AuditOutcome.Denied, rule });
  }

  /** Changes the caller's password and ends their other sessions. */
  async changePassword(principal: Principal, currentPassword: string, newPassword: string, client: ClientInfo): Promise<void> {
    const [row]: Array<{ password_hash: string }> = await this.dataSource.query(`SELECT password_hash FROM users WHERE id = $1`, [principal.userId]);
    if (!(await this.hasher.verify(row?.password_hash ?? null, currentPassword))) {
      throw new ValidationError([{ field: 'currentPassword', messages: ['currentPassword is not correct'] }]);
    }
    this.assertPasswordAcceptable('newPassword', newPassword, [principal.email.split('@')[0], principal.displayName]);
    const hash = await this.hasher.hash(newPassword);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE users SET password_hash = $2, updated_at = now(), version = version + 1 WHERE id = $1`, [principal.userId, hash]);
      await this.sessions.endAllForUser(manager, principal.userId, SessionEndReason.PasswordChanged, principal.sessionId);
      await this.audit.record(manager, actorOf({ id: principal.userId, role: principal.role }, client), {
        action: AuditAction.ChangePassword, resourceType: ResourceType.User, resourceId: principal.userId, outcome: AuditOutcome.Allowed,
      });
    });
  }

  assertPasswordAcceptable(field: string, password: string, personal: string[]): void {
    const problems = passwordProblems(password, { minLength: this.config.get('PASSWORD_MIN_LENGTH'), maxLength: this.config.get('PASSWORD_MAX_LENGTH') }, personal);
    if (problems.length > 0) throw new ValidationError([{ field, messages: problems.map((p) => p.replace(/^password/, field)) }]);
  }
}

function actorOf(user: { id: string; role: string } | null, client: ClientInfo): RequestActor {
  return { userId: user?.id ?? null, role: user?.role ?? 'anonymous', requestId: client.requestId ?? null, clientIp: client.ip, userAgent: client.userAgent };
}
