import { createHash } from 'node:crypto';

/** The request header a client sends to make a create request safe to retry. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Set on a response that replays an earlier request's result instead of creating again. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

export const IDEMPOTENCY_KEY_MIN_LENGTH = 8;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;
/** Letters, digits and the few marks that UUIDs, ULIDs and base64/base64url values use. */
const KEY_PATTERN = /^[A-Za-z0-9._~:+/=-]+$/;

export type KeyCheck = { valid: true; key: string } | { valid: false; message: string };

/**
 * Checks a header value. The IETF draft (draft-ietf-httpapi-idempotency-key-header) makes the
 * key a structured-field string, i.e. quoted; most clients send it bare. Both are accepted and
 * mean the same key. A repeated header arrives joined with ", " and is refused by the charset.
 */
export function parseIdempotencyKey(raw: string): KeyCheck {
  const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (key.length < IDEMPOTENCY_KEY_MIN_LENGTH || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return { valid: false, message: `${IDEMPOTENCY_KEY_HEADER} must be ${IDEMPOTENCY_KEY_MIN_LENGTH} to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters long (a UUID is a good key)` };
  }
  if (!KEY_PATTERN.test(key)) {
    return { valid: false, message: `${IDEMPOTENCY_KEY_HEADER} may contain only letters, digits and . _ ~ : + / = -` };
  }
  return { valid: true, key };
}

/** JSON with object keys sorted at every level, so that key order and whitespace do not matter. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/**
 * What makes two requests "the same request" for a key: method, path and body (as parsed
 * JSON). SHA-256, so the stored fingerprint carries no readable content.
 */
export function requestFingerprint(method: string, path: string, body: unknown): Buffer {
  return createHash('sha256')
    .update(canonicalJson([method.toUpperCase(), path, body ?? null]))
    .digest();
}
