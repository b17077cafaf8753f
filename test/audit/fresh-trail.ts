import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../../src/audit/audit-event';
import { RECORD_COLUMNS, SealedRecord } from '../../src/audit/audit-record';
import { AuditVerificationService } from '../../src/audit/audit-verification.service';
import { AuditWriter } from '../../src/audit/audit-writer';
import { AuditSealer } from '../../src/audit/sealer';
import { AppConfig } from '../../src/config/app-config';
import { EnvironmentVariables, validateEnvironment } from '../../src/config/environment';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrations';
import { ensureServiceLogin, withUser } from '../../src/database/service-role';
import { databaseUrl, SERVER_URL, TEST_SERVICE_LOGIN } from '../support/test-environment';

/*
 * Audit trails in databases of their own, for tests that tamper with a trail or need to know
 * its exact shape: the shared per-run database gets audit records from every other test file,
 * concurrently. One migrated template database per group of tests, optionally seeded with a
 * sealed trail once; each trail is a copy of it (CREATE DATABASE ... TEMPLATE), so that every
 * scenario starts from the same untouched trail. All are dropped by `dropAll`.
 *
 * Sealing waits for a horizon that is cluster-wide (the oldest running transaction id in any
 * database of the server): a long transaction elsewhere on a shared server delays it. Seeding
 * the template once keeps those waits to one per group.
 */

// The sealer logs each pass through Nest's static logger: not wanted in test output.
Logger.overrideLogger(false);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: SERVER_URL });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

export interface FreshTrail {
  name: string;
  /** As the service's least-privilege login role. */
  service: DataSource;
  /** As the owner (a superuser locally): for tampering. */
  owner: DataSource;
  sealer: AuditSealer;
  verification: AuditVerificationService;
  writer: AuditWriter;
}

export interface TrailDatabasesOptions {
  /** The sealer's batch size (AUDIT_SEAL_BATCH) for the seeding and for every copy. */
  batch?: number;
  /** Writes (and seals) the trail every copy starts from. */
  seed?: (trail: FreshTrail) => Promise<void>;
}

export class TrailDatabases {
  private readonly prefix: string;
  private readonly template: string;
  private readonly made: string[] = [];
  private readonly sources: DataSource[] = [];
  private counter = 0;
  private ready: Promise<void> | null = null;

