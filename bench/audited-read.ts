import 'reflect-metadata';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditSealer } from '../src/audit/sealer';
import { AuditWriter } from '../src/audit/audit-writer';
import { importAuthorities } from '../src/authorities/authorities-import';
import { hashPassword } from '../src/auth/password-hash';
import { EnvironmentVariables, validateEnvironment } from '../src/config/environment';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runMigrations } from '../src/database/migrations';
import { ensureServiceLogin, withUser } from '../src/database/service-role';
import {
  BENCH_SERVICE_LOGIN, databaseUrl, flag, loadAverage, log, machineFacts, numberOption, option, percentile, ratio, recreateDatabase, REDIS_URL, round, today,
  writeResult,
} from './common';
import type { LoadRequest, LoadResponse } from './load-generator';
import { bootApp, BootedService, json } from './service-app';

/**
 * What the audit record costs a case read: GET /cases/:id on the real AppModule, against the
 * same application with the AuditWriter replaced by a no-op. The replacement exists only here,
 * in the benchmark's testing module: the service has no switch that turns auditing off.
 *
 *   node dist/bench/audited-read.js [--cases 300] [--duration 10] [--rounds 2] [--connections 8,32] [--read-db ch_bench_read]
 *
 * Both applications run in this process on loopback ports; autocannon runs in a child process.
 * For each concurrency: a warm-up of each, then audited, unaudited, audited, unaudited.
 */

const PASSWORD = 'bench password that is long enough 42';

type Variant = 'audited' | 'unaudited';

type Booted = BootedService;

function boot(settings: EnvironmentVariables, variant: Variant): Promise<Booted> {
  return bootApp(settings, {
    logger: false,
    // The benchmark's baseline only: the same read with no audit record written.
    override: variant === 'unaudited'
      ? (builder) => builder.overrideProvider(AuditWriter).useValue({ record: async () => undefined, recordNow: async () => undefined })
      : undefined,
  });
}

function load(req: LoadRequest): Promise<LoadResponse> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'load-generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: LoadResponse & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    child.once('error', reject);
    child.send(req);
  });
}

