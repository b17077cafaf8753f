import { timingSafeEqual } from 'node:crypto';
import { authenticator } from 'otplib';

/**
 * TOTP (RFC 6238) as every authenticator app does it: SHA-1, 6 digits, 30-second steps. A code
 * is accepted for the current step and one step either side (clock drift, a code typed as it
 * turned over), and never for a step at or before the last one the user has already used: a
 * code cannot be replayed, not even within its own 30 seconds.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_ALGORITHM = 'SHA1';
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;

const CODE = /^\d{6}$/;

export function isTotpCodeFormat(code: string): boolean {
  return CODE.test(code);
}

/** The time step a moment falls in. */
export function totpStepAt(epochMs: number): number {
  return Math.floor(epochMs / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code of a base32 secret for one time step. */
export function totpCodeAt(secret: string, step: number): string {
  return authenticator.clone({ epoch: step * TOTP_PERIOD_SECONDS * 1000, step: TOTP_PERIOD_SECONDS, digits: TOTP_DIGITS }).generate(secret);
}

/** A new base32 secret of 160 bits (RFC 4226's recommended length). */
export function newTotpSecret(): string {
  return authenticator.generateSecret(20);
}

/** The otpauth:// URI authenticator apps read (usually from a QR code). */
export function otpauthUri(secret: string, account: string, issuer: string): string {
  return authenticator.keyuri(account, issuer, secret);
}

/**
 * The replay rule: a step may be used only if it is later than the last step this user used.
 * (A user who has never used a code has no last step.)
 */
export function isFreshStep(step: number, lastUsedStep: number | null): boolean {
  return lastUsedStep === null || step > lastUsedStep;
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'malformed' | 'wrong_code' | 'replayed_code' };

/**
 * Checks a code against the secret at `nowMs`: the earliest fresh step in the window whose code
 * matches. A code that matches only steps already used is a replay.
 */
export function checkTotp(secret: string, code: string, nowMs: number, lastUsedStep: number | null): TotpCheck {
  if (!isTotpCodeFormat(code)) return { ok: false, reason: 'malformed' };
  const current = totpStepAt(nowMs);
  let replayed = false;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    if (!sameCode(totpCodeAt(secret, step), code)) continue;
    if (isFreshStep(step, lastUsedStep)) return { ok: true, step };
    replayed = true;
  }
  return { ok: false, reason: replayed ? 'replayed_code' : 'wrong_code' };
}

function sameCode(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
