import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAuditIndexCheck } from './audit-index-check';
import { runAuditedRead } from './audited-read';
import { runAuditScale } from './audit-scale';
import { runSideBySide } from './audit-scale-side-by-side';
import { databaseExists, flag, log, machineFacts, option, resultsDir, round, today, writeResult } from './common';
import { runHttp } from './http';
import { runSeed, seedOptions } from './seed';

/**
 * The benchmark run of issue 7, every figure from one invocation:
 *
 *   npm run bench                                         # 100,000 cases / 1,000,000 conversations / 50,000,000 audit records
 *   npm run bench -- --seed-audit 2000000 --seed-cases 20000 --duration 3   # a quick rehearsal
 *   npm run bench -- --reuse-seed                         # keep seeded databases that exist
 *   npm run bench -- --with-audit-scale                   # also the audit-table studies (about 1.5 h more)
 *   npm run bench -- --tag name                           # results named ...-DATE-name (default "run")
 *
 * 1. bench:seed fills ch_bench_seed (the big seed) and ch_bench_seed_10k (a tenth of the cases,
 *    1,000,000 audit records): the auditor's search compares 50M with 1M audit rows on them.
 * 2. bench:http on both: every scenario per role at 1/8/32/128 connections, then the ratios side by
 *    side (scoped list vs raw SQL, 100k vs 10k cases, auditor search 50M vs 1M, verification vs raw
 *    SHA-256, audited vs unaudited read).
 * Written: bench/results/bench-DATE-TAG.json (everything) and bench-DATE-TAG.md (the tables bench/README.md quotes),
 * next to each part's own file (seed-DATE-TAG.json, seed-DATE-TAG-10k.json, http-DATE-TAG.json, audited-read-DATE-http-run-TAG.json).
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const started = new Date();
  const machine = await machineFacts();
  const commit = execSync('git rev-parse HEAD', { cwd: join(__dirname, '..', '..') }).toString().trim();
  const dirty = execSync('git status --porcelain -- src migrations bench', { cwd: join(__dirname, '..', '..') }).toString().trim() !== '';
  const bigCases = option(argv, '--seed-cases') ?? '100000';
  // Every file this run writes carries the tag (bench/results keeps earlier runs of the same day).
  const tag = option(argv, '--tag') ?? 'run';
  const seeds: Record<string, Record<string, unknown>> = {};
  const plan = [
    ['ch_bench_seed', ['--cases', bigCases, '--conversations', String(Number(bigCases) * 10), '--audit', option(argv, '--seed-audit') ?? '50000000', '--tag', tag]],
    ['ch_bench_seed_10k', ['--cases', String(Number(bigCases) / 10), '--conversations', String(Number(bigCases)), '--audit', option(argv, '--small-seed-audit') ?? '1000000', '--tag', `${tag}-10k`]],
  ] as const;
  for (const [database, args] of plan) {
    if (flag(argv, '--reuse-seed') && (await databaseExists(database))) continue;
    seeds[database] = await runSeed(seedOptions([...args, '--database', database]));
  }
  // Each part ignores the options it does not know.
  const http = await runHttp(option(argv, '--tag') ? argv : [...argv, '--tag', tag]);

  const studies: Record<string, unknown> = {};
  if (flag(argv, '--with-audit-scale')) {
    studies.auditScale = (await runAuditScale(argv)).ratios ?? null;
    studies.oldOverNewIndexes = (await runAuditIndexCheck(argv)).oldOverNew;
    const side = await runSideBySide(argv);
    studies.sideBySide = { case: side.case, user: side.user };
    studies.auditedReadLong = (await runAuditedRead(argv)).summary;
  }
  const finished = new Date();
  const result = {
    benchmark: 'bench (issue 7, one run)',
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    commit, uncommittedChangesInSrcMigrationsOrBench: dirty,
    started: started.toISOString(), finished: finished.toISOString(), totalMinutes: round((finished.getTime() - started.getTime()) / 60_000, 1),
    machine,
    seeds: Object.fromEntries(Object.entries(seeds).map(([db, s]) => [db, { totalSeconds: s.totalSeconds, steps: s.steps, audit: s.audit, tables: s.tables }])),
    http: { settings: http.settings, summary: http.summary, ratios: http.ratios, totalSeconds: http.totalSeconds },
    studies,
  };
  const file = writeResult(`bench-${today()}-${tag}.json`, result);
  const md = join(resultsDir(), `bench-${today()}-${tag}.md`);
  writeFileSync(md, report(result));
  log(`all benchmarks done in ${result.totalMinutes} min: ${file}, ${md}`);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The tables bench/README.md quotes, from the run's own figures. */
