import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditQueryService } from '../src/audit/audit-query.service';
import { AuditSearchQueryDto } from '../src/audit/dto';
import { importAuthorities } from '../src/authorities/authorities-import';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runMigrations } from '../src/database/migrations';
import { ensureServiceLogin, withUser } from '../src/database/service-role';
import {
  BENCH_SERVICE_LOGIN, databaseExists, databaseUrl, flag, loadAverage, log, machineFacts, numberOption, option, percentile, ratio, recreateDatabase,
  resultsDir, round, today, writeResult,
} from './common';
import { auditRecordsSql } from './audit-generator';

/**
 * How the auditor's searches scale with the audit table: one case over one month and one user
 * over one month, measured at 1 million rows and again after growing the same table to 50
 * million, with the very SQL AuditQueryService.search issues, as the service's login role.
 *
 *   node dist/bench/audit-scale.js [--max-rows 50000000] [--base-rows 1000000] [--samples 200]
 *                                 [--jobs 2] [--scale-db ch_bench_audit] [--reuse]
 *
 * Rows are generated set-based (INSERT ... SELECT FROM generate_series) as the owner, month by
 * month in time order like a live table fills, into the table as the migrations made it: every
 * index stays in place during the load. Each record is sealed (audit_seals) as the sealer would.
 */

const MONTHS = 24;
const FIRST_MONTH = Date.UTC(2025, 0, 1);
const ACTORS = 3_000;
const CASES = 100_000;
const CHUNK_ROWS = 1_000_000;
const WARMUP = 20;

interface Pair {
  id: string;
  month: string; // YYYY-MM
}

interface Chunk {
  from: string;
  to: string;
  rows: number;
  rowOffset: number;
  seqBase: number;
}

interface Timing {
  queries: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  meanRowsReturned: number;
}

function monthStart(index: number): Date {
  const d = new Date(FIRST_MONTH);
  d.setUTCMonth(d.getUTCMonth() + index);
  return d;
}

function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
}

function label(rows: number): string {
  return rows >= 1_000_000 && rows % 1_000_000 === 0 ? `${rows / 1_000_000}M` : String(rows);
}

/** Users and cases the records point at, so the search's joins find real rows. */
async function createFixtures(url: string): Promise<void> {
  const ds = new DataSource(dataSourceOptions({ url, poolSize: 1, applicationName: 'bench-fixtures' }));
  await ds.initialize();
  try {
    await importAuthorities(ds);
    await ds.query(`INSERT INTO parties (name) VALUES ('Bench party') ON CONFLICT (name) DO NOTHING`);
    await ds.query(
      `INSERT INTO users (id, email, display_name, password_hash, role, region, party_id)
       SELECT md5('bench-actor-' || k)::uuid, 'bench.user.' || k || '@bench.example', 'Bench User ' || k, 'not-a-password-hash', role,
              CASE WHEN role = 'riep_facilitator' THEN (ARRAY['North East','North West','Yorkshire and The Humber','East Midlands','West Midlands','East of England','London','South East','South West'])[1 + k % 9] END,
              CASE WHEN role = 'lead_political_peer' THEN (SELECT id FROM parties WHERE name = 'Bench party') END
         FROM (SELECT k, CASE WHEN k % 100 < 60 THEN 'clearing_house_officer' WHEN k % 100 < 70 THEN 'clearing_house_manager'
                              WHEN k % 100 < 85 THEN 'riep_facilitator' WHEN k % 100 < 95 THEN 'lead_political_peer'
                              WHEN k % 100 < 98 THEN 'auditor' ELSE 'administrator' END AS role
                 FROM generate_series(0, ${ACTORS - 1}) AS k) AS u`,
    );
    await ds.query(
      `INSERT INTO cases (id, reference, authority_id, state, handling, opened_at, opened_by)
       SELECT md5('bench-case-' || k)::uuid, 'CH-2025-' || lpad(k::text, 6, '0'), a.ids[1 + k % cardinality(a.ids)],
              (ARRAY['concern_raised','triage','monitoring','sensitive_conversation','riep_discussion','improvement_support','pre_intervention'])[1 + k % 7],
              'official_sensitive', TIMESTAMPTZ '2025-01-01' + (k % 700) * interval '1 day', md5('bench-actor-' || (k % 60))::uuid
         FROM generate_series(0, ${CASES - 1}) AS k, (SELECT array_agg(id ORDER BY code) AS ids FROM authorities WHERE is_current) AS a`,
    );
    await ds.query(`ANALYZE users; ANALYZE cases; ANALYZE authorities`);
  } finally {
    await ds.destroy();
  }
}

