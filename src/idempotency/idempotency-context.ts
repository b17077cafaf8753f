import { AsyncLocalStorage } from 'node:async_hooks';
import { EntityManager } from 'typeorm';
import { Actor } from '../auth/actor.decorator';
import { CREATED_REF_OF, IdempotentResource } from './idempotent-resource';

/** A create request that carries an Idempotency-Key, on its way to the transaction that creates. */
export interface PendingIdempotencyKey {
  userId: string;
  key: string;
  fingerprint: Buffer;
  resource: IdempotentResource;
  ttlHours: number;
  recorded: boolean;
}

const pending = new AsyncLocalStorage<PendingIdempotencyKey>();

/** Runs a create request's handler with its key in scope, for `recordIdempotencyKey`. */
export function withIdempotencyKey<T>(key: PendingIdempotencyKey, handler: () => Promise<T>): Promise<T> {
  return pending.run(key, handler);
}

/**
 * The key was taken by another request (the same user's concurrent retry) that committed
 * first. Thrown inside the creating transaction so that it rolls back: nothing is created
 * twice, and the interceptor replays the winner's result instead.
 */
export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('Idempotency key taken by a concurrent request');
  }
}

/**
 * Called by `CaseFileTransactions.run` just before commit: writes the request's key in the
 * same transaction as what it created, so the key exists if and only if the creation committed
 * (a connection lost after the commit still leaves the key, and a retry replays).
 *
 * A concurrent request with the same key blocks on the primary key until this one ends: if it
 * commits, the other gets no row back and rolls back; if it rolls back, the other proceeds. An
 * expired key's row is taken over (the ON CONFLICT ... WHERE), a live one never.
 */
export async function recordIdempotencyKey(manager: EntityManager, actor: Actor, result: unknown): Promise<void> {
  const key = pending.getStore();
  if (!key || key.recorded || key.userId !== actor.userId) return;
  const created = CREATED_REF_OF[key.resource](result);
  if (!created) return;
  const rows: unknown[] = await manager.query(
    `INSERT INTO idempotency_keys AS k (user_id, key, request_hash, resource_type, resource_id, resource_version, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7))
     ON CONFLICT (user_id, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, resource_type = EXCLUDED.resource_type, resource_id = EXCLUDED.resource_id,
            resource_version = EXCLUDED.resource_version, created_at = now(), expires_at = EXCLUDED.expires_at
      WHERE k.expires_at <= now()
     RETURNING 1 AS written`,
    [key.userId, key.key, key.fingerprint, key.resource, created.id, created.version, key.ttlHours],
  );
  if (rows.length === 0) throw new IdempotencyKeyTaken();
  key.recorded = true;
}
