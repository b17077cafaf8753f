import 'reflect-metadata';
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { canonicalRecord, RECORD_COLUMNS, SealedRecord } from '../src/audit/audit-record';
import { TrailVerifier } from '../src/audit/trail-verifier';
import { CheckpointSigner } from '../src/audit/signing';
import { totpCodeAt, totpStepAt } from '../src/auth/mfa/totp';
import { EnvironmentVariables, validateEnvironment } from '../src/config/environment';
import { runMigrations } from '../src/database/migrations';
import { ensureServiceLogin, withUser } from '../src/database/service-role';
import { runAuditedRead } from './audited-read';
import {
  BENCH_SERVICE_LOGIN, databaseExists, databaseUrl, flag, loadAverage, log, machineFacts, numberOption, option, percentile, ratio, REDIS_URL, round, today,
  writeResult,
} from './common';
import type { HttpItem, HttpLoad, LoadResult, SqlLoad } from './http-load';
import { BENCH_PASSWORD, SEED_ACTORS, seedEmail } from './seed';
import { bootApp, BootedService, json } from './service-app';

/**
 * HTTP scenarios against the real service on a database filled by bench/seed.ts:
 *
 *   npm run bench:http -- [--database ch_bench_seed] [--small-database ch_bench_seed_10k]
 *                         [--connections 1,8,32,128] [--duration 8] [--warmup 2]
 *                         [--ratio-connections 8] [--rounds 3] [--ratio-duration 5]
 *                         [--verify-records 500000] [--skip-audited-read] [--tag name]
 *                         [--scenarios list,read,...] [--skip-ratios]     (a partial re-run)
 *
 * The service is the real AppModule (as in bench/audited-read.ts) in this process, on a loopback
 * port, logged in to PostgreSQL as the least-privilege service login; autocannon runs in a child
 * process (bench/http-load.ts). Users sign in through the API (the auditor enrols a second factor
 * through the API first).
 *
 * Scenarios, each at every connection count: scoped case list as an officer, a RIEP facilitator
 * and a lead political peer; a case read with its conversations (GET /cases/:id and
 * GET /cases/:id/conversations, alternately); concern create (POST /concerns, a new case each
 * time); workflow move (POST /cases/:id/moves on distinct cases in a state that allows it, each
 * case moved once per version); the auditor's search of one case over one month. The reading
 * scenarios first, then the ratios below, then the writing ones (see runScenarios).
 *
 * Ratios, measured side by side (A B A B … rounds, same process, same load):
 * - scoped list through the API vs the very SQL the service ran (captured from the pg driver),
 *   run directly with `pg` over a pool of the service's size (the floor);
 * - case list on the big seed vs the small one (two services, one per database);
 * - the auditor's search on the big seed's audit table vs the small one's, same (case, month) pairs;
 * - audit verification (TrailVerifier over N sealed records read from the database) vs Node's raw
 *   SHA-256 over the same canonical bytes;
 * - audited vs unaudited case read: bench/audited-read.ts, run as it is (its own database).
 */

type Role = 'officer' | 'riep' | 'peer' | 'auditor';

interface Booted {
  url: string;
  tokens: Record<Role, string>;
}

/** The service on another database, in its own process (see bench/http-server.ts). */
export function bootInChild(ownerUrl: string, prefix: string): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'http-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: { url?: string; error?: string }) =>
      m.error ? reject(new Error(m.error)) : resolve({ url: m.url!, stop: () => child.send('stop') }));
    child.once('error', reject);
    child.send({ ownerUrl, prefix });
  });
}

interface Cell {
  scenario: string;
  connections: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
  errors: number;
  loadAverage: string;
}

export const serviceSettings = (url: string, prefix: string) =>
  validateEnvironment({
    NODE_ENV: 'test',
    DATABASE_URL: withUser(url, BENCH_SERVICE_LOGIN),
    DATABASE_MIGRATION_URL: url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    // Refusals are logged at warn; the benchmark's own 4xx are counted in the results instead.
    LOG_LEVEL: 'error',
    // One client address sends every request: the per-address limits would otherwise answer 429.
    RATE_LIMIT_PER_MINUTE: '100000000',
    SIGN_IN_RATE_LIMIT_PER_MINUTE: '100000',
    JWT_ACCESS_TTL_SECONDS: '3600',
  }) as EnvironmentVariables;

export function bootService(settings: EnvironmentVariables): Promise<BootedService> {
  return bootApp(settings, { logger: ['error'] });
}

