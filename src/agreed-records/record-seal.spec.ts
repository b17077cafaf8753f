import { createHash } from 'node:crypto';
import { canonicalJson, changedFields, SEAL_FORMAT, sealOf } from './record-seal';

describe('canonicalJson', () => {
  it('sorts object keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }, 'x'] })).toBe('{"a":[{"c":null,"d":2},"x"],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('writes undefined as null and dates as ISO text', () => {
    expect(canonicalJson([undefined, new Date('2026-11-29T06:00:00Z')])).toBe('[null,"2026-11-29T06:00:00.000Z"]');
  });
});

describe('sealOf', () => {
  const fields = [['summary', 'Spoke with the leader'], ['agreedActions', [{ owner: 'CE', description: 'Plan' }]]] as const;

  it('hashes the format, the type and the named fields in order (known answer)', () => {
    const expected = createHash('sha256')
      .update(`["${SEAL_FORMAT}","conversation",[["summary","Spoke with the leader"],["agreedActions",[{"description":"Plan","owner":"CE"}]]]]`)
      .digest('hex');
    expect(sealOf('conversation', fields).contentHash).toBe(expected);
  });

  it('changes with any field, the type or the field order', () => {
    const base = sealOf('conversation', fields).contentHash;
    expect(sealOf('conversation', [['summary', 'Spoke with the leader.'], fields[1]]).contentHash).not.toBe(base);
    expect(sealOf('meeting', fields).contentHash).not.toBe(base);
    expect(sealOf('conversation', [fields[1], fields[0]]).contentHash).not.toBe(base);
  });

  it('names the fields that changed', () => {
    const before = sealOf('conversation', fields).fieldHashes;
    const after = sealOf('conversation', [fields[0], ['agreedActions', []]]).fieldHashes;
    expect(changedFields(before, after)).toEqual(['agreedActions']);
    expect(changedFields(before, before)).toEqual([]);
    expect(changedFields(before, { summary: before.summary })).toEqual(['agreedActions']);
  });
});
