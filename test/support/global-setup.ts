import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { importAuthorities } from '../../src/authorities/authorities-import';
import { unreachableDependencies } from '../../src/cli/dependencies';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrations';
import { ensureServiceLogin, withUser } from '../../src/database/service-role';
import { databaseUrl, SERVER_URL, TEST_ENV_DEFAULTS, TEST_SERVICE_LOGIN } from './test-environment';

/** One fresh database per test run, migrated only through the migrations, with the register loaded. */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}_${process.pid}`;
  const name = `ch_test_${runId}`;
  const url = databaseUrl(name);
  const problems = await unreachableDependencies(url, TEST_ENV_DEFAULTS.REDIS_URL);
  if (problems.length > 0) throw new Error(`The end-to-end tests need PostgreSQL and Redis:\n- ${problems.join('\n- ')}`);

  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();

  await runMigrations(url);
  const ds = new DataSource(dataSourceOptions({ url, poolSize: 2 }));
  await ds.initialize();
  await importAuthorities(ds);
  await ds.destroy();

  // The service under test connects as a least-privilege role, as in production.
  await ensureServiceLogin(url, TEST_SERVICE_LOGIN);
  Object.assign(process.env, TEST_ENV_DEFAULTS, {
    DATABASE_URL: withUser(url, TEST_SERVICE_LOGIN),
    DATABASE_MIGRATION_URL: url,
    QUEUE_PREFIX: `chtest_${runId}`,
    CH_TEST_DATABASE: name,
  });
}
