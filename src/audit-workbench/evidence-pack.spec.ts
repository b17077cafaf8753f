import { randomUUID } from 'node:crypto';
import { canonicalRecord, CheckpointBody, checkpointHash, checkpointMessage, SealedRecord } from '../audit/audit-record';
import { inclusionProof, leafHash, rootOf } from '../audit/merkle';
import { CheckpointSigner } from '../audit/signing';
import { EVIDENCE_FORMAT, EvidencePack, EvidenceProblemKind, ProofIndex, summarize, verifyEvidencePack } from './evidence-pack';

const leaf = (i: number) => leafHash(Buffer.from(`leaf ${i}`));

describe('ProofIndex', () => {
  it('gives the same inclusion proofs as merkle.ts for every leaf of trees of 1 to 70 leaves', () => {
    for (let size = 1; size <= 70; size++) {
      const leaves = Array.from({ length: size }, (_, i) => leaf(i));
      const index = new ProofIndex(leaves, size);
      for (let i = 0; i < size; i++) {
        expect(index.proof(i).map((h) => h.toString('hex'))).toEqual(inclusionProof(leaves, i, size).map((h) => h.toString('hex')));
      }
    }
  });

  it('uses only the first `size` leaves', () => {
    const leaves = Array.from({ length: 10 }, (_, i) => leaf(i));
    expect(new ProofIndex(leaves, 6).proof(5)).toEqual(inclusionProof(leaves, 5, 6));
  });
});

const signer = new CheckpointSigner(Buffer.alloc(32, 7).toString('base64'));
const CASE = randomUUID();

function record(i: number, over: Partial<SealedRecord> = {}): Omit<SealedRecord, 'seq'> {
  return {
    id: randomUUID(), occurredAt: `2026-11-25T10:00:0${i % 10}.000000Z`, actorId: i % 2 ? 'u1' : 'u2', actorRole: 'clearing_house_officer', action: i % 3 ? 'read' : 'list',
    resourceType: 'case', resourceId: CASE, caseId: i % 4 === 0 ? null : CASE, outcome: i === 5 ? 'denied' : 'allowed', rule: null, requestId: null, clientIp: null,
    userAgent: null, justification: null, ...over,
  };
}

function pack(): EvidencePack {
  const records = Array.from({ length: 13 }, (_, i) => record(i));
  const leaves = records.map((r) => leafHash(canonicalRecord(r)));
  const body: CheckpointBody = { treeSize: 13, rootHash: rootOf(leaves).toString('hex'), txHorizon: '100', createdAt: '2026-11-25T10:01:00.000000Z', previousHash: null, keyId: signer.keyId };
  const index = new ProofIndex(leaves, 13);
  const mine = records.map((r, i) => ({ r, i })).filter(({ r }) => r.caseId === CASE);
  return {
    format: EVIDENCE_FORMAT, subject: { type: 'case', id: CASE }, exportedAt: '2026-11-25T11:00:00Z', keyId: signer.keyId, publicKey: signer.publicKeyRaw.toString('base64'),
    checkpoint: { ...body, checkpointHash: checkpointHash(body).toString('hex'), signature: signer.sign(checkpointMessage(body)).toString('base64') },
    unsealedRecords: 0,
    records: mine.map(({ r, i }) => ({ seq: i + 1, leafHash: leaves[i].toString('hex'), record: r, proof: index.proof(i).map((h) => h.toString('hex')) })),
    summary: summarize(mine.map(({ r }) => r)),
  };
}

describe('verifyEvidencePack', () => {
  it('accepts an untouched pack', () => {
    const p = pack();
    expect(verifyEvidencePack(JSON.parse(JSON.stringify(p)))).toMatchObject({ ok: true, problems: [], recordsChecked: p.records.length, treeSize: 13 });
  });

  it('names the record that was changed', () => {
    const p = pack();
    const victim = p.records[2];
    victim.record.action = 'create';
    p.summary = summarize(p.records.map((r) => r.record)); // even with a summary made to match
    const report = verifyEvidencePack(p);
    expect(report.ok).toBe(false);
    expect(report.firstBadSeq).toBe(victim.seq);
    expect(report.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: EvidenceProblemKind.RecordAltered, seq: victim.seq, eventId: victim.record.id })]));
  });

  it('refuses a changed leaf hash and proof, a record of someone else, a wrong summary, a bad signature and another key', () => {
    const p1 = pack();
    p1.records[0].leafHash = leafHash(canonicalRecord({ ...p1.records[0].record, action: 'x' })).toString('hex');
    expect(verifyEvidencePack(p1).problems.map((x) => x.kind)).toContain(EvidenceProblemKind.RecordAltered);

    const p2 = pack();
    p2.records[1].proof[0] = '00'.repeat(32);
    expect(verifyEvidencePack(p2).problems).toEqual([expect.objectContaining({ kind: EvidenceProblemKind.NotIncluded, seq: p2.records[1].seq })]);

    const p3 = pack();
    p3.subject = { type: 'case', id: randomUUID() };
    expect(verifyEvidencePack(p3).problems.every((x) => x.kind === EvidenceProblemKind.NotOfSubject)).toBe(true);

    const p4 = pack();
    p4.summary.byAction.read += 1;
    expect(verifyEvidencePack(p4).problems).toEqual([expect.objectContaining({ kind: EvidenceProblemKind.SummaryMismatch })]);

    const p5 = pack();
    p5.checkpoint.rootHash = '11'.repeat(32);
    const kinds5 = verifyEvidencePack(p5).problems.map((x) => x.kind);
    expect(kinds5).toEqual(expect.arrayContaining([EvidenceProblemKind.BadSignature, EvidenceProblemKind.CheckpointAltered, EvidenceProblemKind.NotIncluded]));

    const other = new CheckpointSigner(Buffer.alloc(32, 9).toString('base64'));
    expect(verifyEvidencePack(pack(), other.publicKeyRaw).problems.map((x) => x.kind)).toEqual(expect.arrayContaining([EvidenceProblemKind.UnknownKey, EvidenceProblemKind.BadSignature]));
  });

  it('reports rather than throws on something that is not a pack', () => {
    expect(verifyEvidencePack(null)).toMatchObject({ ok: false, problems: [expect.objectContaining({ kind: EvidenceProblemKind.Malformed })] });
    const p = pack();
    (p.records[0] as unknown as { proof: unknown }).proof = 'nope';
    expect(verifyEvidencePack(p).ok).toBe(false);
  });
});