function report(r: Json): string {
  const lines: string[] = [];
  const n = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-GB') : String(x ?? '–'));
  lines.push(`# Benchmark run ${r.started.slice(0, 10)} (${r.started.slice(11, 16)}–${r.finished.slice(11, 16)} UTC, ${r.totalMinutes} min)`, '');
  lines.push(`Command: \`${r.command}\` at commit ${r.commit.slice(0, 7)}${r.uncommittedChangesInSrcMigrationsOrBench ? ' (with uncommitted changes)' : ''}.`);
  lines.push(`Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${String(r.machine.postgres).split(' on ')[0]}; load at start ${r.machine.loadAverageAtStart}.`, '');
  lines.push('## Seeds', '', '| database | step | rows | seconds | rows/s |', '| --- | --- | ---: | ---: | ---: |');
  for (const [db, s] of Object.entries<Json>(r.seeds)) {
    for (const st of s.steps) lines.push(`| ${db} | ${st.name} | ${n(st.rows)} | ${n(st.seconds)} | ${n(st.rowsPerSecond)} |`);
    lines.push(`| ${db} | **total** | | **${n(s.totalSeconds)}** | |`);
    if (s.audit?.loadSeconds !== undefined) lines.push(`| ${db} | (audit: load ${n(s.audit.loadSeconds)} s at ${n(s.audit.loadRowsPerSecond)} rows/s, then ${s.audit.indexesBuiltAfterTheLoad.length} indexes in ${n(s.audit.indexBuildSeconds)} s) | | | |`);
  }
  lines.push('', '## HTTP scenarios (big seed)', '', '| scenario | connections | p50 ms | p99 ms | req/s (2xx) | non-2xx |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [scenario, byConn] of Object.entries<Json>(r.http.summary)) {
    for (const [c, x] of Object.entries<Json>(byConn)) lines.push(`| ${scenario} | ${c} | ${n(x.p50Ms)} | ${n(x.p99Ms)} | ${n(x.requestsPerSecond)} | ${n(x.non2xx)} |`);
  }
  const ratios = r.http.ratios;
  lines.push('', '## Ratios, side by side in this run', '', '| ratio | value | detail |', '| --- | ---: | --- |');
  for (const [k, v] of Object.entries<Json>(ratios.scopedListApiOverRawSql ?? {})) {
    if (k.includes('.')) continue;
    lines.push(`| scoped list API / raw SQL, ${k} (target ≥ 0.5) | ${v.throughputRatio} | API ${n(v.apiRequestsPerSecond)} req/s (p50 ${v.apiP50Ms} ms) vs SQL ${n(v.sqlQueriesPerSecond)} q/s (p50 ${v.sqlP50Ms} ms); the request's every statement without Node: ${n(v.wholeRequestSqlPerSecond)}/s |`);
  }
  for (const [k, v] of Object.entries<Json>(ratios.bigOverSmall ?? {})) {
    const what = k.startsWith('auditor') ? `auditor search 50M / 1M audit rows, ${k} (target ≤ 2)` : `${k}, 100k / 10k cases`;
    lines.push(`| ${what} | p50 ${v.p50Ratio}, p99 ${v.p99Ratio} | big p50 ${v.big.p50Ms} ms / ${n(v.big.requestsPerSecond)} req/s, small p50 ${v.small.p50Ms} ms / ${n(v.small.requestsPerSecond)} req/s; req/s ratio ${v.throughputRatio} |`);
  }
  const ver = ratios.verification ?? {};
  if (ver.ratio !== undefined) lines.push(`| audit verification / raw SHA-256 | ${ver.ratio} | ${n(ver.verifierRecordsPerSecond)} vs ${n(ver.rawSha256RecordsPerSecond)} records/s over ${n(ver.records)} records (${ver.meanRecordBytes} bytes each) |`);
  for (const [c, v] of Object.entries<Json>(typeof ratios.auditedRead === 'object' ? ratios.auditedRead : {})) {
    lines.push(`| audited / unaudited case read @${c} (target ≤ 1.15) | p50 ${v.ratios.p50}, p99 ${v.ratios.p99} | audited p50 ${v.audited.p50Ms} ms, ${n(v.audited.requestsPerSecond)} req/s; unaudited p50 ${v.unaudited.p50Ms} ms, ${n(v.unaudited.requestsPerSecond)} req/s; req/s ratio ${v.ratios.requestsPerSecond} |`);
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
