import { randomBytes, randomUUID } from 'node:crypto';
import { canonicalRecord, CheckpointBody, checkpointHash, checkpointMessage, RECORD_COLUMNS, SealedRecord } from '../../src/audit/audit-record';
import { leafHash, MerkleFrontier } from '../../src/audit/merkle';
import { CheckpointSigner } from '../../src/audit/signing';
import { SealResult } from '../../src/audit/sealer';
import { ProblemKind, VerificationReport } from '../../src/audit/trail-verifier';
import {
  batchOf, buildTrail, Checkpoint, checkpointsOf, FreshTrail, sealedRecord, sealPass, tamper, TrailDatabases, unsealedCount, writeRecords,
} from './fresh-trail';

/*
 * Tampering with a sealed trail, done the way a database administrator could: directly in SQL
 * as the owner, with the append-only triggers switched off. Every scenario starts from a
 * freshly generated trail (three sealing passes of six records: checkpoints at 6, 12 and 18)
 * in a database of its own, applies one tamper, and checks what the verifier names.
 */

const kinds = (r: VerificationReport) => r.problems.map((p) => p.kind);
const problemsOf = (r: VerificationReport, kind: ProblemKind) => r.problems.filter((p) => p.kind === kind);

type Query = (sql: string, params?: unknown[]) => Promise<any>;

/**
 * Replaces every checkpoint of size >= fromTreeSize by one built over the (possibly rewritten)
 * leaf hashes now in audit_seals, chained to the checkpoint before, signed by `signer` and
 * claiming `keyId` (the signer's own unless given).
 */
async function resignFrom(q: Query, fromTreeSize: number, signer: CheckpointSigner, keyId = signer.keyId): Promise<void> {
  const [before] = await q(`SELECT tree_size, frontier, checkpoint_hash FROM audit_checkpoints WHERE tree_size < $1 ORDER BY tree_size DESC LIMIT 1`, [fromTreeSize]);
  const replaced: Array<{ tree_size: string; tx_horizon: string; created_at: string }> = await q(
    `SELECT tree_size, tx_horizon::text AS tx_horizon, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at
       FROM audit_checkpoints WHERE tree_size >= $1 ORDER BY tree_size`,
    [fromTreeSize],
  );
  await q(`DELETE FROM audit_checkpoints WHERE tree_size >= $1`, [fromTreeSize]);
  const frontier = before ? MerkleFrontier.fromJSON(before.frontier) : MerkleFrontier.empty();
  let previousHash: string | null = before ? Buffer.from(before.checkpoint_hash).toString('hex') : null;
  const leaves: Array<{ seq: string; leaf_hash: Buffer }> = await q(
    `SELECT seq, leaf_hash FROM audit_seals WHERE seq > $1 ORDER BY seq`, [before ? Number(before.tree_size) : 0]);
  let next = 0;
  for (const c of replaced) {
    while (frontier.size < Number(c.tree_size)) frontier.append(Buffer.from(leaves[next++].leaf_hash));
    const body: CheckpointBody = {
      treeSize: frontier.size, rootHash: frontier.root().toString('hex'), txHorizon: c.tx_horizon, createdAt: c.created_at, previousHash, keyId,
    };
    const hash = checkpointHash(body);
    await q(
      `INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, tx_horizon, created_at, previous_hash, checkpoint_hash, key_id, signature)
       VALUES ($1, $2, $3, $4::xid8, $5, $6, $7, $8, $9)`,
      [body.treeSize, Buffer.from(body.rootHash, 'hex'), JSON.stringify(frontier.toJSON()), body.txHorizon, body.createdAt,
        previousHash ? Buffer.from(previousHash, 'hex') : null, hash, keyId, signer.sign(checkpointMessage(body))],
    );
    previousHash = hash.toString('hex');
  }
}

/** Rewrites the leaf hashes in audit_seals from `fromSeq` on to match the records as they now are. */
async function rehashFrom(q: Query, fromSeq: number): Promise<void> {
  const rows: Array<Omit<SealedRecord, 'seq'> & { seq: string }> = await q(
    `SELECT s.seq, ${RECORD_COLUMNS} FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at
      WHERE s.seq >= $1 ORDER BY s.seq`,
    [fromSeq],
  );
  for (const { seq, ...record } of rows) {
    await q(`UPDATE audit_seals SET leaf_hash = $2 WHERE seq = $1`, [seq, leafHash(canonicalRecord(record))]);
  }
}

/*
 * The trails are sealed once, in template databases, all at the same time: sealing waits for
 * the server-wide transaction horizon, which a long transaction anywhere on a shared server
 * holds back. Each test then works on a copy.
 */