/** Seals every record written so far, so that no sealing left over from one run lands in the next. */
async function drainSealer(sealer: AuditSealer): Promise<void> {
  for (;;) {
    const r = await sealer.sealAll();
    if (!r.skipped && r.sealed === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function settleAuditCount(owner: DataSource): Promise<void> {
  let last = -1;
  for (;;) {
    const [{ n }]: Array<{ n: string }> = await owner.query(`SELECT count(*) AS n FROM audit_events`);
    if (Number(n) === last) return;
    last = Number(n);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface RunFigures {
  variant: Variant;
  connections: number;
  round: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  non2xx: number;
  errors: number;
  loadAverage: string;
}

function figures(latencies: number[]): { p50Ms: number; p90Ms: number; p99Ms: number; meanMs: number } {
  return {
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
  };
}

export async function runAuditedRead(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const dbName = option(argv, '--read-db') ?? 'ch_bench_read';
  const caseCount = numberOption(argv, '--cases', 300);
  const duration = numberOption(argv, '--duration', 10);
  const warmup = numberOption(argv, '--warmup', 3);
  const connectionLevels = (option(argv, '--connections') ?? '8,32').split(',').map(Number);
  const quiet = !flag(argv, '--verbose');
  const rounds = numberOption(argv, '--rounds', 2);
  const url = databaseUrl(dbName);
  const started = Date.now();
  const machine = await machineFacts();
  log(`audited-read: database ${dbName}, ${caseCount} cases, ${duration} s per run at ${connectionLevels.join(' and ')} connections`);

  await recreateDatabase(dbName);
  await runMigrations(url);
  const owner = new DataSource(dataSourceOptions({ url, poolSize: 1, applicationName: 'bench-fixtures' }));
  await owner.initialize();
  await importAuthorities(owner);
  await ensureServiceLogin(url, BENCH_SERVICE_LOGIN);

  const settings = {
    ...validateEnvironment({
      NODE_ENV: 'test',
      DATABASE_URL: withUser(url, BENCH_SERVICE_LOGIN),
      DATABASE_MIGRATION_URL: url,
      REDIS_URL,
      QUEUE_PREFIX: `chbench_${process.pid}`,
      LOG_LEVEL: quiet ? 'warn' : 'info',
      // One client address sends every request: the per-address limits would otherwise answer 429.
      RATE_LIMIT_PER_MINUTE: '100000000',
      SIGN_IN_RATE_LIMIT_PER_MINUTE: '100000',
      JWT_ACCESS_TTL_SECONDS: '3600',
    }),
  } as EnvironmentVariables;

  const audited = await boot(settings, 'audited');
  const unaudited = await boot(settings, 'unaudited');
  const apps: Record<Variant, Booted> = { audited, unaudited };
  const sealer = audited.app.get(AuditSealer);
  try {
    // A clearing-house officer, signed in through the API.
    const hash = await hashPassword(PASSWORD, { memoryKib: settings.ARGON2_MEMORY_KIB, timeCost: settings.ARGON2_TIME_COST });
    await owner.query(
      `INSERT INTO users (email, display_name, password_hash, role) VALUES ('bench.officer@bench.example', 'Bench Officer', $1, 'clearing_house_officer')`, [hash]);
    const signIn = await json('POST', `${audited.url}/auth/sign-in`, { email: 'bench.officer@bench.example', password: PASSWORD });
    if (signIn.status !== 200) throw new Error(`sign-in failed: ${signIn.status} ${JSON.stringify(signIn.body)}`);
    const token: string = signIn.body.accessToken;

    // A few hundred cases, logged through the service, a third with a second concern.
    const authorities: Array<{ code: string }> = await owner.query(`SELECT code FROM authorities WHERE is_current ORDER BY code`);
    const areas = ['finance', 'corporate_governance', 'childrens_services_and_safeguarding', 'adult_social_care', 'political_leadership'];
    const channels = ['sector_intelligence', 'peer', 'riep', 'self_referral', 'inspectorate_or_audit'];
    const caseIds: string[] = [];
    for (let i = 0; i < caseCount; i++) {
      const logged = await json('POST', `${audited.url}/concerns`, {
        authority: authorities[i % authorities.length].code, receivedOn: '2026-10-01', channel: channels[i % channels.length], area: areas[i % areas.length],
        description: `Benchmark concern ${i}: budget gap reported by the section 151 officer, governance review requested.`,
        signals: ['poor_member_officer_relations'],
      }, token);
      if (logged.status !== 201) throw new Error(`logging a concern failed: ${logged.status} ${JSON.stringify(logged.body)}`);
      caseIds.push(logged.body.case.id);
      if (i % 3 === 0) {
        const second = await json('POST', `${audited.url}/concerns`, {
          authority: authorities[i % authorities.length].code, caseId: logged.body.case.id, receivedOn: '2026-10-02', channel: 'peer', area: 'finance',
          description: 'A second concern on the same case.',
        }, token);
        if (second.status !== 201) throw new Error(`attaching a concern failed: ${second.status}`);
      }
    }
    for (const variant of ['audited', 'unaudited'] as const) {
      const check = await json('GET', `${apps[variant].url}/cases/${caseIds[0]}`, undefined, token);
      if (check.status !== 200) throw new Error(`GET /cases/:id on the ${variant} app answered ${check.status}`);
    }
    await drainSealer(sealer);
    await owner.query(`VACUUM ANALYZE`);
    const paths = caseIds.map((id) => `/cases/${id}`);
    const headers = { authorization: `Bearer ${token}` };

    const runs: RunFigures[] = [];
    const pooled: Record<string, number[]> = {};
    const summary: Record<string, unknown> = {};
    for (const connections of connectionLevels) {
      for (const variant of ['audited', 'unaudited'] as const) {
        await drainSealer(sealer);
        await load({ url: apps[variant].url, paths, headers, connections, durationSeconds: warmup });
      }
      for (let roundNo = 1; roundNo <= rounds; roundNo++) {
        for (const variant of ['audited', 'unaudited'] as const) {
          // Requests still in flight when the previous load stopped may commit their records late: wait for the count to settle.
          await settleAuditCount(owner);
          await drainSealer(sealer);
          const auditBefore: Array<{ n: string }> = await owner.query(`SELECT count(*) AS n FROM audit_events`);
          const res = await load({ url: apps[variant].url, paths, headers, connections, durationSeconds: duration });
          const auditAfter: Array<{ n: string }> = await owner.query(`SELECT count(*) AS n FROM audit_events`);
          const non2xx = Object.entries(res.statuses).filter(([s]) => !s.startsWith('2')).reduce((a, [, n]) => a + n, 0);
          if (non2xx > 0 || res.autocannon.errors > 0) throw new Error(`${variant} run had ${non2xx} non-2xx answers and ${res.autocannon.errors} errors: ${JSON.stringify(res.statuses)}`);
          const written = Number(auditAfter[0].n) - Number(auditBefore[0].n);
          const expected = variant === 'audited' ? res.latenciesMs.length : 0;
          // The audited run must have written one record per read, the baseline none.
          if (variant === 'audited' ? written < expected : written !== 0) throw new Error(`${variant} run wrote ${written} audit records for ${res.latenciesMs.length} reads`);
          const run: RunFigures = {
            variant, connections, round: roundNo, requests: res.latenciesMs.length, requestsPerSecond: round(res.latenciesMs.length / duration, 1),
            ...figures(res.latenciesMs), non2xx, errors: res.autocannon.errors, loadAverage: loadAverage(),
          };
          runs.push(run);
          (pooled[`${variant}@${connections}`] ??= []).push(...res.latenciesMs);
          log(`  ${variant} @${connections} round ${roundNo}: p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms, ${run.requestsPerSecond} req/s (audit records written: ${written})`);
        }
      }
      const of = (variant: Variant) => {
        const own = runs.filter((r) => r.variant === variant && r.connections === connections);
        return {
          ...figures(pooled[`${variant}@${connections}`]),
          requests: own.reduce((a, r) => a + r.requests, 0),
          requestsPerSecond: round(own.reduce((a, r) => a + r.requestsPerSecond, 0) / own.length, 1),
        };
      };
      const a = of('audited');
      const u = of('unaudited');
      summary[`${connections}`] = {
        audited: a,
        unaudited: u,
        ratios: { p50: ratio(a.p50Ms, u.p50Ms), p99: ratio(a.p99Ms, u.p99Ms), requestsPerSecond: ratio(a.requestsPerSecond, u.requestsPerSecond) },
      };
      log(`  @${connections}: audited/unaudited p50 ${ratio(a.p50Ms, u.p50Ms)}x, p99 ${ratio(a.p99Ms, u.p99Ms)}x, req/s ${ratio(a.requestsPerSecond, u.requestsPerSecond)}x`);
    }

    const result = {
      benchmark: 'audited-read',
      date: new Date().toISOString(),
      machine,
      settings: {
        database: dbName, rounds, cases: caseCount, durationSeconds: duration, warmupSeconds: warmup, connections: connectionLevels,
        endpoint: 'GET /cases/:id, rotating over the cases, as a signed-in clearing-house officer',
        order: `per concurrency: warm-up audited and unaudited, then audited, unaudited repeated ${rounds} times (A B A B ...); sealer drained before each run`,
        figures: 'p50/p99 pooled over all runs of a variant (every response time, from autocannon in a child process); req/s is the mean of the runs',
        baseline: 'AuditWriter overridden in this harness only with { record: async () => undefined, recordNow: async () => undefined }',
        logLevel: settings.LOG_LEVEL, rateLimitPerMinute: settings.RATE_LIMIT_PER_MINUTE, databasePoolSize: settings.DATABASE_POOL_SIZE,
      },
      summary,
      runs,
      target: 'audited/unaudited <= 1.15',
      totalSeconds: round((Date.now() - started) / 1000, 1),
    };
    const tag = option(argv, '--tag') ? `-${option(argv, '--tag')}` : '';
    const file = writeResult(`audited-read-${today()}${tag}.json`, result);
    log(`audited-read: results in ${file}`);
    return result;
  } finally {
    await audited.app.close();
    await unaudited.app.close();
    await owner.destroy();
  }
}

if (require.main === module) {
  runAuditedRead().then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r.summary, null, 2)}\n`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
