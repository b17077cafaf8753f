import { checkTotp, isFreshStep, newTotpSecret, otpauthUri, totpCodeAt, totpStepAt } from './totp';

// RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890", in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP', () => {
  it('computes the RFC 6238 test vectors (last six digits)', () => {
    expect(totpCodeAt(RFC_SECRET, totpStepAt(59_000))).toBe('287082');
    expect(totpCodeAt(RFC_SECRET, totpStepAt(1_111_111_109_000))).toBe('081804');
    expect(totpCodeAt(RFC_SECRET, totpStepAt(1_234_567_890_000))).toBe('005924');
    expect(totpCodeAt(RFC_SECRET, totpStepAt(2_000_000_000_000))).toBe('279037');
  });

  it('numbers 30-second steps from the epoch', () => {
    expect(totpStepAt(0)).toBe(0);
    expect(totpStepAt(29_999)).toBe(0);
    expect(totpStepAt(30_000)).toBe(1);
  });

  it('makes 160-bit base32 secrets and an otpauth URI naming the issuer and account', () => {
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(newTotpSecret()).not.toBe(secret);
    const uri = otpauthUri(secret, 'manager@example.org', 'Clearing house');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Clearing%20house:manager%40example\.org\?/);
    expect(uri).toContain(`secret=${secret}`);
    expect(uri).toContain('issuer=Clearing%20house');
  });
});

describe('the replay rule', () => {
  it('accepts any step when no code was ever used', () => {
    expect(isFreshStep(0, null)).toBe(true);
    expect(isFreshStep(57_000_000, null)).toBe(true);
  });

  it('accepts only steps later than the last one used', () => {
    expect(isFreshStep(101, 100)).toBe(true);
    expect(isFreshStep(100, 100)).toBe(false);
    expect(isFreshStep(99, 100)).toBe(false);
  });
});

describe('checkTotp', () => {
  const secret = newTotpSecret();
  const now = 1_764_380_000_000 + 12_345;
  const step = totpStepAt(now);
  const code = (s: number) => totpCodeAt(secret, s);

  it('accepts the current code and says which step it used', () => {
    expect(checkTotp(secret, code(step), now, null)).toEqual({ ok: true, step });
  });

  it('accepts the previous and the next step (clock drift), but nothing further', () => {
    expect(checkTotp(secret, code(step - 1), now, null)).toEqual({ ok: true, step: step - 1 });
    expect(checkTotp(secret, code(step + 1), now, null)).toEqual({ ok: true, step: step + 1 });
    for (const far of [step - 2, step + 2, step - 100]) {
      const c = code(far);
      // (a far code may by chance equal a code in the window; then it is that code)
      if ([step - 1, step, step + 1].some((s) => code(s) === c)) continue;
      expect(checkTotp(secret, c, now, null)).toEqual({ ok: false, reason: 'wrong_code' });
    }
  });

  it('refuses a code of the step already used, and of any earlier step, as a replay', () => {
    expect(checkTotp(secret, code(step), now, step)).toEqual({ ok: false, reason: 'replayed_code' });
    expect(checkTotp(secret, code(step - 1), now, step)).toEqual({ ok: false, reason: 'replayed_code' });
    expect(checkTotp(secret, code(step), now, step + 1)).toEqual({ ok: false, reason: 'replayed_code' });
  });

  it('still accepts a later step in the window after one was used', () => {
    expect(checkTotp(secret, code(step + 1), now, step)).toEqual({ ok: true, step: step + 1 });
    expect(checkTotp(secret, code(step), now, step - 1)).toEqual({ ok: true, step });
  });

  it('refuses a wrong code and anything that is not six digits', () => {
    const wrong = String((Number(code(step)) + 1) % 1_000_000).padStart(6, '0');
    if (![step - 1, step, step + 1].some((s) => code(s) === wrong)) {
      expect(checkTotp(secret, wrong, now, null)).toEqual({ ok: false, reason: 'wrong_code' });
    }
    for (const malformed of ['', '12345', '1234567', 'abcdef', ` ${code(step)}`]) {
      expect(checkTotp(secret, malformed, now, null)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses the code of another secret', () => {
    expect(checkTotp(newTotpSecret(), code(step), now, null).ok).toBe(false);
  });
});
