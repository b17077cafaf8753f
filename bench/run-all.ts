import { runAuditIndexCheck } from './audit-index-check';
import { runAuditedRead } from './audited-read';
import { runAuditScale } from './audit-scale';
import { runSideBySide } from './audit-scale-side-by-side';
import { databaseExists, flag, log, option } from './common';
import { runHttp } from './http';
import { runSeed, seedOptions } from './seed';

/**
 * Every benchmark, one after the other (never at the same time: each would be the other's noise).
 *
 *   npm run bench                              # the real thing: the audit table grown to 50 million rows
 *   npm run bench -- --max-rows 1000000        # a quick run: stops at 1 million rows
 *
 * In order: audit-scale (1M, then the same table grown to 50M), audit-index-check (old vs new
 * search indexes on one month of the grown table), audit-scale-side-by-side (a fresh 1M table and
 * the grown one queried alternately, same load), audited-read, then the seeded HTTP benchmark:
 * bench:seed fills ch_bench_seed (100,000 cases, 1,000,000 conversation records, --seed-audit audit
 * records, default 5,000,000) and ch_bench_seed_10k (10,000 / 100,000 / 1,000,000) unless they
 * exist and --reuse-seed is given, then bench:http runs on them. Options are passed to each (each
 * ignores those it does not know).
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const scale = await runAuditScale(argv);
  const indexCheck = await runAuditIndexCheck(argv);
  const side = await runSideBySide(argv);
  const read = await runAuditedRead(argv);
  const seedAudit = option(argv, '--seed-audit') ?? '5000000';
  for (const [database, args] of [
    ['ch_bench_seed', ['--cases', '100000', '--conversations', '1000000', '--audit', seedAudit]],
    ['ch_bench_seed_10k', ['--cases', '10000', '--conversations', '100000', '--audit', '1000000', '--tag', '10k']],
  ] as const) {
    if (!flag(argv, '--reuse-seed') || !(await databaseExists(database))) await runSeed(seedOptions([...args, '--database', database]));
  }
  // audited-read ran just above: not twice.
  const http = await runHttp([...argv.filter((a) => a !== '--reuse-seed'), '--skip-audited-read']);
  log('all benchmarks done');
  process.stdout.write(`${JSON.stringify({ auditScale: scale.ratios ?? null, oldOverNewIndexes: indexCheck.oldOverNew, sideBySide: { case: side.case, user: side.user }, auditedRead: read.summary, http: http.ratios }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
