import { TEST_ENV_DEFAULTS } from './test-environment';

// Runs in each test worker before the tests: the run's database and prefix come from global-setup.
for (const [key, value] of Object.entries(TEST_ENV_DEFAULTS)) process.env[key] ??= value;
if (!process.env.DATABASE_URL?.includes('ch_test_')) {
  throw new Error('End-to-end tests must run against the per-run test database (see test/support/global-setup.ts)');
}