// Six transactions of three records, sealed in batches of six: checkpoints at 6, 12 and 18.
const standard = new TrailDatabases('tamper', { batch: 6, seed: (t) => buildTrail(t, 6, 3).then(() => undefined) });

// Records of March 2026 among today's: 1..3 today, 4..6 March, 7..12 today; checkpoints at 9 and 12.
const withAMonth = new TrailDatabases('tampermonth', {
  batch: 9,
  seed: async (trail) => {
    await writeRecords(trail, 1, 3);
    await writeRecords(trail, 1, 3, { occurredAt: '2026-03-10T09:00:00Z' });
    await writeRecords(trail, 2, 3);
    await sealPass(trail);
  },
});

// A sealer batch of 4: a transaction of 10 records, then transactions of 2, 3, 3 and 3, sealed by one sealAll.
let batchSealing: SealResult | undefined;
const smallBatches = new TrailDatabases('sealbatch', {
  batch: 4,
  seed: async (trail) => {
    await writeRecords(trail, 1, 10);
    await writeRecords(trail, 1, 2);
    await writeRecords(trail, 3, 3);
    batchSealing = await sealPass(trail);
  },
});

beforeAll(() => Promise.all([standard.prepare(), withAMonth.prepare(), smallBatches.prepare()]), 600_000);
afterAll(async () => {
  await Promise.all([standard.dropAll(), withAMonth.dropAll(), smallBatches.dropAll()]);
}, 120_000);