/** Signs in through the API; a role that must have a second factor enrols one (TOTP) first, through the API. */
export async function signIn(base: string, email: string): Promise<string> {
  const res = await json('POST', `${base}/auth/sign-in`, { email, password: BENCH_PASSWORD });
  if (res.status !== 200) throw new Error(`sign-in of ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  if (res.body.mfaRequired) throw new Error(`${email} already has a second factor; the benchmark picks a user without one`);
  if (res.body.mfaEnrolmentRequired) {
    const enrolled = await json('POST', `${base}/auth/mfa/enrol`, undefined, res.body.accessToken);
    if (enrolled.status !== 200) throw new Error(`MFA enrolment of ${email}: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
    const confirmed = await json('POST', `${base}/auth/mfa/confirm`, { code: totpCodeAt(enrolled.body.secret, totpStepAt(Date.now())) }, res.body.accessToken);
    if (confirmed.status !== 200) throw new Error(`MFA confirmation of ${email}: ${confirmed.status}`);
    // The enrolling session now has full access (test/support/app.ts relies on the same).
  }
  return res.body.accessToken;
}

async function signInAll(ownerUrl: string, base: string): Promise<Record<Role, string>> {
  const owner = new Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    // An auditor without a second factor yet (each run enrols one).
    const { rows } = await owner.query<{ email: string }>(
      `SELECT email FROM users u WHERE role = 'auditor' AND NOT EXISTS (SELECT 1 FROM mfa_factors f WHERE f.user_id = u.id) ORDER BY email LIMIT 1`);
    if (!rows[0]) throw new Error('no auditor without a second factor left in this database');
    return {
      officer: await signIn(base, seedEmail(SEED_ACTORS.officer)),
      riep: await signIn(base, seedEmail(SEED_ACTORS.riepFacilitator)),
      peer: await signIn(base, seedEmail(SEED_ACTORS.leadPoliticalPeer)),
      auditor: await signIn(base, rows[0].email),
    };
  } finally {
    await owner.end();
  }
}

/**
 * A live system's audit scanners have long caught up with the sealed trail; on a freshly seeded
 * database they would start from record 1 and scan millions of records during the measurements.
 */
async function caughtUpScanners(ownerUrl: string): Promise<void> {
  const c = new Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    const [{ t }] = (await c.query(`SELECT to_regclass('audit_flag_watermarks') IS NOT NULL AS t`)).rows;
    if (t) await c.query(`UPDATE audit_flag_watermarks SET last_seq = (SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints) WHERE last_seq = 0`);
    // Likewise the deadline reminders: the seeded cases' passed deadlines were reminded of long ago. Without this the
    // service's first sweep sends tens of thousands of reminders while the scenarios run.
    await c.query(
      `INSERT INTO deadline_reminders (deadline_id, kind, sent_at)
       SELECT d.id, k.kind, now() FROM case_deadlines d CROSS JOIN LATERAL (VALUES ('approaching', d.warn_on), ('missed', d.due_on)) AS k(kind, day)
        WHERE d.state = 'open' AND k.day < current_date
       ON CONFLICT (deadline_id, kind) DO NOTHING`);
  } finally {
    await c.end();
  }
}

export function load(req: HttpLoad | SqlLoad): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'http-load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: LoadResult & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    child.once('error', reject);
    child.send(req);
  });
}

function cellOf(scenario: string, connections: number, r: LoadResult): Cell {
  const l = r.latenciesMs;
  const ok = Object.entries(r.statuses).filter(([s]) => s.startsWith('2') || s === 'ok').reduce((a, [, n]) => a + n, 0);
  return {
    scenario, connections, requests: l.length, requestsPerSecond: round(ok / r.seconds, 1),
    p50Ms: round(percentile(l, 50)), p90Ms: round(percentile(l, 90)), p99Ms: round(percentile(l, 99)),
    statuses: r.statuses, errors: r.errors + r.timeouts, loadAverage: loadAverage(),
  };
}

export interface CapturedStatement {
  sql: string;
  params: unknown[];
  /** The pg client that sent it: a request's transaction runs on one client, the background jobs on others. */
  client: unknown;
}

