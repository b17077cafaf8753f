import { createHash } from 'node:crypto';
import { drawSample, sampleKey, signOffBlocker } from './access-review-sample';
import { canonicalJson } from './canonical-json';
import { certificateAuditJustification, certificateHash, CERTIFICATE_FORMAT, DeletionCertificate } from './deletion-certificate';

describe('canonical JSON', () => {
  it('sorts keys at every depth and adds no whitespace, so key order never changes the bytes', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }], e: true })).toBe('{"a":[{"c":"x","d":null}],"b":1,"e":true}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('refuses what it cannot represent exactly', () => {
    expect(() => canonicalJson({ a: 1.5 })).toThrow();
    expect(() => canonicalJson({ a: () => 1 })).toThrow();
  });
});

describe('deletion certificate', () => {
  const cert: DeletionCertificate = {
    format: CERTIFICATE_FORMAT, certificateId: 'c1', caseId: 'k1', caseReference: 'CH-2026-0001', retentionReviewId: 'r1', retentionRule: 'withdrawn: 6 years after closure',
    dueOn: '2026-01-01', destroyedAt: '2026-11-25T10:00:00.000000Z', approvedBy: { userId: 'm1', role: 'clearing_house_manager' }, approvalReason: 'due',
    destroyed: [{ table: 'concerns', rows: 1, how: 'redacted' }],
  };

  it('hashes the canonical text with SHA-256, whatever order it is stored in', () => {
    const text = canonicalJson(cert);
    expect(certificateHash(cert)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(certificateHash(canonicalJson(JSON.parse(JSON.stringify({ ...cert }))))).toBe(certificateHash(cert));
    expect(certificateHash({ ...cert, destroyed: [{ table: 'concerns', rows: 2, how: 'redacted' }] })).not.toBe(certificateHash(cert));
    expect(certificateAuditJustification('ab')).toBe('sha256:ab');
  });
});

describe('access review sample', () => {
  const seed = 'ab'.repeat(32);
  const ids = Array.from({ length: 50 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

  it('is reproducible from the seed, whatever order the population comes in', () => {
    const a = drawSample(seed, ids, 10);
    expect(a).toHaveLength(10);
    expect(drawSample(seed, [...ids].reverse(), 10)).toEqual(a);
    expect(drawSample('cd'.repeat(32), ids, 10)).not.toEqual(a);
    expect(sampleKey(seed, ids[0])).toBe(createHash('sha256').update(Buffer.from(seed, 'hex')).update(ids[0]).digest('hex'));
  });

  it('takes the whole population when it is smaller than the sample', () => {
    expect(drawSample(seed, ids.slice(0, 3), 10).sort()).toEqual(ids.slice(0, 3));
  });

  it('signs off only an open review whose every item is decided', () => {
    expect(signOffBlocker([{ decision: 'confirmed' }, { decision: null }], 'open')).toBe('all_items_decided');
    expect(signOffBlocker([{ decision: 'confirmed' }, { decision: 'queried' }], 'open')).toBeNull();
    expect(signOffBlocker([], 'open')).toBeNull();
    expect(signOffBlocker([{ decision: 'confirmed' }], 'signed_off')).toBe('review_open');
  });
});
