import { canonicalRecord, checkpointHash, checkpointMessage, SealedRecord } from '../audit/audit-record';
import { leafHash, nodeHash, verifyInclusion } from '../audit/merkle';
import { keyIdOf, verifySignature } from '../audit/signing';
import { CheckpointInput } from '../audit/trail-verifier';
import { canonicalJson } from './canonical-json';

/**
 * An evidence pack: one case's or one user's audit records, each with its RFC 9162 inclusion
 * proof in one signed checkpoint, the public key, and a summary. One JSON file, checked offline
 * by `npm run cli -- audit:verify --evidence FILE`. It proves every record in it is in the signed
 * trail unchanged; it cannot prove that no record was left out (that needs the whole trail, a bundle).
 */
export const EVIDENCE_FORMAT = 'ch-evidence-pack-v1';

export type EvidenceSubject = { type: 'case'; id: string } | { type: 'user'; id: string };

export interface EvidenceRecord {
  seq: number;
  leafHash: string;
  record: Omit<SealedRecord, 'seq'>;
  /** Sibling hashes (hex), deepest first, from the leaf to the checkpoint's root. */
  proof: string[];
}

export interface EvidenceSummary {
  records: number;
  byAction: Record<string, number>;
  byOutcome: Record<string, number>;
  byActor: Record<string, number>;
  firstAccess: string | null;
  lastAccess: string | null;
}

export interface EvidencePack {
  format: typeof EVIDENCE_FORMAT;
  subject: EvidenceSubject;
  exportedAt: string;
  keyId: string;
  publicKey: string; // base64, raw Ed25519
  checkpoint: CheckpointInput;
  /** Records of the subject not yet sealed at export (not in the pack). */
  unsealedRecords: number;
  records: EvidenceRecord[];
  summary: EvidenceSummary;
}

/** Counts by action, outcome and actor (`system` for records without one), and the first and last record's time. */
export function summarize(records: ReadonlyArray<Pick<SealedRecord, 'action' | 'outcome' | 'actorId' | 'occurredAt'>>): EvidenceSummary {
  const count = (map: Record<string, number>, key: string) => {
    map[key] = (map[key] ?? 0) + 1;
  };
  const s: EvidenceSummary = { records: records.length, byAction: {}, byOutcome: {}, byActor: {}, firstAccess: null, lastAccess: null };
  for (const r of records) {
    count(s.byAction, r.action);
    count(s.byOutcome, r.outcome);
    count(s.byActor, r.actorId ?? 'system');
    if (s.firstAccess === null || r.occurredAt < s.firstAccess) s.firstAccess = r.occurredAt;
    if (s.lastAccess === null || r.occurredAt > s.lastAccess) s.lastAccess = r.occurredAt;
  }
  return s;
}

type ProofNode = { kind: 'perfect'; level: number; index: number } | { kind: 'edge'; start: number };

/**
 * Inclusion proofs for many leaves of one tree at the cost of one pass over its leaves: the
 * interior nodes are kept level by level (perfect subtrees), and the right edge of a tree whose
 * size is not a power of two is folded from them on demand. Produces the same proofs as
 * `inclusionProof` in src/audit/merkle.ts (the unit tests compare them).
 */
export class ProofIndex {
  private readonly levels: Buffer[][];
  private readonly edges = new Map<number, Buffer>();

  constructor(leaves: Buffer[], private readonly size: number) {
    if (size > leaves.length || size < 1) throw new RangeError('size must be between 1 and the number of leaves');
    this.levels = [leaves.slice(0, size)];
    for (let level = 0; this.levels[level].length > 1; level++) {
      const below = this.levels[level];
      const above: Buffer[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) above.push(nodeHash(below[i], below[i + 1]));
      this.levels.push(above);
    }
  }

  /** PATH(index, D[size]) of RFC 9162 2.1.3.1, deepest sibling first. */
  proof(index: number): Buffer[] {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) throw new RangeError('index out of range');
    const topDown: ProofNode[] = [];
    let start = 0;
    let end = this.size;
    let m = index;
    while (end - start > 1) {
      let k = 1;
      while (k * 2 < end - start) k *= 2;
      if (m < k) {
        topDown.push(this.rangeNode(start + k, end));
        end = start + k;
      } else {
        topDown.push({ kind: 'perfect', level: Math.log2(k), index: start / k });
        start += k;
        m -= k;
      }
    }
    return topDown.reverse().map((n) => this.hashOf(n));
  }

  /** The node for D[start:end]: a perfect subtree unless it runs to the tree's end with a size that is not a power of two. */
  private rangeNode(start: number, end: number): ProofNode {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) return { kind: 'perfect', level: Math.log2(n), index: start / n };
    return { kind: 'edge', start };
  }

  private hashOf(n: ProofNode): Buffer {
    if (n.kind === 'perfect') return this.levels[n.level][n.index];
    let cached = this.edges.get(n.start);
    if (!cached) {
      // D[start:size] is made of the perfect subtrees of (size - start)'s 1 bits, largest first.
      const parts: Buffer[] = [];
      let at = n.start;
      for (let bit = Math.floor(Math.log2(this.size - n.start)); bit >= 0; bit--) {
        const width = 2 ** bit;
        if (at + width <= this.size) {
          parts.push(this.levels[bit][at / width]);
          at += width;
        }
      }
      cached = parts[parts.length - 1];
      for (let i = parts.length - 2; i >= 0; i--) cached = nodeHash(parts[i], cached);
      this.edges.set(n.start, cached);
    }
    return cached;
  }
}

