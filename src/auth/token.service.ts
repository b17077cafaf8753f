import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { AppConfig } from '../config/app-config';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
}

const ISSUER = 'clearing-house';
const AUDIENCE = 'clearing-house-api';

/**
 * Short-lived HS256 access tokens (fast-jwt: microseconds per check, on every request) and
 * opaque refresh tokens of the form `<sessionId>.<secret>`, stored only as SHA-256.
 */
@Injectable()
export class TokenService {
  private readonly sign: (claims: AccessTokenClaims) => string;
  private readonly verify: (token: string) => AccessTokenClaims & { exp: number };
  readonly accessTtlSeconds: number;

  constructor(config: AppConfig) {
    const key = config.get('JWT_SECRET')!;
    this.accessTtlSeconds = config.get('JWT_ACCESS_TTL_SECONDS');
    this.sign = createSigner({ key, algorithm: 'HS256', expiresIn: this.accessTtlSeconds * 1000, iss: ISSUER, aud: AUDIENCE });
    this.verify = createVerifier({ key, algorithms: ['HS256'], allowedIss: ISSUER, allowedAud: AUDIENCE, cache: false });
  }

  issueAccessToken(userId: string, sessionId: string): { token: string; expiresAt: Date } {
    return { token: this.sign({ sub: userId, sid: sessionId }), expiresAt: new Date(Date.now() + this.accessTtlSeconds * 1000) };
  }

  /** Claims of a valid token, or null for anything expired, forged or malformed. */
  verifyAccessToken(token: string): AccessTokenClaims | null {
    try {
      const claims = this.verify(token);
      return typeof claims.sub === 'string' && typeof claims.sid === 'string' ? { sub: claims.sub, sid: claims.sid } : null;
    } catch {
      return null;
    }
  }

  newRefreshToken(sessionId: string): { token: string; hash: string } {
    const secret = randomBytes(32).toString('base64url');
    return { token: `${sessionId}.${secret}`, hash: TokenService.hash(secret) };
  }

  static parseRefreshToken(token: string): { sessionId: string; secret: string } | null {
    const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
    return match ? { sessionId: match[1], secret: match[2] } : null;
  }

  static hash(secret: string): string {
    return createHash('sha256').update(secret).digest('hex');
  }

  static hashesEqual(a: string, b: string): boolean {
    const x = Buffer.from(a, 'hex');
    const y = Buffer.from(b, 'hex');
    return x.length === y.length && timingSafeEqual(x, y);
  }
}
