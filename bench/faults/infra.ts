import { ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import { DataSource } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { importAuthorities } from '../../src/authorities/authorities-import';
import { hashPassword } from '../../src/auth/password-hash';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrations';
import { ensureServiceLogin, withUser } from '../../src/database/service-role';

/**
 * Private, throw-away infrastructure for the fault scripts and the soak run: a PostgreSQL
 * cluster and a Redis of their own on loopback ports (the shared ones on 5432/6379 are never
 * touched), an SMTP catcher, and the real service as a child process (node dist/src/main.js).
 * Everything lives under one temporary directory that `cleanUp` removes.
 */

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';
const REPO_ROOT = join(__dirname, '..', '..', '..');
export const FAULT_PASSWORD = 'fault injection password 42';
const SERVICE_LOGIN = 'clearing_house_fault_service';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function stamp(message: string): void {
  process.stdout.write(`[${new Date().toISOString()}] ${message}\n`);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root (initdb refuses root). */
function pgCommand(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]] : [join(PG_BIN, bin), args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${bin} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A PostgreSQL 15 cluster in a temporary directory, trust authentication on 127.0.0.1 only. */
export class PrivatePostgres {
  port = 0;
  readonly dataDir: string;
  readonly logFile: string;

  constructor(private readonly root: string) {
    this.dataDir = join(root, 'pgdata');
    this.logFile = join(root, 'postgres.log');
  }

  serverUrl(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    if (isRoot) chownSync(this.root, uidOf('postgres'), gidOf('postgres'));
    await pgCommand('initdb', ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    await this.start();
  }

  private options(): string {
    // Loopback only, the socket in our own directory, small memory: this is a test instance.
    return `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.root} -c shared_buffers=64MB -c max_connections=60 -c fsync=on`;
  }

  async start(): Promise<void> {
    await pgCommand('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-o', this.options(), '-w', '-t', '60', 'start']);
  }

  /** Fast shutdown: open sessions are ended (SQLSTATE 57P01), in-flight transactions roll back. */
  async stop(): Promise<void> {
    await pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
  }

  async restart(): Promise<void> {
    await pgCommand('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-o', this.options(), '-m', 'fast', '-w', '-t', '60', 'restart']);
  }

  async destroy(): Promise<void> {
    try {
      await pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop'], 40_000);
    } catch {
      /* not running */
    }
  }
}

function uidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no OS user ${user}`);
  return Number(line.split(':')[2]);
}

function gidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no OS user ${user}`);
  return Number(line.split(':')[3]);
}

/** A redis-server of our own. Without persistence by default: a restart comes back empty. */
export class PrivateRedis {
  port = 0;
  private child: ChildProcess | undefined;

  constructor(
    private readonly root: string,
    private readonly persistent = false,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const persistence = this.persistent ? ['--appendonly', 'yes', '--dir', this.root] : ['--save', '', '--appendonly', 'no'];
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--protected-mode', 'yes', ...persistence], { stdio: 'ignore' });
    this.child = child;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (await this.ping()) return;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('private redis-server did not start');
      await sleep(50);
    }
  }

  async ping(): Promise<boolean> {
    return new Promise((resolve) => {
      execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'ping'], { timeout: 2_000 }, (error, stdout) => resolve(!error && stdout.trim() === 'PONG'));
    });
  }

  /** Stops it (SIGTERM: a clean shutdown; without persistence it forgets every key). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}

export interface CaughtMail {
  to: string[];
  subject: string;
  messageId: string;
}

/** An SMTP catcher on loopback: keeps the envelope and a few headers of every message. */
export class MailCatcher {
  readonly messages: CaughtMail[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const head = Buffer.concat(chunks).toString('utf8').split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
          const get = (name: string) => head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim() ?? '';
          this.messages.push({ to: session.envelope.rcptTo.map((r) => r.address), subject: get('subject'), messageId: get('message-id') });
          callback();
        });
      },
    });
    const server = this.server;
    this.port = await freePort();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface ServiceOptions {
  databaseUrl: string;
  migrationUrl: string;
  redisUrl: string;
  smtpPort: number;
  port: number;
  logFile: string;
  extraEnv?: Record<string, string>;
}

/** The real service, `node dist/src/main.js`, as a child process with its own environment. */
export class ServiceProcess {
  child: ChildProcess | undefined;
  private log: WriteStream | undefined;

  constructor(readonly opts: ServiceOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.opts.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      // test: no .env file is read, development keys are allowed (never production).
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(this.opts.port),
      DATABASE_URL: this.opts.databaseUrl,
      DATABASE_MIGRATION_URL: this.opts.migrationUrl,
      DATABASE_POOL_SIZE: '10',
      REDIS_URL: this.opts.redisUrl,
      QUEUE_PREFIX: 'chfault',
      SMTP_URL: `smtp://127.0.0.1:${this.opts.smtpPort}`,
      EMAIL_SWEEP_INTERVAL_MS: '2000',
      EMAIL_RETRY_BASE_MS: '500',
      AUDIT_SEAL_INTERVAL_MS: '1000',
      DEADLINE_SWEEP_INTERVAL_MS: '2000',
      DEADLINE_REMINDERS_ENABLED: 'true',
      LOG_LEVEL: 'warn',
      // Every request comes from 127.0.0.1: the per-address limits would otherwise answer 429.
      RATE_LIMIT_PER_MINUTE: '100000000',
      SIGN_IN_RATE_LIMIT_PER_MINUTE: '100000',
      JWT_ACCESS_TTL_SECONDS: '3600',
      ...this.opts.extraEnv,
    };
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.log ??= createWriteStream(this.opts.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'main.js')], { cwd: REPO_ROOT, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} at start-up (see ${this.opts.logFile})`);
      try {
        const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1_000) });
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`the service did not start within ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /** SIGKILL: no shutdown hooks, in-flight requests die with the process. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }

  /** Resident set size of the process in KiB (Linux), or null. */
  rssKib(): number | null {
    if (!this.child?.pid) return null;
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    await this.kill('SIGTERM');
    this.log?.end();
    this.log = undefined;
  }
}