  constructor(
    label: string,
    private readonly options: TrailDatabasesOptions = {},
  ) {
    if (!/^[a-z]{1,12}$/.test(label)) throw new Error('label: a few lower-case letters');
    this.prefix = `ch_test_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    this.template = `${this.prefix}_tpl`;
  }

  /** Creates, migrates and seeds the template (once). */
  prepare(): Promise<void> {
    this.ready ??= (async () => {
      await this.dropStale();
      await admin((c) => c.query(`CREATE DATABASE "${this.template}"`));
      this.made.push(this.template);
      const url = databaseUrl(this.template);
      await runMigrations(url);
      await ensureServiceLogin(url, TEST_SERVICE_LOGIN);
      if (this.options.seed) {
        const trail = await this.open(this.template, this.options.batch);
        try {
          await this.options.seed(trail);
        } finally {
          await trail.service.destroy();
          await trail.owner.destroy();
        }
      }
    })();
    return this.ready;
  }

  /** A new database holding a copy of the seeded trail (or an empty one). */
  async fresh(): Promise<FreshTrail> {
    await this.prepare();
    this.counter += 1;
    const name = `${this.prefix}_${this.counter}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${this.template}"`));
        break;
      } catch (error) {
        // Autovacuum may be looking at the template for a moment.
        if (attempt >= 20 || !/being accessed by other users/.test(String((error as Error).message))) throw error;
        await sleep(250);
      }
    }
    this.made.push(name);
    return this.open(name, this.options.batch);
  }

  private async open(name: string, batch: number | undefined): Promise<FreshTrail> {
    const url = databaseUrl(name);
    const service = new DataSource(dataSourceOptions({ url: withUser(url, TEST_SERVICE_LOGIN), poolSize: 4, applicationName: 'audit-test-service' }));
    const owner = new DataSource(dataSourceOptions({ url, poolSize: 2, applicationName: 'audit-test-owner' }));
    await service.initialize();
    await owner.initialize();
    this.sources.push(service, owner);
    const env = validateEnvironment({ ...process.env });
    const config = {
      get: <K extends keyof EnvironmentVariables>(key: K) => (key === 'AUDIT_SEAL_BATCH' && batch ? batch : env[key]),
    } as unknown as AppConfig;
    const sealer = new AuditSealer(service, config);
    return { name, service, owner, sealer, verification: new AuditVerificationService(service, sealer), writer: new AuditWriter(service) };
  }

  /** Databases of this label left behind by a run that was killed (over two hours old, nobody connected). */
  private async dropStale(): Promise<void> {
    const label = this.prefix.split('_')[2];
    await admin(async (c) => {
      const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname ~ $1`, [`^ch_test_${label}_[a-z0-9]+_[0-9a-f]{6}_(tpl|[0-9]+)$`]);
      for (const { datname } of rows as Array<{ datname: string }>) {
        const born = parseInt(datname.split('_')[3], 36);
        if (!(born < Date.now() - 2 * 3600_000)) continue;
        await c.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => undefined);
      }
    });
  }

  async dropAll(): Promise<void> {
    for (const ds of this.sources.splice(0)) if (ds.isInitialized) await ds.destroy();
    await admin(async (c) => {
      for (const name of this.made.splice(0).reverse()) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
  }
}

export const testActor = (n: number): RequestActor => ({
  userId: randomUUID(), role: 'clearing_house_officer', requestId: `req-${n}`, clientIp: '192.0.2.1', userAgent: `audit-test/${n}`,
});

/**
 * Writes `perTx` records in each of `txs` transactions through the service's AuditWriter,
 * as the service role. With `occurredAt` (ISO), writes plain INSERTs stamped with that time.
 */
export async function writeRecords(trail: FreshTrail, txs: number, perTx: number, opts: { occurredAt?: string; rule?: string } = {}): Promise<void> {
  for (let t = 0; t < txs; t++) {
    await trail.service.transaction(async (m) => {
      const actor = testActor(t);
      const entries = Array.from({ length: perTx }, (_, i) => ({
        action: i % 2 ? AuditAction.Read : AuditAction.Update,
        resourceType: ResourceType.Case,
        resourceId: randomUUID(),
        caseId: randomUUID(),
        outcome: i % 3 ? AuditOutcome.Allowed : AuditOutcome.Denied,
        rule: opts.rule ?? `rule_${i}`,
      }));
      if (!opts.occurredAt) {
        await trail.writer.record(m, actor, entries);
        return;
      }
      for (const [i, e] of entries.entries()) {
        // A microsecond apart, so the sealing order within the transaction is the writing order.
        await m.query(
          `INSERT INTO audit_events (occurred_at, actor_id, actor_role, action, resource_type, resource_id, case_id, outcome, rule)
           VALUES ($1::timestamptz + make_interval(secs => $2::double precision / 1000000), $3, $4, $5, $6, $7, $8, $9, $10)`,
          [opts.occurredAt, i, actor.userId, actor.role, e.action, e.resourceType, e.resourceId, e.caseId, e.outcome, e.rule],
        );
      }
    });
  }
}

/** Records not (yet) in the sealed order. */
export async function unsealedCount(ds: DataSource): Promise<number> {
  const [{ n }] = await ds.query(
    `SELECT count(*)::int AS n FROM audit_events e
      WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id AND s.event_occurred_at = e.occurred_at)`,
  );
  return n;
}

/**
 * Waits until every transaction that wrote a record has ended in the eyes of the sealer (its
 * horizon is cluster-wide: a long transaction in another database holds it back), so that a
 * single sealing call is expected to take everything.
 */
export async function waitForHorizon(ds: DataSource, timeoutMs = 480_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ passed }] = await ds.query(
      `SELECT coalesce((SELECT max(tx_id) FROM audit_events) < pg_snapshot_xmin(pg_current_snapshot()), true) AS passed`,
    );
    if (passed) return;
    if (Date.now() > deadline) throw new Error('the sealing horizon did not pass the records written');
    await sleep(50);
  }
}

/** One sealing pass (sealAll) after the horizon has passed everything written; returns its result. */
export async function sealPass(trail: FreshTrail) {
  await waitForHorizon(trail.service);
  return trail.sealer.sealAll();
}

export interface Checkpoint {
  treeSize: number;
  firstSeq: number;
}

/** The checkpoints, smallest first, with the first sequence number of each one's batch. */
export async function checkpointsOf(ds: DataSource): Promise<Checkpoint[]> {
  const rows: Array<{ tree_size: string }> = await ds.query(`SELECT tree_size FROM audit_checkpoints ORDER BY tree_size`);
  let previous = 0;
  return rows.map((r) => {
    const c = { treeSize: Number(r.tree_size), firstSeq: previous + 1 };
    previous = c.treeSize;
    return c;
  });
}

export function batchOf(checkpoints: Checkpoint[], seq: number): Checkpoint {
  const c = checkpoints.find((x) => x.firstSeq <= seq && seq <= x.treeSize);
  if (!c) throw new Error(`no checkpoint covers ${seq}`);
  return c;
}

/** The sealed record at a sequence number, as its canonical fields. */
export async function sealedRecord(ds: DataSource, seq: number): Promise<SealedRecord & { occurredAtRaw: string; leaf: string }> {
  const [row] = await ds.query(
    `SELECT s.seq::int AS seq, ${RECORD_COLUMNS}, e.occurred_at::text AS "occurredAtRaw", encode(s.leaf_hash, 'hex') AS leaf
       FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at WHERE s.seq = $1`,
    [seq],
  );
  if (!row) throw new Error(`no sealed record ${seq}`);
  return row;
}

/**
 * A standard trail: `txs` transactions of `perTx` records, sealed in one pass; with a sealer
 * batch of a multiple of perTx, one checkpoint per batch. Asserts it verifies.
 */
export async function buildTrail(trail: FreshTrail, txs = 6, perTx = 3): Promise<Checkpoint[]> {
  await writeRecords(trail, txs, perTx);
  await sealPass(trail);
  if ((await unsealedCount(trail.service)) !== 0) throw new Error('the sealing pass left records unsealed');
  const report = await trail.verification.verify();
  if (!report.ok) throw new Error(`a freshly sealed trail does not verify: ${JSON.stringify(report.problems)}`);
  return checkpointsOf(trail.service);
}

/** Runs statements as the owner with the append-only triggers switched off (session_replication_role = replica). */
export async function tamper(trail: FreshTrail, work: (q: (sql: string, params?: unknown[]) => Promise<any>) => Promise<void>): Promise<void> {
  await trail.owner.transaction(async (m) => {
    await m.query(`SET LOCAL session_replication_role = replica`);
    await work((sql, params) => m.query(sql, params));
  });
}
