import { Command } from 'commander';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditVerificationService } from '../audit/audit-verification.service';
import { AuditWriter } from '../audit/audit-writer';
import { inclusionProof, verifyInclusion } from '../audit/merkle';
import { AuditSealer } from '../audit/sealer';
import { verifyEvidencePack } from '../audit-workbench/evidence-pack';
import { verifyBundle } from '../audit/trail-bundle';
import { VerificationReport } from '../audit/trail-verifier';
import { AppConfig } from '../config/app-config';
import { EnvironmentVariables, validateEnvironment } from '../config/environment';
import { dataSourceOptions } from '../database/data-source-options';

const CLI_ACTOR = { userId: null, role: 'cli', requestId: null, clientIp: null, userAgent: 'clearing-house-cli' };

function printReport(report: VerificationReport): void {
  console.log(JSON.stringify(report, null, 2));
  if (report.ok) console.log(`\nOK: ${report.recordsChecked} records and ${report.checkpointsChecked} checkpoints verified (tree size ${report.treeSize}).`);
  else console.log(`\nFAILED: first bad sequence number ${report.firstBadSeq ?? '(none named)'}; ${report.problems.length} problem(s).`);
}

async function withAudit<T>(env: EnvironmentVariables, work: (v: AuditVerificationService, sealer: AuditSealer, ds: DataSource) => Promise<T>): Promise<T> {
  // Reads need only the service role; verification never needs the owner.
  const ds = new DataSource(dataSourceOptions({ url: env.DATABASE_URL!, poolSize: 2, applicationName: 'clearing-house-cli' }));
  await ds.initialize();
  try {
    const config = { get: <K extends keyof EnvironmentVariables>(key: K) => env[key] } as unknown as AppConfig;
    const sealer = new AuditSealer(ds, config);
    return await work(new AuditVerificationService(ds, sealer), sealer, ds);
  } finally {
    await ds.destroy();
  }
}

