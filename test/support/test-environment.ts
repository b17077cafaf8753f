/**
 * The environment every end-to-end test runs with: its own database and its own Redis key
 * prefix per run (set by global-setup), cheap password hashing, and rate limits high enough
 * not to trip over a test suite (the throttling tests lower them on purpose).
 */
export const TEST_ENV_DEFAULTS: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  ARGON2_MEMORY_KIB: '1024',
  ARGON2_TIME_COST: '1',
  RATE_LIMIT_PER_MINUTE: '100000',
  SIGN_IN_RATE_LIMIT_PER_MINUTE: '100000',
  // Every spec file of a run shares one database: reminders sent by one file's app (on the real
  // clock) would land in other files' inboxes and audit trails. test/deadlines turns them on.
  DEADLINE_REMINDERS_ENABLED: 'false',
  // Likewise the auditor's workbench scan: test/audit-workbench scans on demand with its own thresholds.
  AUDIT_FLAG_SCAN_ENABLED: 'false',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

export const SERVER_URL = process.env.TEST_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Login role the service uses in tests: a member of clearing_house_service only. */
export const TEST_SERVICE_LOGIN = 'clearing_house_test_service';
