import Redis from 'ioredis';
import { Client } from 'pg';
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
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  }
}
