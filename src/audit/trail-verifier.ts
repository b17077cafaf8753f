import { canonicalRecord, CheckpointBody, checkpointHash, checkpointMessage, SealedRecord } from './audit-record';
import { leafHash, MerkleFrontier } from './merkle';
import { keyIdOf, verifySignature } from './signing';

export enum ProblemKind {
  SequenceGap = 'sequence_gap',
  RecordMissing = 'record_missing',
  RecordAltered = 'record_altered',
  OutOfOrder = 'out_of_order',
  RootMismatch = 'root_mismatch',
  BadSignature = 'bad_signature',
  UnknownKey = 'unknown_key',
  ChainBroken = 'chain_broken',
  CheckpointAltered = 'checkpoint_altered',
  UnsealedOldRecord = 'unsealed_old_record',
  SealedBeyondCheckpoint = 'sealed_beyond_checkpoint',
  NotConsistent = 'not_consistent',
}

export interface Problem {
  kind: ProblemKind;
  message: string;
  seq?: number;
  treeSize?: number;
  eventId?: string;
}

export interface CheckpointInput extends CheckpointBody {
  checkpointHash: string; // hex, as stored
  signature: string; // base64
}

export interface RecordInput {
  seq: number;
  /** null when the sealed record no longer exists (deleted, or its month dropped). */
  record: Omit<SealedRecord, 'seq'> | null;
  /** The leaf hash stored at sealing time (hex), when available. */
  storedLeafHash?: string | null;
  /** Sealing order within a batch (transaction id), when available (database verification). */
  orderKey?: [bigint, string, string];
}

export interface VerificationReport {
  ok: boolean;
  recordsChecked: number;
  checkpointsChecked: number;
  treeSize: number;
  rootHash: string | null;
  firstBadSeq: number | null;
  problems: Problem[];
}

export interface VerifierStart {
  /** Frontier after the checkpoint the range starts from (empty for the start of the trail). */
  frontier: { size: number; hashes: string[] };
  previousCheckpointHash: string | null;
}

/**
 * Verifies a trail fed to it in order: records by sequence, each checkpoint once the records
 * it covers have been fed. Constant memory: it keeps only the tree's frontier. Used both
 * against the database and offline against an exported bundle.
 */
export class TrailVerifier {
  /** The tree as sealed: each record's stored leaf hash where there is one. */
  private frontier: MerkleFrontier;
  /**
   * The tree as the records now hash, kept only from the first record in a batch that does not
   * match its stored leaf hash: whichever of the two trees the signed root vouches for tells
   * whether the record or the stored hash was changed, so the report can name that record
   * rather than the whole batch.
   */
  private recordFrontier: MerkleFrontier | null = null;
  private previousHash: string | null;
  private lastCheckpointSize: number;
  private previousOrderKey: [bigint, string, string] | null = null;
  private readonly problems: Problem[] = [];
  private records = 0;
  private checkpoints = 0;
  private rootHash: string | null = null;
  private readonly keyId: string;

  constructor(
    private readonly publicKeyRaw: Buffer,
    start: VerifierStart = { frontier: { size: 0, hashes: [] }, previousCheckpointHash: null },
  ) {
    this.frontier = MerkleFrontier.fromJSON(start.frontier);
    this.previousHash = start.previousCheckpointHash;
    this.lastCheckpointSize = start.frontier.size;
    this.keyId = keyIdOf(publicKeyRaw);
  }

  get nextSeq(): number {
    return this.frontier.size + 1;
  }

  addRecord(input: RecordInput): void {
    if (input.seq !== this.nextSeq) {
      this.report({ kind: ProblemKind.SequenceGap, seq: this.nextSeq, message: `expected sequence ${this.nextSeq}, found ${input.seq}` });
      if (input.seq < this.nextSeq) return;
      // Account for the missing numbers so that later ones are still checked against the tree.
      while (this.frontier.size + 1 < input.seq) this.appendLeaf(Buffer.alloc(32), Buffer.alloc(32));
    }
    this.records += 1;
    let leaf: Buffer;
    let recordLeaf: Buffer;
    if (!input.record) {
      this.report({ kind: ProblemKind.RecordMissing, seq: input.seq, message: `sealed record ${input.seq} is missing` });
      leaf = storedLeaf(input.storedLeafHash);
      recordLeaf = leaf;
    } else {
      recordLeaf = leafHash(canonicalRecord(input.record));
      leaf = recordLeaf;
      if (input.storedLeafHash && input.storedLeafHash !== recordLeaf.toString('hex')) {
        this.report({ kind: ProblemKind.RecordAltered, seq: input.seq, eventId: input.record.id, message: `record ${input.seq} does not match the hash sealed for it` });
        leaf = storedLeaf(input.storedLeafHash);
      }
    }
    if (input.orderKey) {
      const prev = this.previousOrderKey;
      if (prev && compareKeys(prev, input.orderKey) > 0) {
        this.report({ kind: ProblemKind.OutOfOrder, seq: input.seq, message: `record ${input.seq} is out of sealing order` });
      }
      this.previousOrderKey = input.orderKey;
    }
    this.appendLeaf(leaf, recordLeaf);
  }

