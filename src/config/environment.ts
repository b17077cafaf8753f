import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export enum RuntimeEnvironment {
  Development = 'development',
  Test = 'test',
  Production = 'production',
}

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  return value; // left as a string so that IsBoolean names the setting
};

/**
 * Every setting the service reads, with its default. `config/README.md` documents the same
 * list; keep them together. Secrets have defaults only for development and test (see
 * `validateEnvironment`), so a production start without them stops with a message.
 */
export class EnvironmentVariables {
  @IsEnum(RuntimeEnvironment)
  NODE_ENV: RuntimeEnvironment = RuntimeEnvironment.Development;

  @Transform(toInt) @IsInt() @Min(1) @Max(65535)
  PORT = 3000;

  @IsString() @MinLength(1)
  HOST = '127.0.0.1';

  @IsOptional() @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** Owner role used for migrations only; defaults to DATABASE_URL. */
  @IsOptional() @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_MIGRATION_URL must be a postgres:// URL' })
  DATABASE_MIGRATION_URL?: string;

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Transform(toBool) @IsBoolean()
  MIGRATIONS_RUN_ON_START = false;

  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Prefix of every Bull key in Redis, so that several deployments (or test runs) can share one Redis. */
  @Matches(/^[a-zA-Z0-9_-]{1,64}$/, { message: 'QUEUE_PREFIX must be 1-64 letters, digits, - or _' })
  QUEUE_PREFIX = 'ch';

