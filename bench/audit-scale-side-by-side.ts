import 'reflect-metadata';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditQueryService } from '../src/audit/audit-query.service';
import { AuditSearchQueryDto } from '../src/audit/dto';
import { dataSourceOptions } from '../src/database/data-source-options';
import { withUser } from '../src/database/service-role';
import { runAuditScale } from './audit-scale';
import { BENCH_SERVICE_LOGIN, databaseExists, databaseUrl, flag, loadAverage, log, numberOption, option, percentile, ratio, round, today, writeResult } from './common';

/**
 * The machine is shared, so figures taken an hour apart see different loads. This measures a
 * 1-million-row audit table (built by audit-scale with the same generator, in a database of its
 * own) and the grown 50-million-row table side by side: query i on the small table, then query
 * i on the large one, alternating, so both see the same load at the same moment.
 *
 *   node dist/bench/audit-scale-side-by-side.js [--scale-db ch_bench_audit] [--small-db ch_bench_audit_1m] [--samples 200] [--reuse-small]
 */

interface Pair {
  id: string;
  month: string;
}

function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
}

async function samplesOf(dbName: string): Promise<{ rows: number; samples: Record<'case' | 'user', Pair[]> }> {
  const client = new Client({ connectionString: databaseUrl(dbName) });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT value FROM bench_state WHERE key = 'samples'`);
    const [{ n }] = (await client.query(`SELECT count(*)::bigint AS n FROM audit_events`)).rows;
    return { rows: Number(n), samples: rows[0].value };
  } finally {
    await client.end();
  }
}

function stats(latencies: number[]) {
  return { p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), meanMs: round(latencies.reduce((a, b) => a + b, 0) / latencies.length) };
}

export async function runSideBySide(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const largeDb = option(argv, '--scale-db') ?? 'ch_bench_audit';
  const smallDb = option(argv, '--small-db') ?? 'ch_bench_audit_1m';
  const sampleCount = numberOption(argv, '--samples', 200);
  if (!flag(argv, '--reuse-small') || !(await databaseExists(smallDb))) {
    await runAuditScale(['--scale-db', smallDb, '--max-rows', '1000000', '--samples', String(sampleCount), '--tag', 'side-by-side-small']);
  }
  const dbs = { small: smallDb, large: largeDb } as const;
  const sources: Record<string, DataSource> = {};
  const services: Record<string, AuditQueryService> = {};
  const info: Record<string, { rows: number; samples: Record<'case' | 'user', Pair[]> }> = {};
  for (const [size, db] of Object.entries(dbs)) {
    info[size] = await samplesOf(db);
    sources[size] = new DataSource(dataSourceOptions({ url: withUser(databaseUrl(db), BENCH_SERVICE_LOGIN), poolSize: 2, applicationName: 'bench-auditor' }));
    await sources[size].initialize();
    services[size] = new AuditQueryService(sources[size]);
  }
  log(`side by side: ${smallDb} (${info.small.rows} rows) and ${largeDb} (${info.large.rows} rows), load ${loadAverage()}`);
  const out: Record<string, unknown> = {};
  try {
    for (const kind of ['case', 'user'] as const) {
      const q = (p: Pair): AuditSearchQueryDto => {
        const { from, to } = monthBounds(p.month);
        return kind === 'case' ? { caseId: p.id, from, to } : { actorId: p.id, from, to };
      };
      // Each table's own sampled pairs (audit-scale queried them too, earlier: neither side is cold).
      const pick = (size: string) => info[size].samples[kind];
      const n = Math.min(sampleCount, pick('small').length, pick('large').length);
      for (const size of ['small', 'large']) for (const p of pick(size).slice(0, 10)) await services[size].search(q(p)); // warm-up
      const passes: Record<string, unknown> = {};
      for (const pass of ['first', 'repeat'] as const) {
        const lat: Record<string, number[]> = { small: [], large: [] };
        const rows: Record<string, number> = { small: 0, large: 0 };
        for (let i = 0; i < n; i++) {
          for (const size of i % 2 === 0 ? ['small', 'large'] : ['large', 'small']) {
            const t0 = process.hrtime.bigint();
            const page = await services[size].search(q(pick(size)[i]));
            lat[size].push(Number(process.hrtime.bigint() - t0) / 1e6);
            rows[size] += page.items.length;
          }
        }
        const s = { ...stats(lat.small), meanRowsReturned: round(rows.small / n, 1) };
        const l = { ...stats(lat.large), meanRowsReturned: round(rows.large / n, 1) };
        passes[pass] = { small: s, large: l, ratios: { p50: ratio(l.p50Ms, s.p50Ms), p99: ratio(l.p99Ms, s.p99Ms) } };
        log(`  ${kind}/${pass}: small p50 ${s.p50Ms} p99 ${s.p99Ms} (${s.meanRowsReturned} rows); large p50 ${l.p50Ms} p99 ${l.p99Ms} (${l.meanRowsReturned} rows); ratio p50 ${ratio(l.p50Ms, s.p50Ms)} p99 ${ratio(l.p99Ms, s.p99Ms)}`);
      }
      out[kind] = passes;
    }
  } finally {
    for (const ds of Object.values(sources)) await ds.destroy();
  }
  const result = {
    benchmark: 'audit-scale-side-by-side', date: new Date().toISOString(), loadAverageAtEnd: loadAverage(),
    small: { database: smallDb, rows: info.small.rows }, large: { database: largeDb, rows: info.large.rows },
    note: 'each table queried with its own sampled (id, month) pairs that have data, alternating small/large query by query; the pairs of both tables were queried by their audit-scale runs before (first = first pass in this process, repeat = second)',
    ...out,
  };
  writeResult(`audit-scale-side-by-side-${today()}.json`, result);
  return result;
}

if (require.main === module) {
  runSideBySide().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
