import { hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode, RECOVERY_CODE_COUNT } from './recovery-codes';

describe('recovery codes', () => {
  it('makes ten distinct codes of 16 base32 characters in groups of four', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
  });

  it('reads a code back whatever its case, spaces or dashes', () => {
    expect(normaliseRecoveryCode('ABCD-EFGH-ijkl-mn23')).toBe('abcdefghijklmn23');
    expect(normaliseRecoveryCode(' abcd efgh ijkl mn23 ')).toBe('abcdefghijklmn23');
  });

  it('refuses what cannot be a recovery code', () => {
    for (const s of ['', '123456', 'abcd-efgh-ijkl', 'abcd-efgh-ijkl-mn01', 'abcd-efgh-ijkl-mnop-q']) expect(normaliseRecoveryCode(s)).toBeNull();
  });

  it('stores only a hash, the same for the same code', () => {
    const hash = hashRecoveryCode('abcdefghijklmn23');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode('abcdefghijklmn23')).toBe(hash);
    expect(hashRecoveryCode('abcdefghijklmn24')).not.toBe(hash);
  });
});
