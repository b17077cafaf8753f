import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { Principal } from './principal';
import { SessionEndReason } from './session.entity';
import { TokenService } from './token.service';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  requestId?: string | null;
}

export interface IssuedSession {
  sessionId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  sessionExpiresAt: Date;
}

@Injectable()
export class SessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: TokenService,
    private readonly config: AppConfig,
  ) {}

  /** Starts a session; `mfa` when the user proved a second factor to get it. */
  async start(manager: EntityManager, userId: string, client: ClientInfo, opts: { mfa?: boolean } = {}): Promise<IssuedSession> {
    const expiresAt = new Date(Date.now() + this.config.get('SESSION_TTL_SECONDS') * 1000);
    const [{ id }] = await manager.query(
      `INSERT INTO sessions (user_id, refresh_token_hash, expires_at, client_ip, user_agent, mfa_at)
       VALUES ($1, '', $2, $3, $4, CASE WHEN $5::boolean THEN now() END) RETURNING id`,
      [userId, expiresAt, client.ip, client.userAgent?.slice(0, 512) ?? null, opts.mfa ?? false],
    );
    const refresh = this.tokens.newRefreshToken(id);
    await manager.query(`UPDATE sessions SET refresh_token_hash = $2 WHERE id = $1`, [id, refresh.hash]);
    const access = this.tokens.issueAccessToken(userId, id);
    return { sessionId: id, accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken: refresh.token, sessionExpiresAt: expiresAt };
  }

  /**
   * The principal behind an access token, or null when the token is invalid, its session has
   * ended or expired, or its user is disabled. One indexed query per request.
   */
  async principalOf(accessToken: string): Promise<Principal | null> {
    const claims = this.tokens.verifyAccessToken(accessToken);
    if (!claims) return null;
    const rows: Array<{ email: string; display_name: string; role: Principal['role']; region: Principal['region']; party_id: string | null; mfa_verified: boolean }> =
      await this.dataSource.query(
        `SELECT u.email, u.display_name, u.role, u.region, u.party_id, (s.mfa_at IS NOT NULL) AS mfa_verified
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = $1 AND s.user_id = $2 AND s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL`,
        [claims.sid, claims.sub],
      );
    if (rows.length === 0) return null;
    const [u] = rows;
    return {
      userId: claims.sub, sessionId: claims.sid, email: u.email, displayName: u.display_name, role: u.role, region: u.region, partyId: u.party_id,
      mfaVerified: u.mfa_verified,
    };
  }

  /** Rotates a refresh token. A reused (already rotated) token ends the session: it was probably stolen. */
  async refresh(refreshToken: string): Promise<{ userId: string; issued: Omit<IssuedSession, 'sessionExpiresAt'> & { sessionExpiresAt: Date } } | null> {
    const parsed = TokenService.parseRefreshToken(refreshToken);
    if (!parsed) return null;
    return this.dataSource.transaction(async (manager) => {
      const rows: Array<{ user_id: string; refresh_token_hash: string; expires_at: Date }> = await manager.query(
        `SELECT s.user_id, s.refresh_token_hash, s.expires_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.id = $1 AND s.ended_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL
          FOR UPDATE OF s`,
        [parsed.sessionId],
      );
      if (rows.length === 0) return null;
      const [session] = rows;
      if (!TokenService.hashesEqual(session.refresh_token_hash, TokenService.hash(parsed.secret))) {
        await this.endOne(manager, parsed.sessionId, SessionEndReason.RefreshReused);
        return null;
      }
      const next = this.tokens.newRefreshToken(parsed.sessionId);
      await manager.query(`UPDATE sessions SET refresh_token_hash = $2 WHERE id = $1`, [parsed.sessionId, next.hash]);
      const access = this.tokens.issueAccessToken(session.user_id, parsed.sessionId);
      return {
        userId: session.user_id,
        issued: {
          sessionId: parsed.sessionId,
          accessToken: access.token,
          accessTokenExpiresAt: access.expiresAt,
          refreshToken: next.token,
          sessionExpiresAt: new Date(session.expires_at),
        },
      };
    });
  }

  /** Marks a session as having proved a second factor (enrolment confirmed in it). */
  async markMfaVerified(manager: EntityManager, sessionId: string): Promise<void> {
    await manager.query(`UPDATE sessions SET mfa_at = coalesce(mfa_at, now()) WHERE id = $1 AND ended_at IS NULL`, [sessionId]);
  }

  async endOne(manager: EntityManager, sessionId: string, reason: SessionEndReason): Promise<void> {
    await manager.query(`UPDATE sessions SET ended_at = now(), end_reason = $2 WHERE id = $1 AND ended_at IS NULL`, [sessionId, reason]);
  }

  /** Ends every open session of a user, except optionally one (the caller's own). */
  async endAllForUser(manager: EntityManager, userId: string, reason: SessionEndReason, exceptSessionId?: string): Promise<number> {
    const result: [unknown[], number] = await manager.query(
      `UPDATE sessions SET ended_at = now(), end_reason = $2
        WHERE user_id = $1 AND ended_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid)`,
      [userId, reason, exceptSessionId ?? null],
    );
    return result[1];
  }
}
