import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import { EnvironmentVariables, validateEnvironment } from '../../src/config/environment';
import { Clock } from '../../src/deadlines/clock';
import { DeadlineReminders, UserRow } from '../../src/deadlines/deadline-reminders';
import { DeadlineScheduler } from '../../src/deadlines/deadline-scheduler';
import { ReminderKind } from '../../src/deadlines/deadline.types';
import { ownerDataSource, startApp, TestApp, testAppOf } from '../support/app';
import { freePort } from '../operations/support';

export { eventually, freePort } from '../operations/support';
export { deleteKeys } from '../support/redis';

/** A clock the test moves: days pass in a statement, not in real time. */
export class TestClock extends Clock {
  private at: Date;
  constructor(start = new Date()) {
    super();
    this.at = start;
  }
  now(): Date {
    return new Date(this.at);
  }
  set(at: Date | string): void {
    this.at = new Date(at);
  }
}

/**
 * Every test file of a run shares one database: an application here reminds only about cases on
 * the authorities its file names (no other file uses them), so that its sweeps, on a clock far
 * ahead, never touch the deadlines of other files, or of the other file in this directory.
 */
/** The owner's connection the test scheduler filters with (set before the application starts: it sweeps at start-up). */
let sweepOwner: DataSource | undefined;

function schedulerFor(authorities: readonly string[]) {
  return class ThisFilesScheduler extends DeadlineScheduler {
    protected override async openDeadlinesWarnedBy(until: string) {
      const rows = await super.openDeadlinesWarnedBy(until);
      if (rows.length === 0) return rows;
      // The owner: row-level security shows the service role no deadline outside the scheduler's own context.
      const mine: Array<{ id: string }> = await sweepOwner!.query(
        `SELECT d.id FROM case_deadlines d JOIN cases c ON c.id = d.case_id JOIN authorities a ON a.id = c.authority_id
          WHERE d.id = ANY($1::uuid[]) AND a.code = ANY($2::text[])`,
        [rows.map((r) => r.id), authorities],
      );
      return rows.filter((r) => mine.some((m) => m.id === r.id));
    }
  };
}

/** This directory's users have addresses here: escalations go only to this directory's managers. */
export const DEADLINE_DOMAIN = `deadlines-${randomUUID().slice(0, 8)}.test.example`;

/** A user of this directory (see DEADLINE_DOMAIN). */
export function ours(name: string): { name: string; email: string } {
  return { name, email: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${randomUUID().slice(0, 8)}@${DEADLINE_DOMAIN}` };
}

class ThisDirectorysReminders extends DeadlineReminders {
  // Every active manager of the run's shared database would be every test file's managers: keep to ours.
  protected override async activeManagers(m: EntityManager): Promise<UserRow[]> {
    return (await super.activeManagers(m)).filter((u) => u.email.endsWith(`@${DEADLINE_DOMAIN}`));
  }
}

export interface DeadlinesTestApp extends TestApp {
  scheduler: DeadlineScheduler;
  reminders: DeadlineReminders;
  prefix: string;
  redisUrl: string;
}

/**
 * The application with reminders on, the given clock, a Redis key prefix of its own, and a
 * sweep that only fires when the test calls it (or at start-up).
 */
export async function createDeadlinesApp(clock: TestClock, authorities: readonly string[], overrides: Partial<EnvironmentVariables> = {}): Promise<DeadlinesTestApp> {
  const prefix = overrides.QUEUE_PREFIX ?? `${process.env.QUEUE_PREFIX}_dl_${randomUUID().slice(0, 8)}`;
  const settings = {
    ...validateEnvironment({ ...process.env }),
    QUEUE_PREFIX: prefix,
    DEADLINE_REMINDERS_ENABLED: true,
    DEADLINE_SWEEP_INTERVAL_MS: 3_600_000,
    ...overrides,
  } as EnvironmentVariables;
  const owner = await ownerDataSource();
  sweepOwner = owner;
  const app = await startApp(settings, (builder) => builder
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(DeadlineScheduler)
    .useClass(schedulerFor(authorities))
    .overrideProvider(DeadlineReminders)
    .useClass(ThisDirectorysReminders));
  return {
    ...testAppOf(app, owner),
    scheduler: app.get(DeadlineScheduler),
    reminders: app.get(DeadlineReminders),
    prefix,
    redisUrl: settings.REDIS_URL,
  };
}

/** A Redis of this test's own, which it may kill and restart (never the shared one). */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    // No persistence: a restart comes back empty, as a Redis that lost its state.
    const child = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          if (redis.status !== 'ready') await redis.connect();
          if ((await redis.ping()) === 'PONG') return;
        } catch (error) {
          if (attempt > 100 || child.exitCode !== null) throw error;
          redis.disconnect();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      redis.disconnect();
    }
  }

  /** Kills it outright (SIGKILL): whatever it held is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async keys(pattern: string): Promise<string[]> {
    const redis = new Redis(this.url);
    try {
      return await redis.keys(pattern);
    } finally {
      redis.disconnect();
    }
  }
}

export interface ReminderRow {
  deadline_id: string;
  kind: ReminderKind;
  notifications: number;
}

export async function remindersOf(ds: DataSource, deadlineIds: string[]): Promise<ReminderRow[]> {
  return ds.query(`SELECT deadline_id, kind, notifications FROM deadline_reminders WHERE deadline_id = ANY($1::uuid[]) ORDER BY deadline_id, kind`, [deadlineIds]);
}

export interface DeadlineRow {
  id: string;
  kind: string;
  state: string;
  due_on: string;
  warn_on: string;
  source_id: string | null;
  source_item: number;
  closed_reason: string | null;
}

export async function deadlinesOf(ds: DataSource, caseId: string): Promise<DeadlineRow[]> {
  return ds.query(
    `SELECT id, kind, state, to_char(due_on, 'YYYY-MM-DD') AS due_on, to_char(warn_on, 'YYYY-MM-DD') AS warn_on, source_id, source_item, closed_reason
       FROM case_deadlines WHERE case_id = $1 ORDER BY created_at, due_on, source_item`,
    [caseId],
  );
}

/** Notifications about a case, per user and kind (the dedupe key says which reminder). */
export async function notificationsAbout(ds: DataSource, caseId: string): Promise<Array<{ user_id: string; kind: string; title: string; body: string; dedupe_key: string }>> {
  return ds.query(`SELECT user_id, kind, title, body, dedupe_key FROM notifications WHERE case_id = $1 ORDER BY created_at, user_id`, [caseId]);
}
