import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RECORD_COLUMNS, SealedRecord } from './audit-record';
import { AuditSealer } from './sealer';
import { BUNDLE_FORMAT, BundleLine } from './trail-bundle';
import { CheckpointInput, ProblemKind, RecordInput, TrailVerifier, VerificationReport, VerifierStart } from './trail-verifier';

const CHUNK = 5_000;

interface CheckpointRow {
  tree_size: string;
  root_hash: Buffer;
  frontier: { size: number; hashes: string[] };
  tx_horizon: string;
  created_at: string;
  previous_hash: Buffer | null;
  checkpoint_hash: Buffer;
  key_id: string;
  signature: Buffer;
}

const CHECKPOINT_COLUMNS = `tree_size, root_hash, frontier, tx_horizon::text AS tx_horizon,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at, previous_hash, checkpoint_hash, key_id, signature`;

export function toCheckpointInput(r: CheckpointRow): CheckpointInput {
  return {
    treeSize: Number(r.tree_size),
    rootHash: Buffer.from(r.root_hash).toString('hex'),
    txHorizon: r.tx_horizon,
    createdAt: r.created_at,
    previousHash: r.previous_hash ? Buffer.from(r.previous_hash).toString('hex') : null,
    keyId: r.key_id,
    checkpointHash: Buffer.from(r.checkpoint_hash).toString('hex'),
    signature: Buffer.from(r.signature).toString('base64'),
  };
}

export interface VerifyRange {
  fromSeq?: number;
  toSeq?: number;
}

type SealRow = Omit<SealedRecord, 'seq'> & { seq: string; leaf: string; tx: string | null; present: boolean };

