import { createHash } from 'node:crypto';

/** Names the canonical form; a new form gets a new name and old agreements keep verifying under theirs. */
export const SEAL_FORMAT = 'ch-agreed-record-v1';

/**
 * JSON with object keys sorted at every level, so that the same content always gives the same
 * bytes (PostgreSQL's jsonb reorders keys; JavaScript keeps insertion order). Arrays keep their
 * order: the caller sorts sets (participants, attestations) before sealing.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** A record's content and metadata as an ordered list of named fields (plaintext: never ciphertext). */
export type SealFields = ReadonlyArray<readonly [name: string, value: unknown]>;

export interface Seal {
  format: string;
  /** SHA-256 (hex) of the canonical serialisation: what the audit record carries. */
  contentHash: string;
  /** SHA-256 (hex) of each field's canonical value: to name what changed when verification fails. */
  fieldHashes: Record<string, string>;
}

/** The seal of a record: the hash of [format, type, [[name, value], ...]] in canonical JSON. */
export function sealOf(recordType: string, fields: SealFields): Seal {
  return {
    format: SEAL_FORMAT,
    contentHash: sha256(canonicalJson([SEAL_FORMAT, recordType, fields.map(([name, value]) => [name, value])])),
    fieldHashes: Object.fromEntries(fields.map(([name, value]) => [name, sha256(canonicalJson(value))])),
  };
}

/** Fields whose hash differs between a stored seal and a recomputed one (added or removed fields included). */
export function changedFields(stored: Record<string, string>, recomputed: Record<string, string>): string[] {
  const names = new Set([...Object.keys(stored), ...Object.keys(recomputed)]);
  return [...names].filter((n) => stored[n] !== recomputed[n]).sort();
}