async function* linesOf(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

export function registerAuditCommands(program: Command): void {
  program
    .command('audit:verify')
    .description('Verify the audit trail in the database, or an exported bundle offline (--bundle), and optionally prove one record is included')
    .option('--from <seq>', 'first sequence number', (v) => Number(v))
    .option('--to <seq>', 'last sequence number', (v) => Number(v))
    .option('--bundle <file>', 'verify an exported bundle without the database')
    .option('--evidence <file>', 'verify an evidence pack (GET /audit/evidence) without the database')
    .option('--public-key <base64>', 'the trusted public key (default: the one configured, or the one in the bundle)')
    .option('--prove <seq>', 'also produce and check an inclusion proof for this record', (v) => Number(v))
    .action(async (opts: { from?: number; to?: number; bundle?: string; evidence?: string; publicKey?: string; prove?: number }) => {
      const trusted = opts.publicKey ? Buffer.from(opts.publicKey, 'base64') : undefined;
      if (opts.evidence) {
        let pack: unknown = null;
        try {
          pack = JSON.parse(readFileSync(opts.evidence, 'utf8'));
        } catch {
          // reported as malformed below
        }
        const report = verifyEvidencePack(pack, trusted);
        console.log(JSON.stringify(report, null, 2));
        if (report.ok) console.log(`\nOK: ${report.recordsChecked} records of ${report.subject?.type} ${report.subject?.id} are in the signed trail (checkpoint ${report.treeSize}); the summary matches.`);
        else console.log(`\nFAILED: ${report.problems.map((p) => p.message).slice(0, 5).join('; ')}`);
        if (!report.ok) process.exitCode = 1;
        return;
      }
      if (opts.bundle) {
        const report = await verifyBundle(linesOf(opts.bundle), trusted);
        printReport(report);
        if (opts.prove) {
          const leaves: Buffer[] = [];
          let start = 0;
          for await (const raw of linesOf(opts.bundle)) {
            const line = JSON.parse(raw);
            if (line.type === 'header') start = line.start.frontier.size;
            if (line.type === 'record') leaves.push(Buffer.from(line.leafHash, 'hex'));
          }
          if (start !== 0) throw new Error('--prove needs a bundle that starts at the beginning of the trail');
          const size = report.treeSize;
          const proof = inclusionProof(leaves.slice(0, size), opts.prove - 1, size);
          const ok = verifyInclusion(leaves[opts.prove - 1], opts.prove - 1, size, proof, Buffer.from(report.rootHash ?? '', 'hex'));
          console.log(JSON.stringify({ seq: opts.prove, treeSize: size, rootHash: report.rootHash, proof: proof.map((h) => h.toString('hex')), included: ok }, null, 2));
          if (!ok) process.exitCode = 1;
        }
        if (!report.ok) process.exitCode = 1;
        return;
      }
      const env = validateEnvironment(process.env);
      await withAudit(env, async (verification, _sealer, ds) => {
        const report = await verification.verify({ fromSeq: opts.from, toSeq: opts.to }, trusted);
        await new AuditWriter(ds).recordNow(CLI_ACTOR, {
          action: AuditAction.Verify, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, rule: report.ok ? 'ok' : `failed:${report.firstBadSeq ?? 'unknown'}`,
        });
        printReport(report);
        if (opts.prove) {
          const checkpoint = await verification.latestCheckpoint();
          if (!checkpoint || opts.prove > checkpoint.treeSize) throw new Error(`record ${opts.prove} is not sealed yet`);
          const leaves = await verification.leafHashes(checkpoint.treeSize);
          const proof = inclusionProof(leaves, opts.prove - 1, checkpoint.treeSize);
          const ok = verifyInclusion(leaves[opts.prove - 1], opts.prove - 1, checkpoint.treeSize, proof, Buffer.from(checkpoint.rootHash, 'hex'));
          console.log(JSON.stringify({ seq: opts.prove, treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, proof: proof.map((h) => h.toString('hex')), included: ok }, null, 2));
          if (!ok) process.exitCode = 1;
        }
        if (!report.ok) process.exitCode = 1;
      });
    });

  program
    .command('audit:export')
    .description('Write the sealed trail (or a range of it) to an NDJSON bundle for safekeeping and offline verification')
    .requiredOption('--out <file>', 'where to write the bundle')
    .option('--from <seq>', 'first sequence number', (v) => Number(v))
    .option('--to <seq>', 'last sequence number', (v) => Number(v))
    .action(async (opts: { out: string; from?: number; to?: number }) => {
      const env = validateEnvironment(process.env);
      await withAudit(env, async (verification, _sealer, ds) => {
        const out = createWriteStream(opts.out, { encoding: 'utf8', mode: 0o600 });
        for await (const line of verification.exportBundle({ fromSeq: opts.from, toSeq: opts.to })) {
          if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        }
        out.end();
        await finished(out);
        await new AuditWriter(ds).recordNow(CLI_ACTOR, { action: AuditAction.Export, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, rule: 'bundle' });
        console.log(`Wrote ${opts.out}`);
      });
    });

  program
    .command('audit:seal')
    .description('Seal every sealable audit record now (the service also does this on a schedule)')
    .action(async () => {
      const env = validateEnvironment(process.env);
      await withAudit(env, async (_v, sealer) => console.log(JSON.stringify(await sealer.sealAll())));
    });

  program
    .command('audit:public-key')
    .description('Print the public key checkpoints are signed with; keep it outside the database')
    .action(async () => {
      const env = validateEnvironment(process.env);
      const config = { get: <K extends keyof EnvironmentVariables>(key: K) => env[key] } as unknown as AppConfig;
      const signer = new AuditSealer(null as unknown as DataSource, config).signer;
      console.log(JSON.stringify({ keyId: signer.keyId, publicKey: signer.publicKeyRaw.toString('base64') }));
    });

  program
    .command('audit:partitions')
    .description('Create monthly audit partitions up to a month (as the owner role, DATABASE_MIGRATION_URL)')
    .requiredOption('--until <yyyy-mm>', 'last month to create')
    .action(async (opts: { until: string }) => {
      if (!/^\d{4}-\d{2}$/.test(opts.until)) throw new Error('--until must look like 2030-12');
      const env = validateEnvironment(process.env);
      const ds = new DataSource(dataSourceOptions({ url: env.DATABASE_MIGRATION_URL!, poolSize: 1 }));
      await ds.initialize();
      try {
        const months: Array<{ m: string }> = await ds.query(
          `SELECT to_char(generate_series(date_trunc('month', now()), $1::date, interval '1 month'), 'YYYY-MM-DD') AS m`, [`${opts.until}-01`]);
        let created = 0;
        for (const { m } of months) {
          const [{ made }] = await ds.query(`SELECT create_audit_partition($1::date) AS made`, [m]);
          if (made) created += 1;
        }
        console.log(`Created ${created} partition(s).`);
      } finally {
        await ds.destroy();
      }
    });
}