/** Verifies the sealed trail in the database, and exports it as an offline-verifiable bundle. */
@Injectable()
export class AuditVerificationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sealer: AuditSealer,
  ) {}

  get publicKey(): Buffer {
    return this.sealer.signer.publicKeyRaw;
  }

  get keyId(): string {
    return this.sealer.signer.keyId;
  }

  /** Verifies records, tree, signatures and the checkpoint chain over a range (default: everything). */
  async verify(range: VerifyRange = {}, publicKey: Buffer = this.publicKey): Promise<VerificationReport> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      const plan = await this.plan(m, range);
      const verifier = new TrailVerifier(publicKey, plan.start);
      for await (const item of this.walk(m, plan.startSize, plan.endSize)) {
        if ('checkpoint' in item) verifier.addCheckpoint(item.checkpoint);
        else verifier.addRecord(item);
      }
      if (plan.full) await this.checkCompleteness(m, verifier, plan.endSize);
      return verifier.finish();
    });
  }

  /** The bundle's lines for a range of whole checkpoint batches; constant memory. */
  async *exportBundle(range: VerifyRange = {}): AsyncGenerator<string> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      const m = runner.manager;
      const plan = await this.plan(m, range);
      const header: BundleLine = {
        type: 'header', format: BUNDLE_FORMAT, keyId: this.sealer.signer.keyId, publicKey: this.publicKey.toString('base64'), start: plan.start,
        exportedAt: new Date().toISOString(),
      };
      yield JSON.stringify(header) + '\n';
      for await (const item of this.walk(m, plan.startSize, plan.endSize)) {
        const line: BundleLine = 'checkpoint' in item
          ? { type: 'checkpoint', ...item.checkpoint }
          : { type: 'record', seq: item.seq, leafHash: item.storedLeafHash!, record: item.record };
        yield JSON.stringify(line) + '\n';
      }
      await runner.commitTransaction();
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }

  /** Leaf hashes 1..treeSize, for inclusion proofs. */
  async leafHashes(treeSize: number): Promise<Buffer[]> {
    const leaves: Buffer[] = [];
    for (let from = 0; from < treeSize; from += 50_000) {
      const rows: Array<{ leaf_hash: Buffer }> = await this.dataSource.query(
        `SELECT leaf_hash FROM audit_seals WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [from, Math.min(from + 50_000, treeSize)]);
      for (const r of rows) leaves.push(Buffer.from(r.leaf_hash));
    }
    return leaves;
  }

  async latestCheckpoint(): Promise<CheckpointInput | null> {
    const [row]: CheckpointRow[] = await this.dataSource.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`);
    return row ? toCheckpointInput(row) : null;
  }

  async *checkpoints(): AsyncGenerator<CheckpointInput> {
    let after = -1;
    for (;;) {
      const rows: CheckpointRow[] = await this.dataSource.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT 1000`, [after]);
      if (rows.length === 0) return;
      for (const r of rows) yield toCheckpointInput(r);
      after = Number(rows[rows.length - 1].tree_size);
    }
  }

  /** Where a range starts (the checkpoint just before it) and ends (the first checkpoint covering it). */
  private async plan(m: EntityManager, range: VerifyRange): Promise<{ start: VerifierStart; startSize: number; endSize: number; full: boolean }> {
    const from = Math.max(1, range.fromSeq ?? 1);
    const [before]: CheckpointRow[] = from > 1
      ? await m.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tree_size < $1 ORDER BY tree_size DESC LIMIT 1`, [from])
      : [];
    const [end]: CheckpointRow[] = range.toSeq
      ? await m.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1`, [range.toSeq])
      : [];
    const [last]: CheckpointRow[] = end ? [end] : await m.query(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`);
    const start: VerifierStart = before
      ? { frontier: before.frontier, previousCheckpointHash: Buffer.from(before.checkpoint_hash).toString('hex') }
      : { frontier: { size: 0, hashes: [] }, previousCheckpointHash: null };
    return { start, startSize: before ? Number(before.tree_size) : 0, endSize: last ? Number(last.tree_size) : 0, full: !before && !end };
  }

  /** Records and checkpoints in order, read in chunks: each checkpoint right after the last record it covers. */
  private async *walk(m: EntityManager, startSize: number, endSize: number): AsyncGenerator<{ checkpoint: CheckpointInput } | RecordInput> {
    const checkpoints = this.checkpointsBetween(m, startSize, endSize);
    let next = await checkpoints.next();
    for (let cursor = startSize; cursor < endSize; cursor += CHUNK) {
      const rows: SealRow[] = await m.query(
        `SELECT s.seq, encode(s.leaf_hash, 'hex') AS leaf, (e.id IS NOT NULL) AS present, e.tx_id::text AS tx, ${RECORD_COLUMNS}
           FROM audit_seals s LEFT JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at
          WHERE s.seq > $1 AND s.seq <= $2 ORDER BY s.seq`,
        [cursor, Math.min(cursor + CHUNK, endSize)],
      );
      for (const r of rows) {
        const seq = Number(r.seq);
        while (!next.done && next.value.treeSize < seq) {
          yield { checkpoint: next.value };
          next = await checkpoints.next();
        }
        const { seq: _seq, leaf, present, tx, ...record } = r;
        yield {
          seq,
          storedLeafHash: leaf,
          record: present ? record : null,
          orderKey: present && tx ? [BigInt(tx), record.occurredAt, record.id] : undefined,
        };
      }
    }
    while (!next.done) {
      yield { checkpoint: next.value };
      next = await checkpoints.next();
    }
  }

  private async *checkpointsBetween(m: EntityManager, afterSize: number, endSize: number): AsyncGenerator<CheckpointInput> {
    let after = afterSize;
    for (;;) {
      const rows: CheckpointRow[] = await m.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE tree_size > $1 AND tree_size <= $2 ORDER BY tree_size LIMIT 1000`, [after, endSize]);
      if (rows.length === 0) return;
      for (const r of rows) yield toCheckpointInput(r);
      after = Number(rows[rows.length - 1].tree_size);
    }
  }

  /** Database-only checks: records inserted after the fact, and seals without a checkpoint. */
  private async checkCompleteness(m: EntityManager, verifier: TrailVerifier, endSize: number): Promise<void> {
    const [last]: Array<{ tx_horizon: string }> = await m.query(`SELECT tx_horizon::text AS tx_horizon FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`);
    if (last) {
      const stray: Array<{ id: string }> = await m.query(
        `SELECT e.id FROM audit_events e
          WHERE e.tx_id < $1::xid8
            AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id AND s.event_occurred_at = e.occurred_at)
          LIMIT 10`,
        [last.tx_horizon],
      );
      for (const s of stray) {
        verifier.report({ kind: ProblemKind.UnsealedOldRecord, eventId: s.id, message: `record ${s.id} belongs to a sealed period but was never sealed (inserted afterwards?)` });
      }
    }
    const [beyond]: Array<{ seq: string | null }> = await m.query(`SELECT min(seq) AS seq FROM audit_seals WHERE seq > $1`, [endSize]);
    if (beyond?.seq) {
      verifier.report({ kind: ProblemKind.SealedBeyondCheckpoint, seq: Number(beyond.seq), message: `records from ${beyond.seq} are sealed but no checkpoint covers them` });
    }
  }
}