export enum EvidenceProblemKind {
  BadSignature = 'bad_signature',
  UnknownKey = 'unknown_key',
  CheckpointAltered = 'checkpoint_altered',
  RecordAltered = 'record_altered',
  NotIncluded = 'not_included',
  NotOfSubject = 'not_of_subject',
  DuplicateRecord = 'duplicate_record',
  SummaryMismatch = 'summary_mismatch',
  Malformed = 'malformed',
}

export interface EvidenceProblem {
  kind: EvidenceProblemKind;
  message: string;
  seq?: number;
  eventId?: string;
}

export interface EvidenceReport {
  ok: boolean;
  format: string;
  subject: EvidenceSubject | null;
  recordsChecked: number;
  treeSize: number | null;
  rootHash: string | null;
  firstBadSeq: number | null;
  problems: EvidenceProblem[];
}

/**
 * Verifies a pack offline: the checkpoint is signed by the trusted key (the one given, else the
 * pack's own), every record hashes to its leaf and its leaf is included under the signed root,
 * every record is the subject's, and the summary is what the records add up to. Never throws for
 * bad input: it reports it.
 */
export function verifyEvidencePack(input: unknown, trustedPublicKey?: Buffer): EvidenceReport {
  const problems: EvidenceProblem[] = [];
  const pack = input as Partial<EvidencePack> | null;
  const report = (p: EvidenceProblem) => problems.push(p);
  const done = (recordsChecked: number): EvidenceReport => {
    const seqs = problems.map((p) => p.seq).filter((s): s is number => typeof s === 'number');
    return {
      ok: problems.length === 0, format: String(pack?.format ?? ''), subject: pack?.subject ?? null, recordsChecked,
      treeSize: pack?.checkpoint?.treeSize ?? null, rootHash: pack?.checkpoint?.rootHash ?? null,
      firstBadSeq: seqs.length ? Math.min(...seqs) : null, problems: problems.slice(0, 100),
    };
  };
  if (!pack || typeof pack !== 'object' || pack.format !== EVIDENCE_FORMAT || !pack.checkpoint || !Array.isArray(pack.records) || !pack.subject) {
    report({ kind: EvidenceProblemKind.Malformed, message: `not an evidence pack (${EVIDENCE_FORMAT})` });
    return done(0);
  }
  const c = pack.checkpoint;
  const key = trustedPublicKey ?? Buffer.from(String(pack.publicKey ?? ''), 'base64');
  if (c.keyId !== keyIdOf(key)) report({ kind: EvidenceProblemKind.UnknownKey, message: `checkpoint ${c.treeSize} was signed by ${c.keyId}, not the trusted key ${keyIdOf(key)}` });
  if (!verifySignature(key, checkpointMessage(c), Buffer.from(String(c.signature ?? ''), 'base64'))) {
    report({ kind: EvidenceProblemKind.BadSignature, message: `checkpoint ${c.treeSize} has no valid signature by the trusted key` });
  }
  if (checkpointHash(c).toString('hex') !== c.checkpointHash) report({ kind: EvidenceProblemKind.CheckpointAltered, message: `checkpoint ${c.treeSize} does not match its own hash` });
  const root = /^[0-9a-f]{64}$/.test(String(c.rootHash)) ? Buffer.from(c.rootHash, 'hex') : Buffer.alloc(0);

  const seen = new Set<number>();
  for (const item of pack.records) {
    const seq = Number(item?.seq);
    const eventId = item?.record?.id;
    try {
      if (seen.has(seq)) report({ kind: EvidenceProblemKind.DuplicateRecord, seq, eventId, message: `record ${seq} appears twice` });
      seen.add(seq);
      const leaf = leafHash(canonicalRecord(item.record));
      if (leaf.toString('hex') !== item.leafHash) {
        report({ kind: EvidenceProblemKind.RecordAltered, seq, eventId, message: `record ${seq} (${eventId}) does not match the leaf hash sealed for it` });
      }
      const proof = item.proof.map((h) => Buffer.from(h, 'hex'));
      if (!verifyInclusion(leaf, seq - 1, c.treeSize, proof, root)) {
        report({ kind: EvidenceProblemKind.NotIncluded, seq, eventId, message: `record ${seq} (${eventId}) is not included under the signed root of checkpoint ${c.treeSize}` });
      }
      const of = pack.subject.type === 'case' ? item.record.caseId : item.record.actorId;
      if (of !== pack.subject.id) report({ kind: EvidenceProblemKind.NotOfSubject, seq, eventId, message: `record ${seq} is not about ${pack.subject.type} ${pack.subject.id}` });
    } catch {
      report({ kind: EvidenceProblemKind.Malformed, seq: Number.isFinite(seq) ? seq : undefined, message: `record entry ${Number.isFinite(seq) ? seq : '?'} is malformed` });
    }
  }
  try {
    const expected = summarize(pack.records.map((r) => r.record));
    if (canonicalJson(expected) !== canonicalJson(pack.summary)) {
      report({ kind: EvidenceProblemKind.SummaryMismatch, message: 'the summary is not what the records add up to' });
    }
  } catch {
    report({ kind: EvidenceProblemKind.SummaryMismatch, message: 'the summary cannot be recomputed from the records' });
  }
  return done(pack.records.length);
}
