import { createHash, randomBytes } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * Recovery codes: 16 base32 characters (80 random bits) shown as `abcd-efgh-ijkl-mnop`. With that
 * much entropy a plain SHA-256 is enough to store them (no slow hash needed: they cannot be
 * guessed from a dictionary), and each is accepted once.
 */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(10);
    let bits = 0;
    let value = 0;
    let out = '';
    for (const byte of bytes) {
      value = (value << 8) | byte;
      bits += 8;
      while (bits >= 5) {
        out += ALPHABET[(value >>> (bits - 5)) & 31];
        bits -= 5;
      }
    }
    return out.match(/.{4}/g)!.join('-');
  });
}

/** Case, spaces and dashes do not matter when a code is typed back. Null when it cannot be a recovery code. */
export function normaliseRecoveryCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z2-7]{16}$/.test(code) ? code : null;
}

export function hashRecoveryCode(normalised: string): string {
  return createHash('sha256').update(`clearing-house-recovery-code:${normalised}`).digest('hex');
}