/** One chunk: the records of a slice of a month in time order, each sealed, in one statement. */
const CHUNK_SQL = `
${auditRecordsSql({ actors: ACTORS, cases: CASES, txId: '(1000 + ($4::bigint + i) / 2)::text::xid8', uuid: (key) => `md5(${key})::uuid`, returning: 'id, occurred_at' })}
INSERT INTO audit_seals (seq, event_id, event_occurred_at, leaf_hash)
SELECT $5::bigint + row_number() OVER (ORDER BY occurred_at, id), id, occurred_at, sha256(convert_to(id::text || occurred_at::text, 'UTF8'))
  FROM ins`;

function planChunks(rows: number, rowOffset: number, seqBase: number): Chunk[] {
  const chunks: Chunk[] = [];
  let offset = rowOffset;
  let seq = seqBase;
  for (let m = 0; m < MONTHS; m++) {
    const monthRows = Math.floor(rows / MONTHS) + (m < rows % MONTHS ? 1 : 0);
    const slices = Math.max(1, Math.ceil(monthRows / CHUNK_ROWS));
    const start = monthStart(m).getTime();
    const span = monthStart(m + 1).getTime() - start;
    for (let s = 0; s < slices; s++) {
      const n = Math.floor(monthRows / slices) + (s < monthRows % slices ? 1 : 0);
      if (n === 0) continue;
      chunks.push({
        from: new Date(start + Math.floor((span * s) / slices)).toISOString(),
        to: new Date(start + Math.floor((span * (s + 1)) / slices)).toISOString(),
        rows: n, rowOffset: offset, seqBase: seq,
      });
      offset += n;
      seq += n;
    }
  }
  return chunks;
}

