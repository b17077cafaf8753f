import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inSystemContext, inUserContext, SystemContext } from '../database/row-security';
import { CreatedRef, IdempotentResource } from './idempotent-resource';

/** A key as stored: which request it was for (fingerprint) and what that request created. */
export interface StoredIdempotencyKey {
  fingerprint: Buffer;
  resource: IdempotentResource;
  created: CreatedRef;
}

/** Reads and purges idempotency keys. Keys are written only by `recordIdempotencyKey`, inside the creating transaction. */
@Injectable()
export class IdempotencyStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The caller's own unexpired key (a key is never looked up across users). */
  async find(userId: string, key: string): Promise<StoredIdempotencyKey | undefined> {
    // As the user: row-level security shows a key to its own user only.
    const [row]: Array<{ request_hash: Buffer; resource_type: IdempotentResource; resource_id: string; resource_version: number | null }> = await inUserContext(this.dataSource, userId, (m) => m.query(
      `SELECT request_hash, resource_type, resource_id, resource_version FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND expires_at > now()`,
      [userId, key],
    ));
    return row && { fingerprint: row.request_hash, resource: row.resource_type, created: { id: row.resource_id, version: row.resource_version } };
  }

  /** Deletes expired keys; answers how many. Expiry is also checked on every lookup, so this only keeps the table small. */
  async purgeExpired(): Promise<number> {
    // The purge's own context sees (and deletes) expired keys only.
    const [, count]: [unknown, number] = await inSystemContext(this.dataSource, SystemContext.Idempotency, (m) => m.query(`DELETE FROM idempotency_keys WHERE expires_at <= now()`));
    return count;
  }
}
