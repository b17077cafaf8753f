import { randomBytes, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { dataKeyContext, KeyWrapper, MasterKeyRing } from './key-wrapper';

/**
 * Data keys: one active key per case (crypto-shredding: destroying a case's content destroys
 * its keys), each stored only wrapped by the master key. States: active (encrypts and
 * decrypts), retiring (decrypts only, while the re-encryption job moves its rows to the active
 * key), retired and destroyed (the wrapped key is gone).
 */
export enum DataKeyState {
  Active = 'active',
  Retiring = 'retiring',
  Retired = 'retired',
  Destroyed = 'destroyed',
}

/**
 * Advisory lock class for a case's keys. A writer holds it shared from picking the active key
 * until its commit; starting a rotation or retiring a key takes it exclusive. So no row is ever
 * written under a key that is already retiring, and a key is never retired under a writer.
 * Lock order: the case row (if taken at all), then this lock.
 */
export const CASE_KEY_LOCK_CLASS = 73_100;

export interface DataKeyRow {
  id: string;
  case_id: string;
  version: number;
  state: DataKeyState;
  wrapped_key: Buffer | null;
  master_key_id: string | null;
}

export async function lockCaseKeysShared(m: EntityManager, caseId: string): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`, [CASE_KEY_LOCK_CLASS, caseId]);
}

export async function lockCaseKeysExclusive(m: EntityManager, caseId: string): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [CASE_KEY_LOCK_CLASS, caseId]);
}

export async function findActiveKey(m: EntityManager, caseId: string): Promise<DataKeyRow | undefined> {
  const [row]: DataKeyRow[] = await m.query(
    `SELECT id, case_id, version, state, wrapped_key, master_key_id FROM data_keys WHERE case_id = $1 AND state = 'active'`, [caseId]);
  return row;
}

export async function findKey(m: EntityManager, id: string): Promise<DataKeyRow | undefined> {
  const [row]: DataKeyRow[] = await m.query(`SELECT id, case_id, version, state, wrapped_key, master_key_id FROM data_keys WHERE id = $1`, [id]);
  return row;
}

/** A new random data key for a case, stored wrapped under the current master key. Returns the plain key (memory only). */
export async function insertDataKey(m: EntityManager, wrapper: KeyWrapper, caseId: string, version: number, state: DataKeyState): Promise<{ row: DataKeyRow; key: Buffer }> {
  const id = randomUUID();
  const key = randomBytes(32);
  const wrapped = await wrapper.wrap(key, dataKeyContext({ id, caseId, version }));
  const rows: DataKeyRow[] = await m.query(
    `INSERT INTO data_keys (id, case_id, version, state, wrapped_key, master_key_id) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING RETURNING id, case_id, version, state, wrapped_key, master_key_id`,
    [id, caseId, version, state, wrapped, wrapper.masterKeyId],
  );
  if (rows.length === 0) throw new Error('a data key for this case was created at the same time');
  return { row: rows[0], key };
}

export async function unwrapDataKey(ring: MasterKeyRing, row: DataKeyRow): Promise<Buffer> {
  if (!row.wrapped_key || !row.master_key_id) throw new Error('the data key is retired or destroyed');
  return ring.wrapperFor(row.master_key_id).unwrap(row.wrapped_key, dataKeyContext({ id: row.id, caseId: row.case_id, version: row.version }));
}

/**
 * Starts a data-key rotation for one case (run as the owner, from the command line): the active
 * key becomes retiring and a new version becomes active, under the case's exclusive key lock.
 * Returns false when the case has no active key (never written, or destroyed).
 */
export async function rotateCaseDataKey(m: EntityManager, ring: MasterKeyRing, caseId: string): Promise<boolean> {
  // Lock order as every writer's: the case row first (writers hold it from openCase), then the
  // key lock. The other way round deadlocks with a writer, because inserting the new key checks
  // its foreign key to the case row.
  await m.query(`SELECT 1 FROM cases WHERE id = $1 FOR UPDATE`, [caseId]);
  await lockCaseKeysExclusive(m, caseId);
  const active = await findActiveKey(m, caseId);
  if (!active) return false;
  await m.query(`UPDATE data_keys SET state = 'retiring', retiring_at = now() WHERE id = $1`, [active.id]);
  const [{ next }] = await m.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM data_keys WHERE case_id = $1`, [caseId]);
  await insertDataKey(m, ring.current, caseId, next, DataKeyState.Active);
  return true;
}

/**
 * Master key rotation: re-wraps every data key not yet under the current master key, in
 * batches of their own transactions (safe to run while the service runs: the key material
 * does not change, only its wrapping). Run as the owner. Returns how many were re-wrapped.
 */
export async function rewrapDataKeys(run: <T>(work: (m: EntityManager) => Promise<T>) => Promise<T>, ring: MasterKeyRing, opts: { batch?: number; caseIds?: string[] } = {}): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await run(async (m) => {
      const rows: DataKeyRow[] = await m.query(
        `SELECT id, case_id, version, state, wrapped_key, master_key_id FROM data_keys
          WHERE wrapped_key IS NOT NULL AND master_key_id <> $1 AND ($3::uuid[] IS NULL OR case_id = ANY ($3::uuid[]))
          ORDER BY id LIMIT $2 FOR UPDATE`,
        [ring.current.masterKeyId, opts.batch ?? 100, opts.caseIds ?? null],
      );
      for (const row of rows) {
        const key = await unwrapDataKey(ring, row);
        const wrapped = await ring.current.wrap(key, dataKeyContext({ id: row.id, caseId: row.case_id, version: row.version }));
        key.fill(0);
        await m.query(`UPDATE data_keys SET wrapped_key = $2, master_key_id = $3 WHERE id = $1`, [row.id, wrapped, ring.current.masterKeyId]);
      }
      return rows.length;
    });
    total += done;
    if (done === 0) return total;
  }
}