/** Every SQL statement the pg driver sends in this process, so that the floor runs exactly the service's query. */
export function captureQueries(): {
  start(): void;
  find(fragment: string): CapturedStatement | undefined;
  all(): CapturedStatement[];
  /** The statements of the last request: those on the client that sent `fragment` (its transaction), and the session check before it. */
  request(fragment: string): CapturedStatement[];
} {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require('pg') as typeof import('pg');
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const seen: CapturedStatement[] = [];
  let on = false;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [text, values] = args;
    if (on && typeof text === 'string') seen.push({ sql: text, params: Array.isArray(values) ? values : [], client: this });
    return original.apply(this, args);
  };
  return {
    start: () => {
      seen.length = 0;
      on = true;
    },
    // Every statement of the last request (the sealer's, which may run in between, left out).
    all: () => seen.filter((q) => !/advisory|audit_checkpoints|audit_seals|pg_snapshot|case_deadlines|deadline_reminders|ch_notify|email_outbox|idempotency_keys WHERE expires/i.test(q.sql)),
    find: (fragment) => {
      on = false;
      const hit = [...seen].reverse().find((q) => q.sql.includes(fragment));
      seen.length = 0;
      return hit;
    },
    request: (fragment) => {
      on = false;
      const anchor = [...seen].reverse().find((q) => q.sql.includes(fragment));
      if (!anchor) return [];
      const session = seen.find((q) => /FROM sessions s\s+JOIN users u/.test(q.sql));
      const own = seen.filter((q) => q.client === anchor.client);
      // The transaction: from its START TRANSACTION to its COMMIT on that client.
      const start = own.map((q) => /^START TRANSACTION|^BEGIN/i.test(q.sql)).lastIndexOf(true, own.indexOf(anchor));
      const end = own.findIndex((q, i) => i > own.indexOf(anchor) && /^COMMIT/i.test(q.sql));
      const tx = own.slice(Math.max(0, start), end < 0 ? own.length : end + 1);
      seen.length = 0;
      return session && !tx.includes(session) ? [session, ...tx] : tx;
    },
  };
}

interface Fixtures {
  readCases: string[];
  authorities: string[];
  moves: HttpItem[];
  auditPairs: Array<{ caseId: string; month: string }>;
}

async function fixtures(ownerUrl: string, samples: number): Promise<Fixtures> {
  const owner = new Client({ connectionString: ownerUrl });
  await owner.connect();
  try {
    // Cases with conversations (sensitive conversation and beyond), not restricted, spread over the table.
    const readCases = (await owner.query<{ id: string }>(
      `SELECT c.id FROM cases c WHERE NOT c.restricted_to_team AND EXISTS (SELECT 1 FROM conversation_records r WHERE r.case_id = c.id)
        ORDER BY md5(c.id::text) LIMIT $1`, [samples])).rows.map((r) => r.id);
    const authorities = (await owner.query<{ code: string }>(`SELECT code FROM authorities WHERE is_current ORDER BY code`)).rows.map((r) => r.code);
    // Moves that the workflow allows without preconditions, one per case and version: start_triage, then follow_up.
    const moveRows = (await owner.query<{ id: string; state: string; version: number }>(
      `SELECT id, state, version FROM cases WHERE NOT restricted_to_team AND state IN ('concern_raised','triage','monitoring') ORDER BY md5(id::text)`)).rows;
    const moves: HttpItem[] = moveRows.map((c) => ({
      method: 'POST', path: `/cases/${c.id}/moves`,
      body: JSON.stringify({ move: c.state === 'concern_raised' ? 'start_triage' : 'follow_up', version: c.version }),
    }));
    const auditPairs = (await owner.query<{ case_id: string; month: string }>(
      `SELECT case_id, month FROM (
         SELECT DISTINCT case_id::text AS case_id, to_char(date_trunc('month', occurred_at), 'YYYY-MM') AS month
           FROM audit_events TABLESAMPLE SYSTEM (1) WHERE case_id IS NOT NULL) s
        ORDER BY md5(case_id || month) LIMIT $1`, [samples])).rows.map((r) => ({ caseId: r.case_id, month: r.month }));
    return { readCases, authorities, moves, auditPairs };
  } finally {
    await owner.end();
  }
}

function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
}

/** What marks the case list's page statement (src/cases/cases.service.ts, list) among those a request sends. */
export const LIST_PAGE_STATEMENT = 'ORDER BY c.opened_at DESC, c.id DESC';
export const LIST_PAGES = 20;
export const listItems = (): HttpItem[] => Array.from({ length: LIST_PAGES }, (_, i) => ({ method: 'GET', path: `/cases?limit=25&offset=${i * 25}` }));
const auditItems = (pairs: Fixtures['auditPairs']): HttpItem[] =>
  pairs.map((p) => {
    const { from, to } = monthBounds(p.month);
    return { method: 'GET', path: `/audit/events?caseId=${p.caseId}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}` };
  });

