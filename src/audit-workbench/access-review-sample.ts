import { createHash } from 'node:crypto';

/**
 * How a sampled access review draws its sample: each candidate access gets the key
 * SHA-256(seed || record id as text), and the `size` smallest keys win. Uniformly random given a
 * random seed, reproducible by anyone with the seed and the population (the SQL twin in
 * access-reviews.service.ts orders by the very same key), and independent of reading order.
 */
export function sampleKey(seedHex: string, recordId: string): string {
  return createHash('sha256').update(Buffer.from(seedHex, 'hex')).update(recordId, 'utf8').digest('hex');
}

export function drawSample(seedHex: string, recordIds: readonly string[], size: number): string[] {
  return [...recordIds]
    .map((id) => ({ id, key: sampleKey(seedHex, id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, size)
    .map((x) => x.id);
}

export enum ReviewDecision {
  Confirmed = 'confirmed',
  Queried = 'queried',
}

export enum AccessReviewState {
  Open = 'open',
  SignedOff = 'signed_off',
}

/** Sign-off needs every item decided; the answer names how many are not. */
export function signOffBlocker(items: ReadonlyArray<{ decision: string | null }>, state: string): string | null {
  if (state !== AccessReviewState.Open) return 'review_open';
  return items.some((i) => i.decision === null) ? 'all_items_decided' : null;
}
