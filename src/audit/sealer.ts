import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { canonicalRecord, CheckpointBody, checkpointHash, checkpointMessage, RECORD_COLUMNS, SealedRecord } from './audit-record';
import { leafHash, MerkleFrontier } from './merkle';
import { CheckpointSigner } from './signing';

/** Key of the advisory lock that makes the sealer single across every instance. */
export const SEALER_LOCK_KEY = 7_413_001;

export interface SealResult {
  sealed: number;
  treeSize: number;
  skipped?: 'locked';
  /** The pass stopped at the batch size: more records were sealable. */
  more?: boolean;
}

/**
 * Seals audit records into the Merkle tree without ever making request transactions wait:
 * writers only INSERT; this one job, under an advisory lock, later takes the records of
 * transactions that have ended (older than the oldest running transaction), numbers them
 * gaplessly, extends the tree and stores a signed checkpoint.
 */
@Injectable()
export class AuditSealer {
  private readonly logger = new Logger(AuditSealer.name);
  readonly signer: CheckpointSigner;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.signer = new CheckpointSigner(config.get('AUDIT_SIGNING_KEY')!);
    this.batchSize = config.get('AUDIT_SEAL_BATCH');
  }

  private readonly batchSize: number;

  /** One sealing pass; safe to run concurrently from any number of instances. */
  async sealOnce(): Promise<SealResult> {
    return this.dataSource.transaction(async (m) => {
      const [{ locked }] = await m.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [SEALER_LOCK_KEY]);
      if (!locked) return { sealed: 0, treeSize: -1, skipped: 'locked' as const };
      const [last]: Array<{ tree_size: string; frontier: { size: number; hashes: string[] }; tx_horizon: string; checkpoint_hash: Buffer }> = await m.query(
        `SELECT tree_size, frontier, tx_horizon::text AS tx_horizon, checkpoint_hash FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`,
      );
      const fromHorizon = last?.tx_horizon ?? '0';
      // Every transaction below this id has ended: its records can no longer be overtaken.
      const [{ horizon }] = await m.query(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon`);
      const rows: Array<Omit<SealedRecord, 'seq'> & { tx: string }> = await m.query(
        `SELECT ${RECORD_COLUMNS}, e.tx_id::text AS tx
           FROM audit_events e
          WHERE e.tx_id >= $1::xid8 AND e.tx_id < $2::xid8
          ORDER BY e.tx_id, e.occurred_at, e.id
          LIMIT $3`,
        [fromHorizon, horizon, this.batchSize + 1],
      );
      let newHorizon = horizon;
      let batch = rows;
      if (rows.length > this.batchSize) {
        // Cut at a transaction boundary, so the stored horizon stays exact.
        const cutTx = rows[this.batchSize].tx;
        batch = rows.filter((r) => BigInt(r.tx) < BigInt(cutTx));
        newHorizon = cutTx;
        if (batch.length === 0) {
          // One transaction wrote more than a batch: seal all of it, or the rest of its records
          // would fall behind the new horizon and never be sealed.
          batch = await m.query(
            `SELECT ${RECORD_COLUMNS}, e.tx_id::text AS tx FROM audit_events e WHERE e.tx_id = $1::xid8 ORDER BY e.occurred_at, e.id`,
            [cutTx],
          );
          newHorizon = (BigInt(cutTx) + 1n).toString();
        }
      }
      // Capped at the batch size: there may be more sealable records than this pass takes.
      const more = rows.length > this.batchSize;
      const previousSize = last ? Number(last.tree_size) : 0;
      if (batch.length === 0) return { sealed: 0, treeSize: previousSize };

      const frontier = last ? MerkleFrontier.fromJSON(last.frontier) : MerkleFrontier.empty();
      const seqs: number[] = [];
      const ids: string[] = [];
      const times: string[] = [];
      const leaves: Buffer[] = [];
      batch.forEach((r, i) => {
        const leaf = leafHash(canonicalRecord(r));
        frontier.append(leaf);
        seqs.push(previousSize + i + 1);
        ids.push(r.id);
        times.push(r.occurredAt); // microsecond text: a JS Date would lose precision
        leaves.push(leaf);
      });
      await m.query(
        `INSERT INTO audit_seals (seq, event_id, event_occurred_at, leaf_hash)
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::timestamptz[], $4::bytea[])`,
        [seqs, ids, times, leaves],
      );
      const [{ now }] = await m.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
      const body: CheckpointBody = {
        treeSize: frontier.size,
        rootHash: frontier.root().toString('hex'),
        txHorizon: newHorizon,
        createdAt: now,
        previousHash: last ? Buffer.from(last.checkpoint_hash).toString('hex') : null,
        keyId: this.signer.keyId,
      };
      await m.query(
        `INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, tx_horizon, created_at, previous_hash, checkpoint_hash, key_id, signature)
         VALUES ($1, $2, $3, $4::xid8, $5, $6, $7, $8, $9)`,
        [
          body.treeSize, Buffer.from(body.rootHash, 'hex'), JSON.stringify(frontier.toJSON()), body.txHorizon, body.createdAt,
          body.previousHash ? Buffer.from(body.previousHash, 'hex') : null, checkpointHash(body), body.keyId, this.signer.sign(checkpointMessage(body)),
        ],
      );
      this.logger.log({ sealed: batch.length, treeSize: body.treeSize }, 'audit records sealed');
      return { sealed: batch.length, treeSize: body.treeSize, more };
    });
  }

  /** Seals until nothing sealable is left (tests, CLI, before an export). */
  async sealAll(): Promise<SealResult> {
    let total = 0;
    let last: SealResult = { sealed: 0, treeSize: 0 };
    for (;;) {
      last = await this.sealOnce();
      if (last.skipped) return last;
      total += last.sealed;
      // A batch cut at a transaction boundary holds fewer than batchSize records with more to come.
      if (!last.more) return { sealed: total, treeSize: last.treeSize };
    }
  }
}
