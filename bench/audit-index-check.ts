import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditQueryService } from '../src/audit/audit-query.service';
import { AuditSearchQueryDto } from '../src/audit/dto';
import { databaseUrl, log, option, percentile, ratio, resultsDir, round, today, writeResult } from './common';

/**
 * Why migrations/1764380300000-AuditSearchIndexes.ts exists, shown on the grown table: for one
 * month partition, inside a transaction that is rolled back, the search indexes are swapped for
 * the ones AuditTrail created ((case_id, occurred_at), (actor_id, occurred_at)) and the same
 * searches are timed and EXPLAINed; then again with the indexes as they are.
 *
 *   node dist/bench/audit-index-check.js [--scale-db ch_bench_audit]
 *
 * Needs the database audit-scale left behind (it reads the sampled cases and users from it).
 */

interface Pair {
  id: string;
  month: string;
}

function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  return { from: new Date(Date.UTC(y, m - 1, 1)).toISOString(), to: new Date(Date.UTC(y, m, 1)).toISOString() };
}

export async function runAuditIndexCheck(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const dbName = option(argv, '--scale-db') ?? 'ch_bench_audit';
  const client = new Client({ connectionString: databaseUrl(dbName), application_name: 'bench-index-check' });
  await client.connect();
  try {
    const { rows: stateRows } = await client.query(`SELECT value FROM bench_state WHERE key = 'samples'`);
    if (stateRows.length === 0) throw new Error(`no samples in ${dbName}: run audit-scale first`);
    const samples = stateRows[0].value as Record<'case' | 'user', Pair[]>;
    const [{ n: tableRows }] = (await client.query(`SELECT count(*)::bigint AS n FROM audit_events`)).rows;
    // The month with the most sampled pairs.
    const counts = new Map<string, number>();
    for (const p of [...samples.case, ...samples.user]) counts.set(p.month, (counts.get(p.month) ?? 0) + 1);
    const month = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const partition = `audit_events_${month.replace('-', '_')}`;
    const { from, to } = monthBounds(month);
    let last: { sql: string; params: unknown[] } | undefined;
    // AuditQueryService only calls dataSource.query: route it through this client (and its transaction).
    const service = new AuditQueryService({
      query: async (sql: string, params: unknown[] = []) => {
        last = { sql, params };
        return (await client.query(sql, params)).rows;
      },
    } as unknown as DataSource);

    const measure = async (variant: string) => {
      const out: Record<string, unknown> = {};
      for (const kind of ['case', 'user'] as const) {
        const pairs = samples[kind].filter((p) => p.month === month);
        const q = (p: Pair): AuditSearchQueryDto => (kind === 'case' ? { caseId: p.id, from, to } : { actorId: p.id, from, to });
        const latencies: number[] = [];
        let rows = 0;
        for (const p of pairs) {
          await service.search(q(p)); // warm: both variants are timed on a second run
          const t0 = process.hrtime.bigint();
          const page = await service.search(q(p));
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          rows += page.items.length;
        }
        // EXPLAIN the pair with the most records in the month.
        let busiest = pairs[0];
        let most = -1;
        for (const p of pairs) {
          const column = kind === 'case' ? 'case_id' : 'actor_id';
          const [{ n }] = (await client.query(`SELECT count(*)::int AS n FROM ${partition} WHERE ${column} = $1`, [p.id])).rows;
          if (n > most) [busiest, most] = [p, n];
        }
        await service.search(q(busiest));
        const captured = last!;
        const plan = (await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${captured.sql}`, captured.params)).rows.map((r) => r['QUERY PLAN']).join('\n');
        const planFile = `audit-index-check-${today()}-${variant}-${kind}.plan.txt`;
        writeFileSync(join(resultsDir(), planFile), `-- ${kind} ${busiest.id} over ${month} (${most} records in the month), ${variant} indexes, ${tableRows} rows in the table\n-- params: ${JSON.stringify(captured.params)}\n\n${plan}\n`);
        out[kind] = {
          queries: pairs.length, p50Ms: round(percentile(latencies, 50)), maxMs: round(Math.max(...latencies)),
          meanRowsReturned: round(rows / Math.max(1, pairs.length), 1), busiestRecordsInMonth: most, planFile,
        };
        log(`  ${variant} ${kind}: ${pairs.length} searches over ${month}, p50 ${round(percentile(latencies, 50))} ms, max ${round(Math.max(...latencies))} ms`);
      }
      return out;
    };

    log(`index check on ${dbName} (${tableRows} rows), month ${month}`);
    await client.query('BEGIN');
    const t0 = Date.now();
    await client.query(`DROP INDEX audit_events_case_search_idx`);
    await client.query(`DROP INDEX audit_events_actor_search_idx`);
    await client.query(`CREATE INDEX bench_old_case_idx ON ${partition} (case_id, occurred_at) WHERE case_id IS NOT NULL`);
    await client.query(`CREATE INDEX bench_old_actor_idx ON ${partition} (actor_id, occurred_at)`);
    log(`  old indexes built on ${partition} in ${round((Date.now() - t0) / 1000, 1)} s (rolled back afterwards)`);
    const before = await measure('old');
    await client.query('ROLLBACK');
    const after = await measure('new');
    const ratios: Record<string, number> = {};
    for (const kind of ['case', 'user'] as const) {
      ratios[`${kind}.p50`] = ratio((before[kind] as { p50Ms: number }).p50Ms, (after[kind] as { p50Ms: number }).p50Ms);
      ratios[`${kind}.max`] = ratio((before[kind] as { maxMs: number }).maxMs, (after[kind] as { maxMs: number }).maxMs);
    }
    const result = {
      benchmark: 'audit-index-check', date: new Date().toISOString(), database: dbName, tableRows: Number(tableRows), month,
      note: 'old = indexes of AuditTrail (case_id, occurred_at) and (actor_id, occurred_at) on this month only, in a rolled-back transaction; new = (case_id, occurred_at, id) and (actor_id, occurred_at, id) of AuditSearchIndexes. Each search run twice, the second timed.',
      old: before, new: after, oldOverNew: ratios,
    };
    writeResult(`audit-index-check-${today()}.json`, result);
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  runAuditIndexCheck().then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r.oldOverNew, null, 2)}\n`);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