export interface Stack {
  root: string;
  pg: PrivatePostgres;
  redis: PrivateRedis;
  mail: MailCatcher;
  service: ServiceProcess;
  ownerUrl: string;
  serviceUrl: string;
  users: SeededUsers;
}

export interface SeededUsers {
  officers: Array<{ id: string; email: string }>;
  managers: Array<{ id: string; email: string }>;
  auditors: Array<{ id: string; email: string }>;
}

/**
 * Creates the whole private stack: cluster, database migrated as the owner, the authorities
 * register, the least-privilege service login, demo-like users, Redis, the mail catcher and
 * the service itself.
 */
export async function createStack(name: string, opts: { officers?: number; managers?: number; auditors?: number; redisPersistent?: boolean; extraEnv?: Record<string, string> } = {}): Promise<Stack> {
  const root = mkdtempSync(join(tmpdir(), `ch-${name}-`));
  const pg = new PrivatePostgres(root);
  const redis = new PrivateRedis(root, opts.redisPersistent ?? false);
  const mail = new MailCatcher();
  const stack: Partial<Stack> = { root, pg, redis, mail };
  registerCleanUp(stack);
  try {
    return await build(stack, pg, redis, mail, opts);
  } catch (error) {
    // Whatever was started so far is stopped and removed.
    await cleanUp(stack);
    throw error;
  }
}

async function build(
  stack: Partial<Stack>, pg: PrivatePostgres, redis: PrivateRedis, mail: MailCatcher,
  opts: { officers?: number; managers?: number; auditors?: number; extraEnv?: Record<string, string> },
): Promise<Stack> {
  const root = stack.root!;
  await pg.init();
  const admin = new Client({ connectionString: pg.serverUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE clearing_house_fault`);
  await admin.end();
  const ownerUrl = pg.serverUrl('clearing_house_fault');
  await runMigrations(ownerUrl);
  const ds = new DataSource(dataSourceOptions({ url: ownerUrl, poolSize: 2 }));
  await ds.initialize();
  let users: SeededUsers;
  try {
    await importAuthorities(ds);
    users = await seedUsers(ds, opts);
  } finally {
    await ds.destroy();
  }
  await ensureServiceLogin(ownerUrl, SERVICE_LOGIN);
  const serviceUrl = withUser(ownerUrl, SERVICE_LOGIN);
  await redis.start();
  await mail.start();
  mkdirSync(join(root, 'logs'), { recursive: true });
  const service = new ServiceProcess({
    databaseUrl: serviceUrl, migrationUrl: ownerUrl, redisUrl: redis.url, smtpPort: mail.port, port: await freePort(),
    logFile: join(root, 'logs', 'service.log'), extraEnv: opts.extraEnv,
  });
  stack.service = service;
  await service.start();
  return Object.assign(stack, { ownerUrl, serviceUrl, users }) as Stack;
}

async function seedUsers(ds: DataSource, opts: { officers?: number; managers?: number; auditors?: number }): Promise<SeededUsers> {
  const hash = await hashPassword(FAULT_PASSWORD, { memoryKib: 1024, timeCost: 1 });
  const make = async (role: Role, n: number) => {
    const out: Array<{ id: string; email: string }> = [];
    for (let i = 0; i < n; i++) {
      const email = `${role.replace(/_/g, '.')}.${i}@fault.test.example`;
      const [row] = await ds.query(`INSERT INTO users (email, display_name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`, [email, `${role} ${i}`, hash, role]);
      out.push({ id: row.id, email });
    }
    return out;
  };
  return {
    officers: await make(Role.ClearingHouseOfficer, opts.officers ?? 4),
    managers: await make(Role.ClearingHouseManager, opts.managers ?? 1),
    auditors: await make(Role.Auditor, opts.auditors ?? 0),
  };
}

const live = new Set<Partial<Stack>>();
let hooked = false;

function registerCleanUp(stack: Partial<Stack>): void {
  live.add(stack);
  if (hooked) return;
  hooked = true;
  const onSignal = (signal: NodeJS.Signals) => {
    void Promise.all([...live].map((s) => cleanUp(s))).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/** Stops everything the stack started and removes its directory; never throws. */
export async function cleanUp(stack: Partial<Stack>): Promise<void> {
  live.delete(stack);
  const quietly = async (work: () => Promise<unknown> | undefined) => {
    try {
      await work();
    } catch {
      /* best effort */
    }
  };
  await quietly(() => stack.service?.close());
  await quietly(() => stack.mail?.stop());
  await quietly(() => stack.redis?.stop('SIGKILL'));
  await quietly(() => stack.pg?.destroy());
  if (stack.root && process.env.KEEP_FAULT_DIR !== '1') rmSync(stack.root, { recursive: true, force: true });
}