  /**
   * Where e-mail goes: an `smtp://` (upgraded with STARTTLS when the server offers it) or
   * `smtps://` URL, credentials percent-encoded in it. Unset: delivery is disabled and e-mails
   * wait in the outbox as pending until it is set.
   */
  @IsOptional() @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** The From of every e-mail: `Name <address>` or a bare address. */
  @Matches(/^([^<>\r\n]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/, { message: 'MAIL_FROM must be an address or "Name <address>"' })
  MAIL_FROM = 'Clearing house <no-reply@clearing-house.invalid>';

  /** Delivery attempts for one e-mail before it is marked dead (and listed for administrators). */
  @Transform(toInt) @IsInt() @Min(1) @Max(20)
  EMAIL_MAX_ATTEMPTS = 5;

  /** Wait before the first retry of an e-mail; doubled after each further failure (at most 6 hours). */
  @Transform(toInt) @IsInt() @Min(10) @Max(3_600_000)
  EMAIL_RETRY_BASE_MS = 60_000;

  /** How often pending e-mails are looked for in the outbox and queued again (so nothing depends on Redis keeping a job). */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(3_600_000)
  EMAIL_SWEEP_INTERVAL_MS = 60_000;

  @IsOptional() @IsString() @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  @Transform(toInt) @IsInt() @Min(30) @Max(3600)
  JWT_ACCESS_TTL_SECONDS = 900;

  /** Absolute lifetime of a server-side session (and of its refresh token). */
  @Transform(toInt) @IsInt() @Min(300) @Max(7 * 24 * 3600)
  SESSION_TTL_SECONDS = 8 * 3600;

  @Transform(toInt) @IsInt() @Min(8) @Max(64)
  PASSWORD_MIN_LENGTH = 12;

  @Transform(toInt) @IsInt() @Min(16) @Max(1024)
  PASSWORD_MAX_LENGTH = 128;

  /** argon2id memory cost in KiB (OWASP minimum: 19456 with time cost 2). */
  @Transform(toInt) @IsInt() @Min(1024)
  ARGON2_MEMORY_KIB = 19456;

  @Transform(toInt) @IsInt() @Min(1) @Max(10)
  ARGON2_TIME_COST = 2;

  /** Failed sign-ins for one e-mail address before it is locked. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100)
  SIGN_IN_MAX_FAILURES = 5;

  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 3600)
  SIGN_IN_LOCKOUT_SECONDS = 900;

  /** Sign-in attempts per client address per minute (credential stuffing). */
  @Transform(toInt) @IsInt() @Min(1)
  SIGN_IN_RATE_LIMIT_PER_MINUTE = 20;

  /** Requests per client address per minute across the API. */
  @Transform(toInt) @IsInt() @Min(1)
  RATE_LIMIT_PER_MINUTE = 600;

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must look like 100kb' })
  BODY_LIMIT = '100kb';

  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL = 'info';

  /**
   * Ed25519 key that signs audit checkpoints: the 32-byte private seed, base64. Required in
   * production; keep its public half (`npm run cli -- audit:public-key`) outside the database.
   */
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'AUDIT_SIGNING_KEY must be a base64 32-byte Ed25519 seed' })
  AUDIT_SIGNING_KEY?: string;

  /** How often the sealer extends the audit Merkle tree. */
  @Transform(toInt) @IsInt() @Min(200) @Max(3_600_000)
  AUDIT_SEAL_INTERVAL_MS = 5_000;

  /** Most records sealed in one batch (one checkpoint per batch). */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  AUDIT_SEAL_BATCH = 50_000;

  /** Early warning: signals older than this many months do not count. */
  @Transform(toInt) @IsInt() @Min(1) @Max(120)
  EW_SIGNAL_WINDOW_MONTHS = 12;

  /** Early warning: flag an authority with at least this many different kinds of recent signal. */
  @Transform(toInt) @IsInt() @Min(1) @Max(6)
  EW_MIN_DISTINCT_SIGNALS = 2;

  /** Early warning: the annual self-evaluation is overdue after this many months. */
  @Transform(toInt) @IsInt() @Min(1) @Max(60)
  EW_SELF_EVALUATION_OVERDUE_MONTHS = 12;

  /** Early warning: a peer challenge (every three to four years) is overdue after this many years. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10)
  EW_PEER_CHALLENGE_OVERDUE_YEARS = 4;

  /**
   * AES-256-GCM key that encrypts users' TOTP secrets at rest: 32 random bytes, base64
   * (`openssl rand -base64 32`). Required in production. Changing it makes every enrolled second
   * factor unreadable: those users must have their MFA reset and enrol again.
   */
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'MFA_ENCRYPTION_KEY must be base64 of 32 bytes (openssl rand -base64 32)' })
  MFA_ENCRYPTION_KEY?: string;

  /**
   * Master key that wraps the data keys encrypting case content at rest (source identities,
   * concern descriptions, conversation summaries): 32 random bytes, base64
   * (`openssl rand -base64 32`). Required in production. Rotate it with
   * ENCRYPTION_MASTER_KEY_PREVIOUS and `npm run cli -- keys:rotate-master` (docs/SECURITY.md).
   */
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'ENCRYPTION_MASTER_KEY must be base64 of 32 bytes (openssl rand -base64 32)' })
  ENCRYPTION_MASTER_KEY?: string;

  /** During a master key rotation only: the previous master key, still unwrapping data keys not yet re-wrapped. */
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'ENCRYPTION_MASTER_KEY_PREVIOUS must be base64 of 32 bytes' })
  ENCRYPTION_MASTER_KEY_PREVIOUS?: string;

  /** How long the challenge between a correct password and the second factor stays usable. */
  @Transform(toInt) @IsInt() @Min(30) @Max(900)
  MFA_CHALLENGE_TTL_SECONDS = 300;

  /** How long a clearing-house manager's break-glass access to a restricted case lasts. */
  @Transform(toInt) @IsInt() @Min(1) @Max(24 * 60)
  BREAK_GLASS_MINUTES = 60;

  /** How long a source's identity released to a colleague (approved by a second manager) stays readable to them. */
  @Transform(toInt) @IsInt() @Min(1) @Max(90 * 24)
  SOURCE_IDENTITY_RELEASE_HOURS = 168;

  /** Years after closure that a case's content is kept, unless its outcome has its own entry below. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100)
  RETENTION_YEARS = 6;

  /** Per-outcome retention in years, as JSON, e.g. {"no_further_action":2,"government_intervention":10}. */
  @IsOptional() @Matches(/^\{[^{}]*\}$/, { message: 'RETENTION_YEARS_BY_OUTCOME must be a JSON object of outcome to years' })
  RETENTION_YEARS_BY_OUTCOME?: string;

  /** Auditor's workbench: whether this instance scans new audit records for unusual access on a schedule (auditors can always scan on demand). */
  @Transform(toBool) @IsBoolean()
  AUDIT_FLAG_SCAN_ENABLED = true;

  /** Auditor's workbench: how often the scheduled scan runs. */
  @Transform(toInt) @IsInt() @Min(10_000) @Max(86_400_000)
  AUDIT_FLAG_SCAN_INTERVAL_MS = 300_000;

  /** Working hours for the out-of-hours flag, in AUDIT_FLAG_TIMEZONE: from this hour (inclusive, 0-23)... */
  @Transform(toInt) @IsInt() @Min(0) @Max(23)
  AUDIT_FLAG_WORKDAY_START_HOUR = 7;

  /** ...to this hour (exclusive, 1-24). */
  @Transform(toInt) @IsInt() @Min(1) @Max(24)
  AUDIT_FLAG_WORKDAY_END_HOUR = 19;

  /** Whether Saturdays and Sundays count as outside working hours. */
  @Transform(toBool) @IsBoolean()
  AUDIT_FLAG_WEEKENDS = true;

  /** The time zone working hours are read in (IANA name). */
  @IsString() @Matches(/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/, { message: 'AUDIT_FLAG_TIMEZONE must be an IANA time zone such as Europe/London' })
  AUDIT_FLAG_TIMEZONE = 'Europe/London';

  /** Bulk reading: flag a user who reads more than this many distinct cases within one window. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000)
  AUDIT_FLAG_BULK_CASES = 20;

  /** Bulk reading: the window, in minutes (fixed windows from midnight UTC). */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_080)
  AUDIT_FLAG_BULK_WINDOW_MINUTES = 60;

  /** Repeated refusals: flag at least this many refused requests by one user (or one address, when signed out) within one window. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100_000)
  AUDIT_FLAG_REFUSALS = 5;

  /** Repeated refusals: the window, in minutes. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_080)
  AUDIT_FLAG_REFUSALS_WINDOW_MINUTES = 15;

  /** Roles whose reads of a case they are not on the team of are flagged (comma-separated role values). */
  @Matches(/^[a-z_]*(,[a-z_]+)*$/, { message: 'AUDIT_FLAG_OFF_TEAM_ROLES must be comma-separated role values' })
  AUDIT_FLAG_OFF_TEAM_ROLES = 'clearing_house_manager,riep_facilitator,lead_political_peer';

  /** Sampled access reviews: how many case accesses a review draws when the auditor does not say. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000)
  AUDIT_REVIEW_SAMPLE_SIZE = 25;

  /** Board statistics: any count below this is shown as "<N" (and secondary suppression applies). */
  @Transform(toInt) @IsInt() @Min(2) @Max(100)
  STATS_SUPPRESSION_THRESHOLD = 5;

  /** Deadlines: whether this instance sends reminders (runs the deadlines worker and its sweep). Deadlines are recorded either way. */
  @Transform(toBool) @IsBoolean()
  DEADLINE_REMINDERS_ENABLED = true;

  /** Deadlines: a concern is to be triaged within this many working days of its receipt. */
  @Transform(toInt) @IsInt() @Min(1) @Max(250)
  DEADLINE_TRIAGE_WORKING_DAYS = 5;

  /** Deadlines: the first sensitive conversation is due this many working days after the decision to follow up. */
  @Transform(toInt) @IsInt() @Min(1) @Max(250)
  DEADLINE_FIRST_CONVERSATION_WORKING_DAYS = 15;

  /** Deadlines: a pre-intervention meeting is to be held this many working days after it is called (until a meeting date is recorded). */
  @Transform(toInt) @IsInt() @Min(1) @Max(250)
  DEADLINE_PRE_INTERVENTION_MEETING_WORKING_DAYS = 10;

  /** Deadlines: the case team is warned this many working days before a deadline (0: on the day). */
  @Transform(toInt) @IsInt() @Min(0) @Max(60)
  DEADLINE_WARNING_WORKING_DAYS = 2;

  /** Deadlines: how often reminder jobs are re-derived from the database (and at start-up). */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(3_600_000)
  DEADLINE_SWEEP_INTERVAL_MS = 600_000;

  /** Idempotency-Key: how long a key is remembered (and a retry replays the first result), in hours; expired keys are purged. */
  @Transform(toInt) @IsInt() @Min(1) @Max(168)
  IDEMPOTENCY_KEY_TTL_HOURS = 24;

  /** How far a case list counts the matching cases it does not show; beyond it the answer says "more than" (totalIsLowerBound). */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  CASE_LIST_COUNT_CAP = 1000;

  /** Set behind a reverse proxy so that client addresses come from X-Forwarded-For. */
  @Transform(toBool) @IsBoolean()
  TRUST_PROXY = false;
}

