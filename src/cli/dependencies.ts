import Redis from 'ioredis';
import { Client } from 'pg';

const HOW_TO_START = {
  postgres:
    'Start PostgreSQL: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` on a machine with the Debian package, ' +
    'or `docker compose -f docker/compose.yaml up -d postgres`; or point DATABASE_URL at a running server.',
  redis:
    'Start Redis: `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`, ' +
    'or `docker compose -f docker/compose.yaml up -d redis`; or point REDIS_URL at a running server.',
};

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? '6379' : '5432')}`;
  } catch {
    return 'the configured address';
  }
}

/** Checks that PostgreSQL and Redis answer; returns a message per service that does not, saying how to start it. */
export async function unreachableDependencies(databaseUrl: string, redisUrl: string): Promise<string[]> {
  const problems: string[] = [];
  // Connect to the server's maintenance database: the application database may not exist yet.
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const pg = new Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (error) {
    problems.push(`PostgreSQL is not reachable at ${hostOf(databaseUrl)} (${(error as Error).message}). ${HOW_TO_START.postgres}`);
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    problems.push(`Redis is not reachable at ${hostOf(redisUrl)} (${(error as Error).message}). ${HOW_TO_START.redis}`);
  } finally {
    redis.disconnect();
  }
  return problems;
}

/** Creates the database named in the URL if it does not exist (development and demo only). */
export async function ensureDatabaseExists(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Refusing to create a database with the name "${name}"`);
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const pg = new Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 3_000 });
  await pg.connect();
  try {
    const { rowCount } = await pg.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await pg.query(`CREATE DATABASE "${name}"`);
    return true;
  } finally {
    await pg.end();
  }
}