/** Adds `rows` records with `jobs` loader connections (owner role; no secondary index is dropped). */
async function generate(url: string, rows: number, startRows: number, seqBase: number, jobs: number): Promise<number> {
  const chunks = planChunks(rows, startRows, seqBase);
  const started = Date.now();
  let done = 0;
  let next = 0;
  const worker = async () => {
    const client = new Client({ connectionString: url, application_name: 'bench-loader' });
    await client.connect();
    try {
      await client.query(`SET synchronous_commit = off; SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'`);
      for (;;) {
        const chunk = chunks[next++];
        if (!chunk) return;
        await client.query(CHUNK_SQL, [chunk.from, chunk.to, chunk.rows, chunk.rowOffset, chunk.seqBase]);
        done += chunk.rows;
        const secs = (Date.now() - started) / 1000;
        log(`  loaded ${done.toLocaleString('en-GB')} / ${rows.toLocaleString('en-GB')} (${chunk.from.slice(0, 10)}..) ${Math.round(done / secs).toLocaleString('en-GB')} rows/s, ${Math.round(secs)} s, load ${loadAverage()}`);
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return (Date.now() - started) / 1000;
}

async function ownerQuery<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, application_name: 'bench-owner' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function tableFacts(url: string): Promise<Record<string, unknown>> {
  const [facts] = await ownerQuery(
    url,
    `SELECT (SELECT count(*) FROM audit_events) AS rows,
            (SELECT sum(pg_table_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass) AS heap_bytes,
            (SELECT sum(pg_indexes_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass) AS index_bytes,
            pg_total_relation_size('audit_seals') AS seals_bytes,
            (SELECT max(seq) FROM audit_seals) AS max_seq,
            (SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass) AS partitions`,
  );
  const gib = (v: unknown) => round(Number(v) / 2 ** 30, 2);
  return {
    rows: Number(facts.rows), partitions: Number(facts.partitions), heapGiB: gib(facts.heap_bytes), indexGiB: gib(facts.index_bytes),
    sealsGiB: gib(facts.seals_bytes), maxSeq: Number(facts.max_seq ?? 0),
  };
}

async function samplePairs(url: string, kind: 'case' | 'user', n: number): Promise<Pair[]> {
  const column = kind === 'case' ? 'case_id' : 'actor_id';
  const rows = await ownerQuery<{ id: string; month: string }>(
    url,
    `SELECT ${column}::text AS id, to_char(date_trunc('month', occurred_at), 'YYYY-MM') AS month
       FROM audit_events WHERE ${column} IS NOT NULL GROUP BY 1, 2 ORDER BY random() LIMIT $1`,
    [n],
  );
  return rows.map((r) => ({ id: r.id, month: r.month }));
}

function summarise(latencies: number[], rows: number[]): Timing {
  return {
    queries: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    maxMs: round(Math.max(...latencies)),
    meanRowsReturned: round(rows.reduce((a, b) => a + b, 0) / rows.length, 1),
  };
}

function queryOf(kind: 'case' | 'user', pair: Pair): AuditSearchQueryDto {
  const { from, to } = monthBounds(pair.month);
  return kind === 'case' ? { caseId: pair.id, from, to } : { actorId: pair.id, from, to };
}

/** The auditor's search, through AuditQueryService itself, timed end to end (pool, round trip, mapping). */
async function measureStage(serviceUrl: string, stageLabel: string, samples: Record<'case' | 'user', Pair[]>, sampleCount: number, tag: string) {
  const ds = new DataSource(dataSourceOptions({ url: serviceUrl, poolSize: 2, applicationName: 'bench-auditor' }));
  await ds.initialize();
  let last: { sql: string; params: unknown[] } | undefined;
  // Records the SQL the service issues, so that exactly that statement is EXPLAINed.
  const capturing = new Proxy(ds, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (sql: string, params: unknown[] = []) => {
          last = { sql, params };
          return target.query(sql, params);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const service = new AuditQueryService(capturing);
  const out: Record<string, unknown> = {};
  try {
    for (const kind of ['case', 'user'] as const) {
      const pairs = samples[kind];
      const warmup = pairs.slice(0, WARMUP);
      const explainPair = pairs[WARMUP];
      const measured = pairs.slice(WARMUP + 1, WARMUP + 1 + sampleCount);
      for (const p of warmup) await service.search(queryOf(kind, p));

      // The plan, with buffers, on a pair no other query of this run has touched yet.
      await service.search(queryOf(kind, explainPair));
      const captured = last!;
      const plan: Array<{ 'QUERY PLAN': string }> = await ds.query(`EXPLAIN (ANALYZE, BUFFERS, SETTINGS) ${captured.sql}`, captured.params);
      const planFile = `audit-scale-${today()}${tag}-${stageLabel}-${kind}.plan.txt`;
      writeFileSync(
        join(resultsDir(), planFile),
        `-- ${kind} over one month at ${stageLabel} rows, as AuditQueryService.search issues it\n-- params: ${JSON.stringify(captured.params)}\n${captured.sql}\n\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n`,
      );

      const passes: Record<string, Timing> = {};
      for (const pass of ['first', 'repeat'] as const) {
        const latencies: number[] = [];
        const rows: number[] = [];
        for (const p of measured) {
          const t0 = process.hrtime.bigint();
          const page = await service.search(queryOf(kind, p));
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          rows.push(page.items.length);
        }
        passes[pass] = summarise(latencies, rows);
        log(`  ${stageLabel} ${kind}/${pass}: p50 ${passes[pass].p50Ms} ms, p99 ${passes[pass].p99Ms} ms, ${passes[pass].meanRowsReturned} rows on average`);
      }
      out[kind] = { ...passes, planFile };
    }
  } finally {
    await ds.destroy();
  }
  return out;
}

export async function runAuditScale(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const dbName = option(argv, '--scale-db') ?? 'ch_bench_audit';
  const maxRows = numberOption(argv, '--max-rows', 50_000_000);
  const baseRows = Math.min(numberOption(argv, '--base-rows', 1_000_000), maxRows);
  const sampleCount = numberOption(argv, '--samples', 200);
  const jobs = numberOption(argv, '--jobs', 2);
  const reuse = flag(argv, '--reuse');
  // Names the result files apart from the main run's (audit-scale-<date>-<tag>...).
  const tag = option(argv, '--tag') ? `-${option(argv, '--tag')}` : '';
  const url = databaseUrl(dbName);
  const serviceUrl = withUser(url, BENCH_SERVICE_LOGIN);
  const started = Date.now();
  const machine = await machineFacts();
  log(`audit-scale: database ${dbName}, ${label(baseRows)} then ${label(maxRows)} rows, ${sampleCount} queries per figure, ${jobs} loader(s)`);

  if (!reuse || !(await databaseExists(dbName))) {
    await recreateDatabase(dbName);
    await runMigrations(url);
    await createFixtures(url);
    await ownerQuery(url, `CREATE TABLE bench_state (key text PRIMARY KEY, value jsonb NOT NULL)`);
  }
  await ensureServiceLogin(url, BENCH_SERVICE_LOGIN);

  const generation: Array<Record<string, unknown>> = [];
  const stages: Array<Record<string, unknown>> = [];
  let samples: Record<'case' | 'user', Pair[]> | undefined;
  const [stored] = await ownerQuery<{ value: Record<'case' | 'user', Pair[]> }>(url, `SELECT value FROM bench_state WHERE key = 'samples'`);
  if (stored && stored.value.case.length >= sampleCount + WARMUP + 1) samples = stored.value;

  for (const target of [...new Set([baseRows, maxRows])]) {
    const facts = await tableFacts(url);
    const have = facts.rows as number;
    if (have < target) {
      log(`generating ${(target - have).toLocaleString('en-GB')} rows (${label(have)} -> ${label(target)})`);
      const seconds = await generate(url, target - have, have, (facts.maxSeq as number) + 1, jobs);
      const t0 = Date.now();
      // What autovacuum keeps up with on a live table (it is off on this server): visibility map, hint bits, statistics.
      await ownerQuery(url, `VACUUM (ANALYZE) audit_events`);
      await ownerQuery(url, `VACUUM (ANALYZE) audit_seals`);
      const vacuumSeconds = (Date.now() - t0) / 1000;
      generation.push({
        from: have, to: target, rowsAdded: target - have, seconds: round(seconds, 1), rowsPerSecond: Math.round((target - have) / seconds),
        vacuumAnalyzeSeconds: round(vacuumSeconds, 1),
      });
      log(`  generated in ${round(seconds, 1)} s, VACUUM (ANALYZE) ${round(vacuumSeconds, 1)} s`);
    } else if (have > target) {
      log(`the table already holds ${have.toLocaleString('en-GB')} rows (> ${label(target)}): skipping that size (drop --reuse to start again)`);
      continue;
    }
    if (!samples) {
      // Cases and users with data in a month at the first measured size; the same pairs are measured at every size.
      samples = { case: await samplePairs(url, 'case', sampleCount + WARMUP + 1), user: await samplePairs(url, 'user', sampleCount + WARMUP + 1) };
      await ownerQuery(url, `INSERT INTO bench_state (key, value) VALUES ('samples', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [JSON.stringify(samples)]);
    }
    const stageLabel = label(target);
    log(`measuring at ${stageLabel} rows (load ${loadAverage()})`);
    const measured = await measureStage(serviceUrl, stageLabel, samples, sampleCount, tag);
    stages.push({ label: stageLabel, table: await tableFacts(url), loadAverage: loadAverage(), ...measured });
  }

  const result: Record<string, unknown> = {
    benchmark: 'audit-scale',
    date: new Date().toISOString(),
    machine,
    settings: {
      database: dbName, months: MONTHS, firstMonth: '2025-01', actors: ACTORS, cases: CASES, chunkRows: CHUNK_ROWS, loaders: jobs,
      queriesPerFigure: sampleCount, warmupQueries: WARMUP,
      query: 'AuditQueryService.search({ caseId | actorId, from: month start, to: next month start }) with its default limit (100), as the service login role',
      passes: 'first: each (id, month) pair queried for the first time in this run; repeat: the same pairs again (warm cache)',
    },
    generation,
    stages,
    totalSeconds: round((Date.now() - started) / 1000, 1),
  };
  if (stages.length === 2) {
    const [small, large] = stages as Array<Record<'case' | 'user', Record<'first' | 'repeat', Timing>> & { label: string }>;
    const ratios: Record<string, unknown> = {};
    for (const kind of ['case', 'user'] as const) {
      for (const pass of ['first', 'repeat'] as const) {
        ratios[`${kind}.${pass}`] = {
          p50: ratio(large[kind][pass].p50Ms, small[kind][pass].p50Ms),
          p99: ratio(large[kind][pass].p99Ms, small[kind][pass].p99Ms),
        };
      }
    }
    result.ratios = { of: `${large.label}/${small.label}`, target: '<= 2', ...ratios };
  }
  const file = writeResult(`audit-scale-${today()}${tag}.json`, result);
  log(`audit-scale: results in ${file}`);
  return result;
}

if (require.main === module) {
  runAuditScale().then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r.ratios ?? {}, null, 2)}\n`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
