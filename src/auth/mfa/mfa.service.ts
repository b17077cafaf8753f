import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../../audit/audit-event';
import { AuditWriter } from '../../audit/audit-writer';
import { ConflictError, DomainError, NotFoundError, PreconditionFailedError, ValidationError } from '../../common/domain-error';
import { ErrorCode } from '../../common/error-code';
import { AppConfig } from '../../config/app-config';
import { Principal } from '../principal';
import { SessionEndReason } from '../session.entity';
import { ClientInfo, IssuedSession, SessionsService } from '../sessions.service';
import { SignInLocks } from '../sign-in-locks';
import { TokenService } from '../token.service';
import { mfaRequiredForRole } from './mfa-policy';
import { hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode } from './recovery-codes';
import { SecretBox } from './secret-box';
import { checkTotp, isTotpCodeFormat, newTotpSecret, otpauthUri, TOTP_ALGORITHM, TOTP_DIGITS, TOTP_PERIOD_SECONDS, TotpCheck } from './totp';

/** The name authenticator apps show next to the account. */
export const MFA_ISSUER = 'Clearing house';
/** Wrong codes one sign-in challenge takes before it is spent (the address lock-out applies as well). */
export const MAX_CHALLENGE_ATTEMPTS = 5;

export interface MfaEnrolment {
  secret: string;
  otpauthUri: string;
  issuer: string;
  account: string;
  algorithm: string;
  digits: number;
  period: number;
}

export interface MfaStatus {
  enrolled: boolean;
  enrolmentPending: boolean;
  confirmedAt: string | null;
  requiredForRole: boolean;
  sessionVerified: boolean;
  recoveryCodesRemaining: number;
}

export interface MfaSignedIn extends IssuedSession {
  principal: Principal;
  method: 'totp' | 'recovery_code';
  recoveryCodesRemaining: number;
}

/** Why a code was refused, as the audit trail records it. */
export type CodeRefusal = Exclude<TotpCheck, { ok: true }>['reason'] | 'no_factor' | 'wrong_recovery_code';

interface FactorRow {
  secret_ciphertext: string;
  confirmed_at: Date | null;
  last_used_step: string | null;
}

export function actorFrom(user: { id: string; role: string } | null, client: ClientInfo): RequestActor {
  return { userId: user?.id ?? null, role: user?.role ?? 'anonymous', requestId: client.requestId ?? null, clientIp: client.ip, userAgent: client.userAgent };
}

const actorOfPrincipal = (p: Principal, client: ClientInfo) => actorFrom({ id: p.userId, role: p.role }, client);

/**
 * Multi-factor sign-in with TOTP: enrolment (a secret shown once, active after a first code),
 * the sign-in challenge between a correct password and the second factor, single-use recovery
 * codes, and an administrator's reset. The secret is stored encrypted (AES-256-GCM, user id as
 * additional data); each code's time step is remembered so that no code is accepted twice; wrong
 * codes count towards the address's sign-in lock-out. Every event is audited.
 */
