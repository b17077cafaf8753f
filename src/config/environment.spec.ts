import { randomBytes } from 'node:crypto';
import { RuntimeEnvironment, validateEnvironment } from './environment';

const GOOD_SECRET = 'a-production-secret-that-is-long-enough-0123456789';
/** Every other setting production requires, so that a test names only the one it is about. */
const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://app@db.internal/ch', JWT_SECRET: GOOD_SECRET, AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'), MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ENCRYPTION_MASTER_KEY: randomBytes(32).toString('base64') };

function problemsOf(raw: Record<string, unknown>): string {
  try {
    validateEnvironment(raw);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('validateEnvironment accepted the settings');
}

describe('validateEnvironment', () => {
  it('gives every setting its default in development, including a development database and secret', () => {
    const env = validateEnvironment({});
    expect(env.NODE_ENV).toBe(RuntimeEnvironment.Development);
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/clearing_house');
    expect(env.DATABASE_MIGRATION_URL).toBe(env.DATABASE_URL);
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.JWT_SECRET).toEqual(expect.any(String));
    expect(env.JWT_SECRET!.length).toBeGreaterThanOrEqual(32);
    expect(env.BODY_LIMIT).toBe('100kb');
    expect(env.SIGN_IN_MAX_FAILURES).toBe(5);
    expect(env.SIGN_IN_LOCKOUT_SECONDS).toBe(900);
    expect(env.MIGRATIONS_RUN_ON_START).toBe(false);
    expect(env.TRUST_PROXY).toBe(false);
  });

  it('reads numbers and booleans from their string form', () => {
    const env = validateEnvironment({ PORT: '8080', DATABASE_POOL_SIZE: '4', TRUST_PROXY: 'true', MIGRATIONS_RUN_ON_START: '1', DATABASE_URL: 'postgres://u@db/x' });
    expect(env.PORT).toBe(8080);
    expect(env.DATABASE_POOL_SIZE).toBe(4);
    expect(env.TRUST_PROXY).toBe(true);
    expect(env.MIGRATIONS_RUN_ON_START).toBe(true);
    expect(env.DATABASE_MIGRATION_URL).toBe('postgres://u@db/x');
  });

  it('refuses to start in production without JWT_SECRET and DATABASE_URL, naming both', () => {
    const message = problemsOf({ NODE_ENV: 'production' });
    expect(message).toContain('DATABASE_URL: required in production');
    expect(message).toContain('JWT_SECRET: required in production');
  });

  it('names only what is missing in production', () => {
    const message = problemsOf({ ...PRODUCTION, JWT_SECRET: undefined });
    expect(message).toContain('JWT_SECRET: required in production');
    expect(message).not.toContain('DATABASE_URL');
  });

  it('accepts a complete production configuration and gives it no development defaults', () => {
    const env = validateEnvironment(PRODUCTION);
    expect(env.NODE_ENV).toBe(RuntimeEnvironment.Production);
    expect(env.JWT_SECRET).toBe(GOOD_SECRET);
    expect(env.DATABASE_URL).toBe('postgres://app@db.internal/ch');
  });

  it('refuses the development secret in production', () => {
    const devSecret = validateEnvironment({}).JWT_SECRET;
    const message = problemsOf({ ...PRODUCTION, JWT_SECRET: devSecret });
    expect(message).toMatch(/JWT_SECRET: the development secret cannot be used in production/);
    expect(message).not.toMatch(/DATABASE_URL/);
  });

  it('refuses a short secret', () => {
    expect(problemsOf({ JWT_SECRET: 'too-short' })).toMatch(/JWT_SECRET: JWT_SECRET must be at least 32 characters/);
  });

  it.each([['eighty'], ['0'], ['70000'], ['80.5']])('names PORT when it is %p', (port) => {
    const message = problemsOf({ PORT: port });
    expect(message).toMatch(/^\s+- PORT: /m);
    expect(message).not.toMatch(/REDIS_URL/);
  });

  it.each([['http://127.0.0.1:6379'], ['127.0.0.1:6379'], ['redis:/nohost']])('names REDIS_URL when it is %p', (url) => {
    const message = problemsOf({ REDIS_URL: url });
    expect(message).toMatch(/^\s+- REDIS_URL: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL$/m);
    expect(message).not.toMatch(/PORT/);
  });

  it('names every malformed setting at once', () => {
    const message = problemsOf({ PORT: 'x', REDIS_URL: 'nope', DATABASE_URL: 'mysql://db/x', BODY_LIMIT: 'lots', NODE_ENV: 'staging', TRUST_PROXY: 'maybe' });
    for (const name of ['PORT', 'REDIS_URL', 'DATABASE_URL', 'BODY_LIMIT', 'NODE_ENV', 'TRUST_PROXY']) {
      expect(message).toMatch(new RegExp(`^\\s+- ${name}: `, 'm'));
    }
  });

  it('refuses a maximum password length below the minimum', () => {
    expect(problemsOf({ PASSWORD_MIN_LENGTH: '20', PASSWORD_MAX_LENGTH: '16' })).toContain('PASSWORD_MAX_LENGTH: must not be less than PASSWORD_MIN_LENGTH');
  });

  it('gives the encryption master key a development default, and refuses to run production without its own', () => {
    expect(Buffer.from(validateEnvironment({}).ENCRYPTION_MASTER_KEY!, 'base64')).toHaveLength(32);
    expect(problemsOf({ ...PRODUCTION, ENCRYPTION_MASTER_KEY: undefined })).toContain('ENCRYPTION_MASTER_KEY: required in production');
    const devKey = validateEnvironment({}).ENCRYPTION_MASTER_KEY;
    expect(problemsOf({ ...PRODUCTION, ENCRYPTION_MASTER_KEY: devKey })).toContain('ENCRYPTION_MASTER_KEY: the development key cannot be used in production');
    expect(problemsOf({ ENCRYPTION_MASTER_KEY: 'too-short' })).toMatch(/ENCRYPTION_MASTER_KEY must be base64 of 32 bytes/);
    const key = randomBytes(32).toString('base64');
    expect(problemsOf({ ...PRODUCTION, ENCRYPTION_MASTER_KEY: key, ENCRYPTION_MASTER_KEY_PREVIOUS: key })).toContain('ENCRYPTION_MASTER_KEY_PREVIOUS: must differ from ENCRYPTION_MASTER_KEY');
  });

  it('gives the MFA encryption key a development default, and refuses to run production without its own', () => {
    expect(Buffer.from(validateEnvironment({}).MFA_ENCRYPTION_KEY!, 'base64')).toHaveLength(32);
    expect(problemsOf({ ...PRODUCTION, MFA_ENCRYPTION_KEY: undefined })).toContain('MFA_ENCRYPTION_KEY: required in production');
    const devKey = validateEnvironment({}).MFA_ENCRYPTION_KEY;
    expect(problemsOf({ ...PRODUCTION, MFA_ENCRYPTION_KEY: devKey })).toContain('MFA_ENCRYPTION_KEY: the development key cannot be used in production');
    expect(problemsOf({ MFA_ENCRYPTION_KEY: 'too-short' })).toMatch(/MFA_ENCRYPTION_KEY: MFA_ENCRYPTION_KEY must be base64 of 32 bytes/);
  });

  it('defaults break-glass access to 60 minutes and keeps it between 1 minute and a day', () => {
    expect(validateEnvironment({}).BREAK_GLASS_MINUTES).toBe(60);
    expect(validateEnvironment({ BREAK_GLASS_MINUTES: '5' }).BREAK_GLASS_MINUTES).toBe(5);
    expect(problemsOf({ BREAK_GLASS_MINUTES: '0' })).toMatch(/BREAK_GLASS_MINUTES/);
    expect(problemsOf({ BREAK_GLASS_MINUTES: '1441' })).toMatch(/BREAK_GLASS_MINUTES/);
  });
});
