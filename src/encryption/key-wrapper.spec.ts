import { randomBytes } from 'node:crypto';
import { ConfiguredMasterKey, dataKeyContext, KeyUnwrapError, MasterKeyRing } from './key-wrapper';

describe('master key wrapping', () => {
  const master = ConfiguredMasterKey.fromBase64(randomBytes(32).toString('base64'));
  const context = dataKeyContext({ id: '00000000-0000-4000-8000-000000000001', caseId: '00000000-0000-4000-8000-000000000002', version: 1 });

  it('wraps and unwraps a data key; the wrapped form never contains it', async () => {
    const dataKey = randomBytes(32);
    const wrapped = await master.wrap(dataKey, context);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect((await master.unwrap(wrapped, context)).equals(dataKey)).toBe(true);
  });

  it('refuses another master key, another key context, or a changed wrapped key', async () => {
    const wrapped = await master.wrap(randomBytes(32), context);
    await expect(ConfiguredMasterKey.fromBase64(randomBytes(32).toString('base64')).unwrap(wrapped, context)).rejects.toThrow(KeyUnwrapError);
    await expect(master.unwrap(wrapped, context.replace(/1$/, '2'))).rejects.toThrow(KeyUnwrapError);
    const changed = Buffer.from(wrapped);
    changed[40] ^= 0x80;
    await expect(master.unwrap(changed, context)).rejects.toThrow(KeyUnwrapError);
  });

  it('names a master key by a fingerprint, and the ring finds the current or previous key by it', () => {
    const old = ConfiguredMasterKey.fromBase64(randomBytes(32).toString('base64'));
    const ring = new MasterKeyRing(master, old);
    expect(master.masterKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(ring.wrapperFor(master.masterKeyId)).toBe(master);
    expect(ring.wrapperFor(old.masterKeyId)).toBe(old);
    expect(() => new MasterKeyRing(master).wrapperFor(old.masterKeyId)).toThrow(KeyUnwrapError);
    expect(() => ConfiguredMasterKey.fromBase64('c2hvcnQ=')).toThrow();
  });
});
