import { randomBytes, randomUUID } from 'node:crypto';
import { ENVELOPE_HEADER_BYTES, EnvelopeError, openField, readHeader, sealField } from './envelope';

describe('field envelope (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const ref = { id: randomUUID(), version: 3 };
  const place = { table: 'concerns', column: 'description', rowId: randomUUID() };

  it('round-trips, with a fresh IV each time and the key named in the header', () => {
    const a = sealField(key, ref, place, 'Budget gap of £4m — caf\u00e9');
    const b = sealField(key, ref, place, 'Budget gap of £4m — caf\u00e9');
    expect(openField(key, ref, place, a)).toBe('Budget gap of £4m — caf\u00e9');
    expect(a.subarray(21, 33).equals(b.subarray(21, 33))).toBe(false);
    expect(readHeader(a)).toEqual({ format: 1, id: ref.id, version: 3 });
    expect(a.includes(Buffer.from('Budget'))).toBe(false);
  });

  it('refuses a flipped bit anywhere: header, IV, tag or ciphertext', () => {
    const sealed = sealField(key, ref, place, 'Leader and chief executive no longer speak');
    for (let byte = 0; byte < sealed.length; byte++) {
      const tampered = Buffer.from(sealed);
      tampered[byte] ^= 0x01;
      expect(() => openField(key, ref, place, tampered)).toThrow(EnvelopeError);
    }
  });

  it('refuses a value moved to another row, column or table', () => {
    const sealed = sealField(key, ref, place, 'secret');
    expect(() => openField(key, ref, { ...place, rowId: randomUUID() }, sealed)).toThrow(EnvelopeError);
    expect(() => openField(key, ref, { ...place, column: 'summary' }, sealed)).toThrow(EnvelopeError);
    expect(() => openField(key, ref, { ...place, table: 'conversation_records' }, sealed)).toThrow(EnvelopeError);
  });

  it('refuses the wrong key, another key version, or a relabelled header', () => {
    const sealed = sealField(key, ref, place, 'secret');
    expect(() => openField(randomBytes(32), ref, place, sealed)).toThrow(new EnvelopeError('authentication_failed'));
    expect(() => openField(key, { ...ref, version: 4 }, place, sealed)).toThrow(new EnvelopeError('wrong_key'));
    const relabelled = Buffer.from(sealed);
    relabelled.writeUInt32BE(4, 17);
    expect(() => openField(key, { ...ref, version: 4 }, place, relabelled)).toThrow(new EnvelopeError('authentication_failed'));
  });

  it('refuses what is not an envelope (plaintext, truncated)', () => {
    expect(() => readHeader(Buffer.from('A concern'))).toThrow(new EnvelopeError('malformed'));
    const sealed = sealField(key, ref, place, 'x');
    expect(() => openField(key, ref, place, sealed.subarray(0, ENVELOPE_HEADER_BYTES - 1))).toThrow(EnvelopeError);
  });
});
