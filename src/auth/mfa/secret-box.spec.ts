import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32));
  const userA = '00000000-0000-4000-8000-00000000000a';
  const userB = '00000000-0000-4000-8000-00000000000b';

  it('opens what it sealed, for the same associated data', () => {
    const sealed = box.seal('JBSWY3DPEHPK3PXP', userA);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, userA)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('uses a fresh IV every time', () => {
    expect(box.seal('same', userA)).not.toBe(box.seal('same', userA));
  });

  it("refuses another user's ciphertext (the user id is authenticated)", () => {
    expect(() => box.open(box.seal('secret', userA), userB)).toThrow();
  });

  it('refuses an altered ciphertext or tag', () => {
    const [v, iv, tag, ct] = box.seal('secret of twenty chars', userA).split('.');
    const flip = (s: string) => {
      const b = Buffer.from(s, 'base64url');
      b[0] ^= 1;
      return b.toString('base64url');
    };
    expect(() => box.open([v, iv, tag, flip(ct)].join('.'), userA)).toThrow();
    expect(() => box.open([v, iv, flip(tag), ct].join('.'), userA)).toThrow();
    expect(() => box.open([v, flip(iv), tag, ct].join('.'), userA)).toThrow();
    expect(() => box.open('v2.' + [iv, tag, ct].join('.'), userA)).toThrow();
    expect(() => box.open('not sealed', userA)).toThrow();
  });

  it('refuses what another key sealed', () => {
    expect(() => new SecretBox(randomBytes(32)).open(box.seal('secret', userA), userA)).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow();
    expect(SecretBox.fromBase64(randomBytes(32).toString('base64'))).toBeInstanceOf(SecretBox);
  });
});
