import { runAuditIndexCheck } from './audit-index-check';
import { runAuditedRead } from './audited-read';
import { runAuditScale } from './audit-scale';
import { log } from './common';

/**
 * Every benchmark, one after the other (never at the same time: each would be the other's noise).
 *
 *   npm run bench                              # the real thing: the audit table grown to 50 million rows
 *   npm run bench -- --max-rows 1000000        # a quick run: stops at 1 million rows
 *
 * Options are passed to both (each ignores those it does not know).
 */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const scale = await runAuditScale(argv);
  const indexCheck = await runAuditIndexCheck(argv);
  const read = await runAuditedRead(argv);
  log('all benchmarks done');
  process.stdout.write(`${JSON.stringify({ auditScale: scale.ratios ?? null, oldOverNewIndexes: indexCheck.oldOverNew, auditedRead: read.summary }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
