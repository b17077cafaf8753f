import { DataSource, EntityManager } from 'typeorm';
import { actAsSystem, actAsUser, SystemContext } from '../../src/database/row-security';

/**
 * Runs `work` as the service role in one transaction, bound first by `bind` (null: no settings at
 * all), and rolls it back: what the policies show and let through, with nothing left behind.
 */
export async function rolledBackIn<T>(ds: DataSource, bind: ((m: EntityManager) => Promise<void>) | null, work: (m: EntityManager) => Promise<T>): Promise<T> {
  const q = ds.createQueryRunner();
  await q.connect();
  await q.startTransaction();
  try {
    if (bind) await bind(q.manager);
    return await work(q.manager);
  } finally {
    await q.rollbackTransaction();
    await q.release();
  }
}

/** As a user (as CaseFileTransactions.run binds a request). */
export const asUserIn = <T>(ds: DataSource, userId: string, work: (m: EntityManager) => Promise<T>): Promise<T> =>
  rolledBackIn(ds, (m) => actAsUser(m, userId), work);

/** In a system context (as the jobs bind themselves). */
export const asSystemIn = <T>(ds: DataSource, context: SystemContext, work: (m: EntityManager) => Promise<T>): Promise<T> =>
  rolledBackIn(ds, (m) => actAsSystem(m, context), work);

export const countRows = async (m: EntityManager | DataSource, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> =>
  Number((await m.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params))[0].n);