describe('tampering with the sealed audit trail is detected and located', () => {
  const dbs = standard;
  let trail: FreshTrail;
  let cps: Checkpoint[];

  /** Each test: a copy of a sealed trail of 18 records in three checkpoints that verifies. */
  beforeEach(async () => {
    trail = await dbs.fresh();
    cps = await checkpointsOf(trail.service);
    expect(cps).toEqual([{ treeSize: 6, firstSeq: 1 }, { treeSize: 12, firstSeq: 7 }, { treeSize: 18, firstSeq: 13 }]);
    expect(await trail.verification.verify()).toMatchObject({ ok: true, firstBadSeq: null, recordsChecked: 18, checkpointsChecked: 3, treeSize: 18 });
  }, 60_000);

  it('an altered field of one record: record_altered at its sequence number, and nothing before it', async () => {
    const victim = await sealedRecord(trail.owner, 9);
    await tamper(trail, (q) => q(`UPDATE audit_events SET outcome = CASE outcome WHEN 'allowed' THEN 'denied' ELSE 'allowed' END WHERE id = $1`, [victim.id]));
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(9);
    expect(problemsOf(report, ProblemKind.RecordAltered)).toEqual([expect.objectContaining({ seq: 9, eventId: victim.id })]);
  });

  it('an altered record whose leaf hash was rewritten to match: the signed root no longer matches, named at its batch', async () => {
    await tamper(trail, async (q) => {
      const victim = await sealedRecord(trail.owner, 9);
      await q(`UPDATE audit_events SET actor_id = $2 WHERE id = $1`, [victim.id, randomUUID()]);
      await rehashFrom(q, 9);
    });
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    // Record and leaf agree, so only the signed roots can tell: from the checkpoint over it onwards (every later root covers it too).
    expect(report.problems.map((p) => [p.kind, p.treeSize, p.seq])).toEqual([[ProblemKind.RootMismatch, 12, 7], [ProblemKind.RootMismatch, 18, 13]]);
    expect(report.firstBadSeq).toBe(7);
  });

  it('a rewritten leaf hash alone: record_altered at its sequence number', async () => {
    await tamper(trail, (q) => q(`UPDATE audit_seals SET leaf_hash = $2 WHERE seq = $1`, [11, randomBytes(32)]));
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(11);
    expect(problemsOf(report, ProblemKind.RecordAltered).map((p) => p.seq)).toEqual([11]);
  });

  it('a deleted record: record_missing at its sequence number', async () => {
    const victim = await sealedRecord(trail.owner, 14);
    await tamper(trail, (q) => q(`DELETE FROM audit_events WHERE id = $1`, [victim.id]));
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(14);
    expect(kinds(report)).toEqual([ProblemKind.RecordMissing]);
    expect(report.problems[0].seq).toBe(14);
  });

  it('a forged record back-dated into a sealed period (old time, old transaction id) is reported, and the sealer does not absorb it', async () => {
    const old = await sealedRecord(trail.owner, 2);
    // The service role itself may insert: what it cannot do is slip a record into the sealed past unnoticed.
    const [{ id }] = await trail.service.query(
      `INSERT INTO audit_events (occurred_at, tx_id, actor_id, actor_role, action, resource_type, outcome)
       VALUES ($1::timestamptz + interval '1 microsecond', '1'::xid8, $2, 'clearing_house_officer', 'read', 'case', 'allowed') RETURNING id`,
      [old.occurredAtRaw, randomUUID()],
    );
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(kinds(report)).toEqual([ProblemKind.UnsealedOldRecord]);
    expect(report.problems[0].eventId).toBe(id);
    // It has no place in the sealed order, so no sequence number can be named.
    expect(report.firstBadSeq).toBeNull();

    // Sealing does not quietly take it in: its transaction id is below the sealed horizon.
    await trail.sealer.sealAll();
    expect(await unsealedCount(trail.service)).toBe(1);
    const again = await trail.verification.verify();
    expect(again).toMatchObject({ ok: false, treeSize: 18, firstBadSeq: null });
    expect(kinds(again)).toEqual([ProblemKind.UnsealedOldRecord]);
  });

  it('two sealed records swapped in the sealed order (with their leaf hashes): out of order and a root mismatch, named no later than the first swapped', async () => {
    await tamper(trail, async (q) => {
      await q(`CREATE TEMP TABLE swap ON COMMIT DROP AS SELECT seq, event_id, event_occurred_at, leaf_hash FROM audit_seals WHERE seq IN (8, 10)`);
      await q(`UPDATE audit_seals SET event_id = gen_random_uuid() WHERE seq = 8`);
      await q(`UPDATE audit_seals s SET event_id = w.event_id, event_occurred_at = w.event_occurred_at, leaf_hash = w.leaf_hash FROM swap w WHERE s.seq = 10 AND w.seq = 8`);
      await q(`UPDATE audit_seals s SET event_id = w.event_id, event_occurred_at = w.event_occurred_at, leaf_hash = w.leaf_hash FROM swap w WHERE s.seq = 8 AND w.seq = 10`);
    });
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    // Each record still matches the leaf hash beside it: only the order and the signed root betray the swap.
    expect(problemsOf(report, ProblemKind.RecordAltered)).toEqual([]);
    expect(problemsOf(report, ProblemKind.OutOfOrder).map((p) => p.seq)).toEqual([9, 10]);
    expect(problemsOf(report, ProblemKind.RootMismatch).map((p) => [p.treeSize, p.seq])).toEqual([[12, 7], [18, 13]]);
    expect(report.firstBadSeq).toBe(batchOf(cps, 8).firstSeq);
    expect(report.firstBadSeq).toBeLessThanOrEqual(8);
  });

  it('a checkpoint with an altered root: checkpoint_altered, bad_signature and root_mismatch at its batch', async () => {
    await tamper(trail, (q) => q(`UPDATE audit_checkpoints SET root_hash = $2 WHERE tree_size = $1`, [12, randomBytes(32)]));
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(new Set(kinds(report))).toEqual(new Set([ProblemKind.BadSignature, ProblemKind.CheckpointAltered, ProblemKind.RootMismatch]));
    expect(report.problems.every((p) => p.treeSize === 12 && p.seq === 7)).toBe(true);
    expect(report.firstBadSeq).toBe(7);
  });

  it('the tail rewritten and re-signed with another key: unknown_key and bad_signature from the first rewritten checkpoint', async () => {
    const forger = new CheckpointSigner(randomBytes(32).toString('base64'));
    await tamper(trail, async (q) => {
      await q(`UPDATE audit_events e SET rule = 'rewritten' FROM audit_seals s WHERE s.event_id = e.id AND s.event_occurred_at = e.occurred_at AND s.seq >= 9`);
      await rehashFrom(q, 9);
      await resignFrom(q, 9, forger);
    });
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    // Records, tree and chain are all self-consistent: only the signatures give the rewrite away.
    expect(new Set(kinds(report))).toEqual(new Set([ProblemKind.UnknownKey, ProblemKind.BadSignature]));
    expect(problemsOf(report, ProblemKind.UnknownKey).map((p) => [p.treeSize, p.seq])).toEqual([[12, 7], [18, 13]]);
    expect(problemsOf(report, ProblemKind.BadSignature).map((p) => [p.treeSize, p.seq])).toEqual([[12, 7], [18, 13]]);
    expect(report.firstBadSeq).toBe(7);
    // Verified against the forger's key instead, the rewrite is consistent from 7 on, and the genuine first checkpoint is what fails.
    const underForgersKey = await trail.verification.verify({}, forger.publicKeyRaw);
    expect(underForgersKey.firstBadSeq).toBe(1);
    expect(underForgersKey.problems.every((p) => p.treeSize === 6)).toBe(true);
  });

  it('the tail re-signed with another key that claims the trusted key id: bad_signature from the first rewritten checkpoint', async () => {
    const forger = new CheckpointSigner(randomBytes(32).toString('base64'));
    await tamper(trail, async (q) => {
      await q(`UPDATE audit_events e SET rule = 'rewritten' FROM audit_seals s WHERE s.event_id = e.id AND s.event_occurred_at = e.occurred_at AND s.seq >= 15`);
      await rehashFrom(q, 15);
      await resignFrom(q, 15, forger, trail.sealer.signer.keyId);
    });
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(kinds(report)).toEqual([ProblemKind.BadSignature]);
    expect(report.problems[0]).toMatchObject({ treeSize: 18, seq: 13 });
    expect(report.firstBadSeq).toBe(13);
  });

  it('a forked checkpoint (validly signed, but over other leaves) inserted between two others: root_mismatch there and chain_broken after it', async () => {
    const [six] = await trail.owner.query(`SELECT frontier, tx_horizon::text AS tx_horizon, checkpoint_hash FROM audit_checkpoints WHERE tree_size = 6`);
    const fork = MerkleFrontier.fromJSON(six.frontier);
    for (let i = 0; i < 3; i++) fork.append(randomBytes(32));
    const [{ now }] = await trail.owner.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
    const body: CheckpointBody = {
      treeSize: 9, rootHash: fork.root().toString('hex'), txHorizon: six.tx_horizon, createdAt: now,
      previousHash: Buffer.from(six.checkpoint_hash).toString('hex'), keyId: trail.sealer.signer.keyId,
    };
    // Signed with the genuine key, as a sealer run against a forked copy of the database would.
    await trail.owner.query(
      `INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, tx_horizon, created_at, previous_hash, checkpoint_hash, key_id, signature)
       VALUES ($1, $2, $3, $4::xid8, $5, $6, $7, $8, $9)`,
      [9, Buffer.from(body.rootHash, 'hex'), JSON.stringify(fork.toJSON()), body.txHorizon, body.createdAt, six.checkpoint_hash,
        checkpointHash(body), body.keyId, trail.sealer.signer.sign(checkpointMessage(body))],
    );
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.kind, p.treeSize, p.seq])).toEqual([
      [ProblemKind.RootMismatch, 9, 7],
      [ProblemKind.ChainBroken, 12, 10],
    ]);
    expect(report.firstBadSeq).toBe(7);
  });

  it('a verifier given a different trusted public key refuses every checkpoint', async () => {
    const other = new CheckpointSigner(randomBytes(32).toString('base64'));
    const report = await trail.verification.verify({}, other.publicKeyRaw);
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(1);
    expect(problemsOf(report, ProblemKind.UnknownKey).map((p) => p.treeSize)).toEqual([6, 12, 18]);
    expect(problemsOf(report, ProblemKind.BadSignature).map((p) => p.treeSize)).toEqual([6, 12, 18]);
    // The right key still accepts the same trail.
    expect((await trail.verification.verify({}, trail.sealer.signer.publicKeyRaw)).ok).toBe(true);
  });
});