/** The audit verification rate: TrailVerifier over records read from the database vs raw SHA-256 over the same canonical bytes. */
async function verificationRatio(ownerUrl: string, records: number, rounds: number, signingKey: string): Promise<Record<string, unknown>> {
  const owner = new Client({ connectionString: ownerUrl });
  await owner.connect();
  const inputs: Array<{ seq: number; record: Omit<SealedRecord, 'seq'>; storedLeafHash: string; orderKey: [bigint, string, string] }> = [];
  try {
    // By key, record by record: at 50M rows the planner's hash join read the whole audit table for every batch.
    await owner.query(`SET enable_hashjoin = off; SET enable_mergejoin = off`);
    let last = 0;
    while (inputs.length < records) {
      const { rows } = await owner.query(
        `WITH s AS (SELECT * FROM audit_seals WHERE seq > $1 ORDER BY seq LIMIT 50000)
         SELECT s.seq, encode(s.leaf_hash, 'hex') AS leaf, e.tx_id::text AS tx, ${RECORD_COLUMNS}
           FROM s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at
          ORDER BY s.seq`, [last]);
      if (rows.length === 0) break;
      for (const r of rows) {
        const { seq, leaf, tx, ...record } = r;
        inputs.push({ seq: Number(seq), record, storedLeafHash: leaf, orderKey: [BigInt(tx), record.occurredAt, record.id] });
      }
      last = Number(rows[rows.length - 1].seq);
    }
  } finally {
    await owner.end();
  }
  inputs.length = Math.min(inputs.length, records);
  const bytes = inputs.map((i) => canonicalRecord(i.record));
  const totalBytes = bytes.reduce((a, b) => a + b.length, 0);
  const publicKey = new CheckpointSigner(signingKey).publicKeyRaw;
  const runs: Array<{ variant: string; round: number; seconds: number; recordsPerSecond: number; MiBPerSecond: number; problems?: number }> = [];
  for (let r = 1; r <= rounds; r++) {
    let t0 = process.hrtime.bigint();
    const verifier = new TrailVerifier(publicKey);
    for (const input of inputs) verifier.addRecord(input);
    let seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const report = verifier.finish();
    runs.push({ variant: 'TrailVerifier', round: r, seconds: round(seconds), recordsPerSecond: Math.round(inputs.length / seconds), MiBPerSecond: round(totalBytes / 2 ** 20 / seconds, 1), problems: report.problems.length });
    t0 = process.hrtime.bigint();
    for (const b of bytes) createHash('sha256').update(b).digest();
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    runs.push({ variant: 'raw SHA-256', round: r, seconds: round(seconds), recordsPerSecond: Math.round(inputs.length / seconds), MiBPerSecond: round(totalBytes / 2 ** 20 / seconds, 1) });
  }
  const best = (v: string) => Math.max(...runs.filter((x) => x.variant === v).map((x) => x.recordsPerSecond));
  const verifierRate = best('TrailVerifier');
  const rawRate = best('raw SHA-256');
  return {
    records: inputs.length, meanRecordBytes: round(totalBytes / inputs.length, 1), rounds,
    verifierRecordsPerSecond: verifierRate, rawSha256RecordsPerSecond: rawRate, ratio: ratio(verifierRate, rawRate),
    problemsFound: runs.find((x) => x.variant === 'TrailVerifier')?.problems,
    runs,
    note: 'in memory, records read from the database beforehand (seq order, with their stored leaf hashes and sealing order); best round of each',
  };
}

function summarise(cells: Cell[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of cells) {
    const key = `${c.scenario}`;
    (out[key] as Record<string, unknown> | undefined) ?? (out[key] = {});
    (out[key] as Record<string, unknown>)[String(c.connections)] = { p50Ms: c.p50Ms, p99Ms: c.p99Ms, requestsPerSecond: c.requestsPerSecond, non2xx: Object.entries(c.statuses).filter(([s]) => !s.startsWith('2')).reduce((a, [, n]) => a + n, 0) };
  }
  return out;
}