@Injectable()
export class MfaService {
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly audit: AuditWriter,
    private readonly sessions: SessionsService,
    private readonly locks: SignInLocks,
  ) {
    this.box = SecretBox.fromBase64(config.get('MFA_ENCRYPTION_KEY')!);
  }

  async status(p: Principal): Promise<MfaStatus> {
    const [row]: Array<{ confirmed_at: Date | null; remaining: string }> = await this.dataSource.query(
      `SELECT f.confirmed_at, (SELECT count(*) FROM mfa_recovery_codes r WHERE r.user_id = f.user_id AND r.used_at IS NULL) AS remaining
         FROM mfa_factors f WHERE f.user_id = $1`,
      [p.userId],
    );
    return {
      enrolled: !!row?.confirmed_at,
      enrolmentPending: !!row && !row.confirmed_at,
      confirmedAt: row?.confirmed_at ? new Date(row.confirmed_at).toISOString() : null,
      requiredForRole: mfaRequiredForRole(p.role),
      sessionVerified: p.mfaVerified === true,
      recoveryCodesRemaining: row?.confirmed_at ? Number(row.remaining) : 0,
    };
  }

  /** Starts (or restarts) enrolment: a new secret, returned this once, inactive until confirmed. */
  async enrol(p: Principal, client: ClientInfo): Promise<MfaEnrolment> {
    const secret = newTotpSecret();
    await this.dataSource.transaction(async (m) => {
      const rows: unknown[] = await m.query(
        `INSERT INTO mfa_factors (user_id, secret_ciphertext) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = EXCLUDED.secret_ciphertext, created_at = now(), last_used_step = NULL
          WHERE mfa_factors.confirmed_at IS NULL
         RETURNING user_id`,
        [p.userId, this.box.seal(secret, p.userId)],
      );
      if (rows.length === 0) throw new ConflictError('A second factor is already active on this account; an administrator can reset it');
      await this.audit.record(m, actorOfPrincipal(p, client), { action: AuditAction.MfaEnrol, resourceType: ResourceType.MfaFactor, resourceId: p.userId, outcome: AuditOutcome.Allowed });
    });
    return {
      secret,
      otpauthUri: otpauthUri(secret, p.email, MFA_ISSUER),
      issuer: MFA_ISSUER,
      account: p.email,
      algorithm: TOTP_ALGORITHM,
      digits: TOTP_DIGITS,
      period: TOTP_PERIOD_SECONDS,
    };
  }

  /**
   * Activates the pending factor with a first code: issues the recovery codes (shown once),
   * ends the user's other sessions, and counts this session as having proved the factor.
   */
  async confirm(p: Principal, code: string, client: ClientInfo): Promise<{ recoveryCodes: string[]; confirmedAt: string }> {
    const emailKey = SignInLocks.keyOf(p.email);
    await this.refuseIfLocked(emailKey, actorOfPrincipal(p, client), 'confirm');
    const outcome = await this.dataSource.transaction(async (m) => {
      const factor = await this.lockFactor(m, p.userId);
      if (!factor) return { kind: 'no_enrolment' as const };
      if (factor.confirmed_at) return { kind: 'already_active' as const };
      const check = this.check(factor, p.userId, code);
      if (!check.ok) return { kind: 'refused' as const, reason: check.reason };
      const [[{ confirmed_at }]]: [Array<{ confirmed_at: Date }>, number] = await m.query(
        `UPDATE mfa_factors SET confirmed_at = now(), last_used_step = $2 WHERE user_id = $1 RETURNING confirmed_at`,
        [p.userId, check.step],
      );
      const recoveryCodes = await this.replaceRecoveryCodes(m, p.userId);
      await this.sessions.endAllForUser(m, p.userId, SessionEndReason.MfaChanged, p.sessionId);
      await this.sessions.markMfaVerified(m, p.sessionId);
      await this.locks.clear(m, emailKey);
      await this.audit.record(m, actorOfPrincipal(p, client), { action: AuditAction.MfaConfirm, resourceType: ResourceType.MfaFactor, resourceId: p.userId, outcome: AuditOutcome.Allowed });
      return { kind: 'ok' as const, recoveryCodes, confirmedAt: new Date(confirmed_at).toISOString() };
    });
    switch (outcome.kind) {
      case 'no_enrolment':
        throw new PreconditionFailedError('Start enrolment first: POST /auth/mfa/enrol', { precondition: 'mfa_enrolment_started' });
      case 'already_active':
        throw new ConflictError('The second factor is already active');
      case 'refused':
        await this.codeRefused(emailKey, actorOfPrincipal(p, client), 'confirm', outcome.reason);
        throw wrongCode();
      case 'ok':
        return { recoveryCodes: outcome.recoveryCodes, confirmedAt: outcome.confirmedAt };
    }
  }

  /** New recovery codes (the old ones stop working), with a current code; ends the user's other sessions. */
  async regenerateRecoveryCodes(p: Principal, code: string, client: ClientInfo): Promise<{ recoveryCodes: string[] }> {
    const emailKey = SignInLocks.keyOf(p.email);
    await this.refuseIfLocked(emailKey, actorOfPrincipal(p, client), 'recovery_codes');
    const outcome = await this.dataSource.transaction(async (m) => {
      const factor = await this.lockFactor(m, p.userId);
      if (!factor?.confirmed_at) return { kind: 'no_factor' as const };
      const check = this.check(factor, p.userId, code);
      if (!check.ok) return { kind: 'refused' as const, reason: check.reason };
      await m.query(`UPDATE mfa_factors SET last_used_step = $2 WHERE user_id = $1`, [p.userId, check.step]);
      const recoveryCodes = await this.replaceRecoveryCodes(m, p.userId);
      await this.sessions.endAllForUser(m, p.userId, SessionEndReason.MfaChanged, p.sessionId);
      await this.audit.record(m, actorOfPrincipal(p, client), {
        action: AuditAction.MfaRecoveryCodesRegenerate, resourceType: ResourceType.MfaFactor, resourceId: p.userId, outcome: AuditOutcome.Allowed,
      });
      return { kind: 'ok' as const, recoveryCodes };
    });
    if (outcome.kind === 'no_factor') throw new PreconditionFailedError('You have no active second factor: enrol one first', { precondition: 'mfa_active' });
    if (outcome.kind === 'refused') {
      await this.codeRefused(emailKey, actorOfPrincipal(p, client), 'recovery_codes', outcome.reason);
      throw wrongCode();
    }
    return { recoveryCodes: outcome.recoveryCodes };
  }

  /**
   * Checks a current TOTP code of the user's active factor and, if it is good, uses it up (its
   * step becomes the last used), in a transaction of its own. Used where an action needs a fresh
   * proof of the factor (break-glass). The caller counts and audits a refusal.
   */
  async consumeTotp(userId: string, code: string): Promise<{ ok: true } | { ok: false; reason: CodeRefusal }> {
    return this.dataSource.transaction(async (m) => {
      const factor = await this.lockFactor(m, userId);
      if (!factor?.confirmed_at) return { ok: false, reason: 'no_factor' };
      const check = this.check(factor, userId, code);
      if (!check.ok) return check;
      await m.query(`UPDATE mfa_factors SET last_used_step = $2 WHERE user_id = $1`, [userId, check.step]);
      return { ok: true };
    });
  }

  /** Whether the user has an active (confirmed) second factor. */
  async hasActiveFactor(manager: EntityManager, userId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM mfa_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL`, [userId]);
    return rows.length > 0;
  }

  /** After a correct password for a user with a second factor: a short-lived, single-use challenge. */
  async startChallenge(user: { id: string; role: string }, client: ClientInfo): Promise<{ token: string; expiresAt: Date }> {
    const secret = randomBytes(32).toString('base64url');
    return this.dataSource.transaction(async (m) => {
      const [row]: Array<{ id: string; expires_at: Date }> = await m.query(
        `INSERT INTO mfa_challenges (user_id, token_hash, expires_at, client_ip, user_agent)
         VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5) RETURNING id, expires_at`,
        [user.id, TokenService.hash(secret), this.config.get('MFA_CHALLENGE_TTL_SECONDS'), client.ip, client.userAgent?.slice(0, 512) ?? null],
      );
      await this.audit.record(m, actorFrom(user, client), {
        action: AuditAction.MfaChallenge, resourceType: ResourceType.MfaFactor, resourceId: user.id, outcome: AuditOutcome.Allowed, rule: 'password_accepted',
      });
      return { token: `${row.id}.${secret}`, expiresAt: new Date(row.expires_at) };
    });
  }

  /**
   * Completes a sign-in: the challenge and a TOTP code (or a recovery code, once). A wrong code
   * counts towards the address's lock-out; a challenge takes a few wrong codes before it is spent.
   */
  async verifyChallenge(challengeToken: string, code: string, client: ClientInfo): Promise<MfaSignedIn> {
    const parsed = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(challengeToken);
    const [found]: Array<{ user_id: string; token_hash: string; open: boolean; email: string; role: string; disabled: boolean }> = parsed
      ? await this.dataSource.query(
          `SELECT c.user_id, c.token_hash, (c.used_at IS NULL AND c.expires_at > now()) AS open, u.email, u.role, (u.disabled_at IS NOT NULL) AS disabled
             FROM mfa_challenges c JOIN users u ON u.id = c.user_id WHERE c.id = $1::uuid`,
          [parsed[1]],
        )
      : [];
    const genuine = !!found && TokenService.hashesEqual(found.token_hash, TokenService.hash(parsed![2]));
    const user = genuine ? { id: found.user_id, role: found.role } : null;
    const invalidChallenge = async (): Promise<never> => {
      await this.audit.recordNow(actorFrom(user, client), {
        action: AuditAction.MfaCodeRefused, resourceType: ResourceType.MfaFactor, resourceId: user?.id ?? null, outcome: AuditOutcome.Denied, rule: 'sign_in:challenge_invalid',
      });
      throw new DomainError(ErrorCode.Unauthenticated, 'The sign-in challenge is not valid, was already used or has expired; sign in again');
    };
    if (!genuine || !found.open || found.disabled) return invalidChallenge();
    const emailKey = SignInLocks.keyOf(found.email);
    await this.refuseIfLocked(emailKey, actorFrom(user, client), 'sign_in');

    const outcome = await this.dataSource.transaction(async (m) => {
      const open: unknown[] = await m.query(`SELECT 1 FROM mfa_challenges WHERE id = $1 AND used_at IS NULL AND expires_at > now() FOR UPDATE`, [parsed![1]]);
      if (open.length === 0) return { kind: 'invalid' as const };
      const factor = await this.lockFactor(m, found.user_id);
      if (!factor?.confirmed_at) {
        await m.query(`UPDATE mfa_challenges SET used_at = now() WHERE id = $1`, [parsed![1]]);
        return { kind: 'invalid' as const };
      }
      let method: MfaSignedIn['method'];
      let refusal: CodeRefusal | null = null;
      if (isTotpCodeFormat(code)) {
        const check = this.check(factor, found.user_id, code);
        if (check.ok) await m.query(`UPDATE mfa_factors SET last_used_step = $2 WHERE user_id = $1`, [found.user_id, check.step]);
        else refusal = check.reason;
        method = 'totp';
      } else {
        const normalised = normaliseRecoveryCode(code);
        const used: unknown[] = normalised
          ? (await m.query(
              `UPDATE mfa_recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id`,
              [found.user_id, hashRecoveryCode(normalised)],
            ))[0]
          : [];
        if (used.length === 0) refusal = 'wrong_recovery_code';
        method = 'recovery_code';
      }
      if (refusal) {
        await m.query(
          `UPDATE mfa_challenges SET failed_attempts = failed_attempts + 1, used_at = CASE WHEN failed_attempts + 1 >= $2 THEN now() END WHERE id = $1`,
          [parsed![1], MAX_CHALLENGE_ATTEMPTS],
        );
        return { kind: 'refused' as const, reason: refusal };
      }
      await m.query(`UPDATE mfa_challenges SET used_at = now() WHERE id = $1`, [parsed![1]]);
      await this.locks.clear(m, emailKey);
      const issued = await this.sessions.start(m, found.user_id, client, { mfa: true });
      await this.audit.record(m, actorFrom(user, client), {
        action: AuditAction.SignIn, resourceType: ResourceType.Session, resourceId: issued.sessionId, outcome: AuditOutcome.Allowed, rule: `mfa_${method}`,
      });
      const [u]: Array<{ email: string; display_name: string; role: Principal['role']; region: Principal['region']; party_id: string | null; remaining: string }> = await m.query(
        `SELECT email, display_name, role, region, party_id,
                (SELECT count(*) FROM mfa_recovery_codes r WHERE r.user_id = users.id AND r.used_at IS NULL) AS remaining
           FROM users WHERE id = $1`,
        [found.user_id],
      );
      const principal: Principal = {
        userId: found.user_id, sessionId: issued.sessionId, email: u.email, displayName: u.display_name, role: u.role, region: u.region, partyId: u.party_id, mfaVerified: true,
      };
      return { kind: 'ok' as const, signedIn: { ...issued, principal, method, recoveryCodesRemaining: Number(u.remaining) } };
    });
    if (outcome.kind === 'invalid') return invalidChallenge();
    if (outcome.kind === 'refused') {
      await this.codeRefused(emailKey, actorFrom(user, client), 'sign_in', outcome.reason);
      throw new DomainError(ErrorCode.InvalidCredentials, 'The code is not correct, or was already used');
    }
    return outcome.signedIn;
  }

  /**
   * An administrator removes a user's second factor and recovery codes and ends every session
   * of theirs: they enrol again at their next sign-in (required for managers, administrators
   * and auditors).
   */
  async reset(actor: RequestActor, userId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [user]: Array<{ email: string }> = await m.query(`SELECT email FROM users WHERE id = $1 FOR UPDATE`, [userId]);
      if (!user) throw new NotFoundError('User');
      const [removed]: [unknown[], number] = await m.query(`DELETE FROM mfa_factors WHERE user_id = $1 RETURNING user_id`, [userId]);
      await m.query(`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, [userId]);
      await m.query(`UPDATE mfa_challenges SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [userId]);
      await this.sessions.endAllForUser(m, userId, SessionEndReason.MfaReset);
      await this.audit.record(m, actor, {
        action: AuditAction.MfaReset, resourceType: ResourceType.MfaFactor, resourceId: userId, outcome: AuditOutcome.Allowed,
        rule: removed.length > 0 ? 'factor_removed' : 'no_factor',
      });
    });
  }

  /** Refuses (429, audited) while the address is locked out. */
  async refuseIfLocked(emailKey: string, actor: RequestActor, context: string, extra: { caseId?: string | null; justification?: string | null; action?: AuditAction } = {}): Promise<void> {
    if (!(await this.locks.isLocked(emailKey))) return;
    await this.audit.recordNow(actor, {
      action: extra.action ?? AuditAction.MfaCodeRefused, resourceType: extra.caseId ? ResourceType.Case : ResourceType.MfaFactor, resourceId: extra.caseId ?? actor.userId,
      caseId: extra.caseId ?? null, outcome: AuditOutcome.Denied, rule: `${context}:locked`, justification: extra.justification ?? null,
    });
    throw new DomainError(ErrorCode.SignInLocked, 'Too many wrong passwords or codes for this account; try again later or ask an administrator to unlock it');
  }

  /** A refused code: counted towards the lock-out and audited. */
  private async codeRefused(emailKey: string, actor: RequestActor, context: string, reason: CodeRefusal): Promise<void> {
    await this.locks.recordFailure(emailKey);
    await this.audit.recordNow(actor, {
      action: AuditAction.MfaCodeRefused, resourceType: ResourceType.MfaFactor, resourceId: actor.userId, outcome: AuditOutcome.Denied, rule: `${context}:${reason}`,
    });
  }

  private async lockFactor(m: EntityManager, userId: string): Promise<FactorRow | undefined> {
    const [row]: FactorRow[] = await m.query(`SELECT secret_ciphertext, confirmed_at, last_used_step FROM mfa_factors WHERE user_id = $1 FOR UPDATE`, [userId]);
    return row;
  }

  private check(factor: FactorRow, userId: string, code: string): TotpCheck {
    const secret = this.box.open(factor.secret_ciphertext, userId);
    return checkTotp(secret, code, Date.now(), factor.last_used_step === null ? null : Number(factor.last_used_step));
  }

  private async replaceRecoveryCodes(m: EntityManager, userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await m.query(`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, [userId]);
    await m.query(
      `INSERT INTO mfa_recovery_codes (user_id, code_hash) SELECT $1, h FROM unnest($2::text[]) AS h`,
      [userId, codes.map((c) => hashRecoveryCode(normaliseRecoveryCode(c)!))],
    );
    return codes;
  }
}

function wrongCode(): ValidationError {
  return new ValidationError([{ field: 'code', messages: ['code is not correct, or was already used'] }], 'The code is not correct');
}