describe('a month of the trail dropped', () => {
  async function trailWithAMonth(): Promise<FreshTrail> {
    const trail = await withAMonth.fresh();
    expect(await checkpointsOf(trail.service)).toEqual([{ treeSize: 9, firstSeq: 1 }, { treeSize: 12, firstSeq: 10 }]);
    const months: Array<{ seq: number; month: string }> = await trail.service.query(
      `SELECT s.seq::int AS seq, to_char(s.event_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month FROM audit_seals s ORDER BY s.seq`);
    expect(months.filter((m) => m.month === '2026-03').map((m) => m.seq)).toEqual([4, 5, 6]);
    expect((await trail.verification.verify()).ok).toBe(true);
    return trail;
  }

  it.each([
    ['dropped', 'DROP TABLE audit_events_2026_03'],
    ['detached', 'ALTER TABLE audit_events DETACH PARTITION audit_events_2026_03'],
  ])('a month partition %s: record_missing from the first sequence number of that month', async (_how, sql) => {
    const trail = await trailWithAMonth();
    await trail.owner.query(sql);
    const report = await trail.verification.verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(4);
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([
      [ProblemKind.RecordMissing, 4], [ProblemKind.RecordMissing, 5], [ProblemKind.RecordMissing, 6],
    ]);
  });
});

describe('sealing batches', () => {
  it('a transaction with more records than a batch is sealed whole, and one sealAll seals everything sealable however the batches are cut', async () => {
    const trail = await smallBatches.fresh();
    expect(batchSealing).toEqual({ sealed: 21, treeSize: 21 });
    expect(await unsealedCount(trail.service)).toBe(0);
    // The 10-record transaction whole; then batches ending at transaction boundaries.
    expect((await checkpointsOf(trail.service)).map((c) => c.treeSize)).toEqual([10, 12, 15, 18, 21]);
    expect(await trail.verification.verify()).toMatchObject({ ok: true, recordsChecked: 21, checkpointsChecked: 5, treeSize: 21 });
  });
});