export async function runHttp(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const dbName = option(argv, '--database') ?? 'ch_bench_seed';
  const smallName = option(argv, '--small-database') ?? 'ch_bench_seed_10k';
  const levels = (option(argv, '--connections') ?? '1,8,32,128').split(',').map(Number);
  const duration = numberOption(argv, '--duration', 8);
  const warmup = numberOption(argv, '--warmup', 2);
  const ratioLevels = (option(argv, '--ratio-connections') ?? '8').split(',').map(Number);
  const rounds = numberOption(argv, '--rounds', 3);
  const ratioDuration = numberOption(argv, '--ratio-duration', 5);
  const verifyRecords = numberOption(argv, '--verify-records', 500_000);
  const tag = option(argv, '--tag') ? `-${option(argv, '--tag')}` : '';
  const started = Date.now();
  const machine = await machineFacts();
  const url = databaseUrl(dbName);
  const smallUrl = databaseUrl(smallName);
  const haveSmall = await databaseExists(smallName);
  if (!(await databaseExists(dbName))) throw new Error(`database ${dbName} does not exist: run npm run bench:seed first`);
  log(`http: ${dbName}${haveSmall ? ` and ${smallName}` : ''}, ${levels.join('/')} connections, ${duration} s per cell`);

  const capture = captureQueries();
  const migrated: Record<string, string[]> = {};
  for (const u of haveSmall ? [url, smallUrl] : [url]) {
    // Migrations added since the seed (the schema moves while the work goes on) are applied as the owner, as a deployment would.
    migrated[new URL(u).pathname.slice(1)] = await runMigrations(u);
    await ensureServiceLogin(u, BENCH_SERVICE_LOGIN);
    await caughtUpScanners(u);
  }
  if (Object.values(migrated).some((m) => m.length > 0)) log(`  applied pending migrations: ${JSON.stringify(migrated)}`);
  const settings = serviceSettings(url, `chbench_http_${process.pid}`);
  const big = await bootService(settings);
  const small = haveSmall ? await bootInChild(smallUrl, `chbench_http_small_${process.pid}`) : undefined;
  const apps: { big: Booted; small?: Booted } = { big: { ...big, tokens: await signInAll(url, big.url) } };
  if (small) apps.small = { ...small, tokens: await signInAll(smallUrl, small.url) };
  const counts = async (u: string) => {
    const c = new Client({ connectionString: u });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM conversation_records) AS conversations,
                                             (SELECT max(tree_size) FROM audit_checkpoints) AS sealed`);
      return { cases: Number(rows[0].cases), conversations: Number(rows[0].conversations), sealedAuditRecords: Number(rows[0].sealed ?? 0) };
    } finally {
      await c.end();
    }
  };
  const sizes = { [dbName]: await counts(url), ...(haveSmall ? { [smallName]: await counts(smallUrl) } : {}) };
  try {
    const fx = await fixtures(url, 2000);
    const smallFx = haveSmall ? await fixtures(smallUrl, 2000) : undefined;
    const headers = (app: Booted, role: Role) => ({ authorization: `Bearer ${app.tokens[role]}` });
    const b = apps.big;
    log(`  fixtures: ${fx.readCases.length} cases to read, ${fx.moves.length} moves available, ${fx.auditPairs.length} audit (case, month) pairs`);

    // The scenario matrix.
    let moveCursor = 0;
    const scenarios: Array<{ name: string; role: Role; items: () => HttpItem[]; once?: boolean; writes?: boolean }> = [
      { name: 'case list (officer)', role: 'officer', items: listItems },
      { name: 'case list (RIEP facilitator)', role: 'riep', items: listItems },
      { name: 'case list (lead political peer)', role: 'peer', items: listItems },
      {
        name: 'case read + conversations (officer)', role: 'officer',
        items: () => fx.readCases.flatMap((id): HttpItem[] => [{ method: 'GET', path: `/cases/${id}` }, { method: 'GET', path: `/cases/${id}/conversations` }]),
      },
      {
        name: 'workflow move (officer)', role: 'officer', once: true, writes: true,
        // A fresh slice of never-moved (case, version) pairs for every run.
        items: () => fx.moves.slice(moveCursor),
      },
      {
        name: 'concern create (officer)', role: 'officer', writes: true,
        items: () => fx.authorities.map((code, i): HttpItem => ({
          method: 'POST', path: '/concerns',
          body: JSON.stringify({
            authority: code, receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance',
            description: `Benchmark concern ${i}: budget gap reported by the section 151 officer, governance review requested.`, signals: ['financial_difficulty'],
          }),
        })),
      },
      { name: 'auditor search, one case over one month', role: 'auditor', items: () => auditItems(fx.auditPairs) },
    ];
    const cells: Cell[] = [];
    // --scenarios read,list: only the scenarios whose name contains one of these words (a partial re-run).
    const only = option(argv, '--scenarios')?.split(',');
    const runScenarios = async (writes: boolean) => {
      for (const s of scenarios.filter((x) => !!x.writes === writes && (!only || only.some((w) => x.name.includes(w))))) {
        for (const connections of levels) {
          if (s.items().length === 0) {
            log(`  ${s.name} @${connections}: skipped, no fixtures left (a small seed)`);
            continue;
          }
          if (warmup > 0 && !s.once) await load({ kind: 'http', url: b.url, items: s.items(), headers: headers(b, s.role), connections, durationSeconds: warmup });
          const res = await load({ kind: 'http', url: b.url, items: s.items(), once: s.once, headers: headers(b, s.role), connections, durationSeconds: duration });
          if (s.once) moveCursor += res.itemsUsed;
          const cell = cellOf(s.name, connections, res);
          cells.push(cell);
          log(`  ${s.name} @${connections}: p50 ${cell.p50Ms} ms, p99 ${cell.p99Ms} ms, ${cell.requestsPerSecond} req/s ${JSON.stringify(cell.statuses)}`);
        }
      }
    };
    // The writing scenarios run after the ratios: the cases they open and move get deadlines whose reminders the
    // service then sends in the background, which would otherwise run during the side-by-side measurements.
    await runScenarios(false);

    // Ratio 1: scoped list through the API vs the same SQL directly with pg (the floor).
    const floor: Record<string, unknown> = {};
    const serviceLoginUrl = withUser(url, BENCH_SERVICE_LOGIN);
    const skipRatios = flag(argv, '--skip-ratios');
    for (const role of skipRatios ? [] : (['officer', 'riep', 'peer'] as const)) {
      // What the service ran for each page of this caller's list, captured from the driver: the whole request (session
      // check, the transaction with its settings, the page, the bounded count, the audit record, COMMIT), and of it
      // the list's own SQL (the page and the count) with the transaction's settings.
      const requests: CapturedStatement[][] = [];
      for (const item of listItems()) {
        capture.start();
        const r = await json('GET', `${b.url}${item.path}`, undefined, b.tokens[role]);
        if (r.status !== 200) throw new Error(`list as ${role}: ${r.status}`);
        const statements = capture.request(LIST_PAGE_STATEMENT);
        if (statements.length === 0) throw new Error('could not capture the list query');
        requests.push(statements);
      }
      const plain = (q: CapturedStatement) => ({ sql: q.sql, params: q.params });
      const listSql = requests.map((req) => [
        { sql: 'BEGIN', params: [] },
        ...req.filter((q) => /set_config/i.test(q.sql)).map(plain),
        ...req.filter((q) => q.sql.includes('FROM cases c JOIN authorities a')).map(plain),
        { sql: 'COMMIT', params: [] },
      ]);
      const wholeRequests = requests.map((req) => req.map(plain));
      const captured = requests.map((req) => plain(req.find((q) => q.sql.includes(LIST_PAGE_STATEMENT))!));
      const wholeRequest = wholeRequests[0];
      const explain = await (async () => {
        const c = new Client({ connectionString: serviceLoginUrl });
        await c.connect();
        try {
          const plans: string[][] = [];
          for (const q of listSql[0].slice(1, -1).filter((x) => !/set_config/i.test(x.sql))) {
            await c.query('BEGIN');
            for (const st of listSql[0].filter((x) => /set_config/i.test(x.sql))) await c.query(st.sql, st.params);
            const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.params);
            await c.query('COMMIT');
            plans.push(rows.map((r: Record<string, string>) => r['QUERY PLAN']));
          }
          return plans;
        } finally {
          await c.end();
        }
      })();
      for (const connections of ratioLevels) {
        const runs: Array<{ variant: string; round: number } & Cell> = [];
        for (let r = 1; r <= rounds; r++) {
          const api = await load({ kind: 'http', url: b.url, items: listItems(), headers: headers(b, role), connections, durationSeconds: ratioDuration });
          runs.push({ variant: 'api', round: r, ...cellOf('list', connections, api) });
          // The floor: the list's own SQL for each page in turn, as the API cycles through the pages (row-level security
          // needs the request's transaction-local settings, so BEGIN, the settings, the page, the count, COMMIT).
          const sql = await load({
            kind: 'sql', connectionString: serviceLoginUrl, sql: '', paramsList: [[]], sequences: listSql, poolSize: settings.DATABASE_POOL_SIZE,
            connections, durationSeconds: ratioDuration,
          });
          runs.push({ variant: 'sql', round: r, ...cellOf('list', connections, sql) });
          // Every statement the service sent for each list request (session check, the transaction with the audit record), without Node/Nest.
          const seq = await load({
            kind: 'sql', connectionString: serviceLoginUrl, sql: '', paramsList: [[]], sequences: wholeRequests, poolSize: settings.DATABASE_POOL_SIZE,
            connections, durationSeconds: ratioDuration,
          });
          runs.push({ variant: 'sql-request', round: r, ...cellOf('list', connections, seq) });
          for (const [variant, res] of [['sql', sql], ['sql-request', seq]] as const) {
            if (res.errors > 0) log(`  floor ${role} ${variant}: ${res.errors} statement sequences failed, first: ${res.firstError}`);
          }
        }
        const mean = (v: string, k: 'requestsPerSecond' | 'p50Ms' | 'p99Ms') => {
          const xs = runs.filter((x) => x.variant === v).map((x) => x[k]);
          return xs.reduce((a, x) => a + x, 0) / xs.length;
        };
        floor[`${role}@${connections}`] = {
          apiRequestsPerSecond: round(mean('api', 'requestsPerSecond'), 1), sqlQueriesPerSecond: round(mean('sql', 'requestsPerSecond'), 1),
          throughputRatio: ratio(mean('api', 'requestsPerSecond'), mean('sql', 'requestsPerSecond')),
          wholeRequestSqlPerSecond: round(mean('sql-request', 'requestsPerSecond'), 1), wholeRequestSqlP50Ms: round(mean('sql-request', 'p50Ms')),
          apiOverWholeRequestSql: ratio(mean('api', 'requestsPerSecond'), mean('sql-request', 'requestsPerSecond')),
          apiP50Ms: round(mean('api', 'p50Ms')), sqlP50Ms: round(mean('sql', 'p50Ms')), apiP99Ms: round(mean('api', 'p99Ms')), sqlP99Ms: round(mean('sql', 'p99Ms')),
          runs: runs.map(({ variant, round: rr, requestsPerSecond, p50Ms, p99Ms, statuses }) => ({ variant, round: rr, requestsPerSecond, p50Ms, p99Ms, statuses })),
        };
        log(`  floor ${role}@${connections}: API ${round(mean('api', 'requestsPerSecond'), 1)} req/s vs SQL ${round(mean('sql', 'requestsPerSecond'), 1)} q/s = ${ratio(mean('api', 'requestsPerSecond'), mean('sql', 'requestsPerSecond'))}x`);
      }
      floor[`${role}.sql`] = captured[0].sql.replace(/\s+/g, ' ').trim();
      floor[`${role}.params`] = captured[0].params.map((p) => (typeof p === 'string' && /^[0-9a-f-]{36}$/.test(p) ? '<uuid>' : p));
      floor[`${role}.explain`] = explain;
      floor[`${role}.wholeRequest`] = wholeRequest.map((q) => q.sql.replace(/\s+/g, ' ').trim().slice(0, 160));
    }

    // Ratio 2 and 3: big seed vs small seed, alternately: case list per role, the auditor's search on the same pairs.
    const growth: Record<string, unknown> = {};
    if (apps.small && smallFx && !skipRatios) {
      const sm = apps.small;
      const pairs = smallFx.auditPairs; // cases of the small seed exist in the big one too (same keys)
      const comparisons: Array<{ name: string; role: Role; items: HttpItem[] }> = [
        { name: 'case list (officer)', role: 'officer', items: listItems() },
        { name: 'case list (RIEP facilitator)', role: 'riep', items: listItems() },
        { name: 'case list (lead political peer)', role: 'peer', items: listItems() },
        { name: 'auditor search, one case over one month', role: 'auditor', items: auditItems(pairs) },
      ];
      for (const cmp of comparisons) {
        for (const connections of ratioLevels) {
          const runs: Array<{ db: string; round: number; requestsPerSecond: number; p50Ms: number; p99Ms: number }> = [];
          for (let r = 1; r <= rounds; r++) {
            for (const [label, app] of [['big', b], ['small', sm]] as const) {
              const res = await load({ kind: 'http', url: app.url, items: cmp.items, headers: headers(app, cmp.role), connections, durationSeconds: ratioDuration });
              const c = cellOf(cmp.name, connections, res);
              runs.push({ db: label, round: r, requestsPerSecond: c.requestsPerSecond, p50Ms: c.p50Ms, p99Ms: c.p99Ms });
            }
          }
          const mean = (db: string, k: 'requestsPerSecond' | 'p50Ms' | 'p99Ms') => {
            const xs = runs.filter((x) => x.db === db).map((x) => x[k]);
            return xs.reduce((a, x) => a + x, 0) / xs.length;
          };
          growth[`${cmp.name}@${connections}`] = {
            big: { requestsPerSecond: round(mean('big', 'requestsPerSecond'), 1), p50Ms: round(mean('big', 'p50Ms')), p99Ms: round(mean('big', 'p99Ms')) },
            small: { requestsPerSecond: round(mean('small', 'requestsPerSecond'), 1), p50Ms: round(mean('small', 'p50Ms')), p99Ms: round(mean('small', 'p99Ms')) },
            p50Ratio: ratio(mean('big', 'p50Ms'), mean('small', 'p50Ms')), p99Ratio: ratio(mean('big', 'p99Ms'), mean('small', 'p99Ms')),
            throughputRatio: ratio(mean('big', 'requestsPerSecond'), mean('small', 'requestsPerSecond')),
            runs,
          };
          log(`  growth ${cmp.name}@${connections}: p50 ${ratio(mean('big', 'p50Ms'), mean('small', 'p50Ms'))}x, req/s ${ratio(mean('big', 'requestsPerSecond'), mean('small', 'requestsPerSecond'))}x`);
        }
      }
    }

    await runScenarios(true);

    // Ratio 4: verification rate vs raw SHA-256.
    log(`  verification: reading ${verifyRecords.toLocaleString('en-GB')} sealed records`);
    const verification = skipRatios ? {} : await verificationRatio(url, verifyRecords, rounds, settings.AUDIT_SIGNING_KEY!);
    log(`  verification: ${JSON.stringify({ v: verification.verifierRecordsPerSecond, raw: verification.rawSha256RecordsPerSecond, ratio: verification.ratio })}`);

    await big.app.close();
    small?.stop();

    // Ratio 5: audited vs unaudited read, bench/audited-read.ts as it is.
    let auditedRead: Record<string, unknown> | undefined;
    if (!flag(argv, '--skip-audited-read') && !skipRatios) {
      const r = await runAuditedRead(['--duration', String(ratioDuration), '--rounds', String(Math.max(2, rounds)), '--connections', ratioLevels.join(','), '--tag', `http-run${tag}`]);
      auditedRead = r.summary as Record<string, unknown>;
    }

    const result = {
      benchmark: 'http',
      date: new Date().toISOString(),
      machine,
      settings: {
        migrationsAppliedBeforeTheRun: migrated,
        database: dbName, smallDatabase: haveSmall ? smallName : null, sizes, connections: levels, durationSeconds: duration, warmupSeconds: warmup,
        ratioConnections: ratioLevels, rounds, ratioDurationSeconds: ratioDuration, databasePoolSize: settings.DATABASE_POOL_SIZE, logLevel: settings.LOG_LEVEL,
        serviceLogin: BENCH_SERVICE_LOGIN,
        listRequest: `GET /cases?limit=25&offset=0..${(LIST_PAGES - 1) * 25} (the first ${LIST_PAGES} pages in turn)`,
        readRequest: 'GET /cases/:id and GET /cases/:id/conversations in turn, over 2,000 cases with conversations',
        createRequest: 'POST /concerns opening a new case, authorities of the register in turn',
        moveRequest: 'POST /cases/:id/moves, start_triage on concern_raised cases and follow_up on triage/monitoring cases, each (case, version) once',
        auditRequest: 'GET /audit/events?caseId&from&to, one month, default page (100)',
        latency: 'every response time, from autocannon in a child process; requests/s counts 2xx answers only',
      },
      cells,
      summary: summarise(cells),
      ratios: {
        scopedListApiOverRawSql: floor,
        bigOverSmall: growth,
        verification,
        auditedRead: auditedRead ?? 'skipped',
      },
      totalSeconds: round((Date.now() - started) / 1000, 1),
    };
    const file = writeResult(`http-${today()}${tag}.json`, result);
    log(`http: results in ${file}`);
    return result;
  } finally {
    await big.app.close().catch(() => undefined);
    small?.stop();
  }
}

if (require.main === module) {
  runHttp().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
