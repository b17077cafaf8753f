import { runAuditIndexCheck } from './audit-index-check';
import { runAuditedRead } from './audited-read';
import { runAuditScale } from './audit-scale';
import { runSideBySide } from './audit-scale-side-by-side';
import { log } from './common';

/**
 * Every benchmark, one after the other (never at the same time: each would be the other's noise).
 *
 *   npm run bench                              # the real thing: the audit table grown to 50 million rows
 *   npm run bench -- --max-rows 1000000        # a quick run: stops at 1 million rows
 *
 * In order: audit-scale (1M, then the same table grown to 50M), audit-index-check (old vs new
 * search indexes on one month of the grown table), audit-scale-side-by-side (a fresh 1M table and
 * the grown one queried alternately, same load), audited-read. Options are passed to each (each
 * ignores those it does not know).
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const scale = await runAuditScale(argv);
  const indexCheck = await runAuditIndexCheck(argv);
  const side = await runSideBySide(argv);
  const read = await runAuditedRead(argv);
  log('all benchmarks done');
  process.stdout.write(`${JSON.stringify({ auditScale: scale.ratios ?? null, oldOverNewIndexes: indexCheck.oldOverNew, sideBySide: { case: side.case, user: side.user }, auditedRead: read.summary }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