  private appendLeaf(sealedLeaf: Buffer, recordLeaf: Buffer): void {
    if (!this.recordFrontier && !sealedLeaf.equals(recordLeaf)) this.recordFrontier = MerkleFrontier.fromJSON(this.frontier.toJSON());
    this.frontier.append(sealedLeaf);
    this.recordFrontier?.append(recordLeaf);
  }

  addCheckpoint(c: CheckpointInput): void {
    this.checkpoints += 1;
    const firstOfBatch = this.lastCheckpointSize + 1;
    if (c.treeSize !== this.frontier.size) {
      this.report({ kind: ProblemKind.SequenceGap, treeSize: c.treeSize, seq: Math.min(c.treeSize, this.frontier.size) + 1, message: `checkpoint of size ${c.treeSize} after ${this.frontier.size} records` });
    }
    if (c.keyId !== this.keyId) {
      this.report({ kind: ProblemKind.UnknownKey, treeSize: c.treeSize, seq: firstOfBatch, message: `checkpoint ${c.treeSize} was signed by ${c.keyId}, not the trusted key ${this.keyId}` });
    }
    if (!verifySignature(this.publicKeyRaw, checkpointMessage(c), Buffer.from(c.signature, 'base64'))) {
      this.report({ kind: ProblemKind.BadSignature, treeSize: c.treeSize, seq: firstOfBatch, message: `checkpoint ${c.treeSize} has no valid signature by the trusted key` });
    }
    if (checkpointHash(c).toString('hex') !== c.checkpointHash) {
      this.report({ kind: ProblemKind.CheckpointAltered, treeSize: c.treeSize, seq: firstOfBatch, message: `checkpoint ${c.treeSize} does not match its own hash` });
    }
    if ((c.previousHash ?? null) !== this.previousHash) {
      this.report({ kind: ProblemKind.ChainBroken, treeSize: c.treeSize, seq: firstOfBatch, message: `checkpoint ${c.treeSize} does not extend the previous checkpoint` });
    }
    const root = this.frontier.root().toString('hex');
    const recordRoot = this.recordFrontier?.root().toString('hex');
    if (root === c.rootHash) {
      this.recordFrontier = null;
    } else if (recordRoot === c.rootHash) {
      // The records are as signed; their stored leaf hashes were changed (and are reported).
      this.frontier = this.recordFrontier!;
      this.recordFrontier = null;
    } else {
      this.report({ kind: ProblemKind.RootMismatch, treeSize: c.treeSize, seq: firstOfBatch, message: `the records up to ${c.treeSize} do not produce the signed root (first record of the batch: ${firstOfBatch})` });
    }
    this.previousHash = c.checkpointHash;
    this.lastCheckpointSize = c.treeSize;
    this.previousOrderKey = null;
    this.rootHash = c.rootHash;
  }

  report(problem: Problem): void {
    this.problems.push(problem);
  }

  finish(): VerificationReport {
    const seqs = this.problems.map((p) => p.seq).filter((s): s is number => typeof s === 'number');
    return {
      ok: this.problems.length === 0,
      recordsChecked: this.records,
      checkpointsChecked: this.checkpoints,
      treeSize: this.lastCheckpointSize,
      rootHash: this.rootHash,
      firstBadSeq: seqs.length ? Math.min(...seqs) : null,
      problems: this.problems.slice(0, 100),
    };
  }
}

/** A stored leaf hash as bytes; one that is not 64 hex digits counts as a wrong hash rather than stopping the verification. */
function storedLeaf(hex: string | null | undefined): Buffer {
  return hex && /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : Buffer.alloc(32);
}

function compareKeys(a: [bigint, string, string], b: [bigint, string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}
