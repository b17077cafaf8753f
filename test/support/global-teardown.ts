import { Client } from 'pg';
import { deleteKeys } from './redis';
import { SERVER_URL } from './test-environment';

/** Drops the run's database and its Redis keys, so that runs leave nothing behind. */
export default async function globalTeardown(): Promise<void> {
  const name = process.env.CH_TEST_DATABASE;
  if (name && /^ch_test_[a-z0-9_]+$/.test(name)) {
    const admin = new Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
  const prefix = process.env.QUEUE_PREFIX;
  if (prefix?.startsWith('chtest_')) {
    await deleteKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix);
  }
}