const DEVELOPMENT_DEFAULTS: Partial<Record<keyof EnvironmentVariables, string>> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/clearing_house',
  // Usable only on a developer's machine: production refuses to start without its own.
  JWT_SECRET: 'development-only-secret-not-for-production-use-0000',
  // A fixed, public development key: checkpoints signed with it prove nothing outside a laptop.
  AUDIT_SIGNING_KEY: 'ZGV2ZWxvcG1lbnQtb25seS1hdWRpdC1rZXktMDAwMDA=',
  // A fixed, public development key ("development-only-mfa-key-0000000"): secrets under it are not secret.
  MFA_ENCRYPTION_KEY: 'ZGV2ZWxvcG1lbnQtb25seS1tZmEta2V5LTAwMDAwMDA=',
  // A fixed, public development key ("development-only-master-key-0000"): content under it is not secret.
  ENCRYPTION_MASTER_KEY: 'ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTAwMDA=',
};

export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  // An empty value (`PORT=`) means "not set": the default applies.
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== ''));
  const env = plainToInstance(EnvironmentVariables, given, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  const problems = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));

  if (env.NODE_ENV !== RuntimeEnvironment.Production) {
    env.DATABASE_URL ??= DEVELOPMENT_DEFAULTS.DATABASE_URL;
    env.JWT_SECRET ??= DEVELOPMENT_DEFAULTS.JWT_SECRET;
    env.AUDIT_SIGNING_KEY ??= DEVELOPMENT_DEFAULTS.AUDIT_SIGNING_KEY;
    env.MFA_ENCRYPTION_KEY ??= DEVELOPMENT_DEFAULTS.MFA_ENCRYPTION_KEY;
    env.ENCRYPTION_MASTER_KEY ??= DEVELOPMENT_DEFAULTS.ENCRYPTION_MASTER_KEY;
  } else {
    if (!env.MFA_ENCRYPTION_KEY) problems.push('MFA_ENCRYPTION_KEY: required in production');
    if (env.MFA_ENCRYPTION_KEY === DEVELOPMENT_DEFAULTS.MFA_ENCRYPTION_KEY) problems.push('MFA_ENCRYPTION_KEY: the development key cannot be used in production');
    if (!env.ENCRYPTION_MASTER_KEY) problems.push('ENCRYPTION_MASTER_KEY: required in production');
    if (env.ENCRYPTION_MASTER_KEY === DEVELOPMENT_DEFAULTS.ENCRYPTION_MASTER_KEY) problems.push('ENCRYPTION_MASTER_KEY: the development key cannot be used in production');
    if (!env.AUDIT_SIGNING_KEY) problems.push('AUDIT_SIGNING_KEY: required in production');
    if (env.AUDIT_SIGNING_KEY === DEVELOPMENT_DEFAULTS.AUDIT_SIGNING_KEY) problems.push('AUDIT_SIGNING_KEY: the development key cannot be used in production');
    if (!env.DATABASE_URL) problems.push('DATABASE_URL: required in production');
    if (!env.JWT_SECRET) problems.push('JWT_SECRET: required in production');
    if (env.JWT_SECRET === DEVELOPMENT_DEFAULTS.JWT_SECRET) problems.push('JWT_SECRET: the development secret cannot be used in production');
  }
  if (env.PASSWORD_MAX_LENGTH < env.PASSWORD_MIN_LENGTH) {
    problems.push('PASSWORD_MAX_LENGTH: must not be less than PASSWORD_MIN_LENGTH');
  }
  if (env.ENCRYPTION_MASTER_KEY_PREVIOUS && env.ENCRYPTION_MASTER_KEY_PREVIOUS === env.ENCRYPTION_MASTER_KEY) {
    problems.push('ENCRYPTION_MASTER_KEY_PREVIOUS: must differ from ENCRYPTION_MASTER_KEY');
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  env.DATABASE_MIGRATION_URL ??= env.DATABASE_URL;
  return env;
}
