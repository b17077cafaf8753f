import { canonicalJson, parseIdempotencyKey, requestFingerprint } from './idempotency-key';

describe('parseIdempotencyKey', () => {
  it('accepts a UUID, bare or as a quoted structured-field string', () => {
    const uuid = '8e03978e-40d5-43e8-bc93-6894a57f9324';
    expect(parseIdempotencyKey(uuid)).toEqual({ valid: true, key: uuid });
    expect(parseIdempotencyKey(`"${uuid}"`)).toEqual({ valid: true, key: uuid });
  });

  it('accepts base64url and ULID-like keys', () => {
    expect(parseIdempotencyKey('01JDZ3Q8KX9V4M2N7P5R6S8T0W').valid).toBe(true);
    expect(parseIdempotencyKey('abc_DEF-123~x.y:z+/=').valid).toBe(true);
  });

  it.each([
    ['too short', 'abc1234'],
    ['too long', 'a'.repeat(129)],
    ['empty', ''],
    ['spaces', 'key with spaces'],
    ['a repeated header (joined with a comma)', 'first-key-1, second-key-2'],
    ['non-ASCII', 'clé-idempotence'],
    ['control characters', 'abcdefgh\u0000'],
    ['an empty quoted string', '""'],
  ])('refuses %s, naming the header', (_what, raw) => {
    const r = parseIdempotencyKey(raw);
    expect(r.valid).toBe(false);
    if (!r.valid) expect(r.message).toContain('Idempotency-Key');
  });

  it('takes exactly 8 and 128 characters', () => {
    expect(parseIdempotencyKey('a'.repeat(8)).valid).toBe(true);
    expect(parseIdempotencyKey('a'.repeat(128)).valid).toBe(true);
  });
});

describe('requestFingerprint', () => {
  const body = { kind: 'mentoring', providers: [{ kind: 'peer', name: 'M' }], description: 'x' };

  it('ignores the order of object keys', () => {
    const reordered = { description: 'x', providers: [{ name: 'M', kind: 'peer' }], kind: 'mentoring' };
    expect(canonicalJson(body)).toBe(canonicalJson(reordered));
    expect(requestFingerprint('POST', '/cases/1/support', body).equals(requestFingerprint('post', '/cases/1/support', reordered))).toBe(true);
  });

  it('differs when the body, the path or the method differs', () => {
    const base = requestFingerprint('POST', '/cases/1/support', body);
    expect(base.equals(requestFingerprint('POST', '/cases/1/support', { ...body, description: 'y' }))).toBe(false);
    expect(base.equals(requestFingerprint('POST', '/cases/2/support', body))).toBe(false);
    expect(base.equals(requestFingerprint('PUT', '/cases/1/support', body))).toBe(false);
  });

  it('keeps array order (it is meaningful)', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('is a 32-byte SHA-256 digest', () => {
    expect(requestFingerprint('POST', '/concerns', undefined)).toHaveLength(32);
  });
});
