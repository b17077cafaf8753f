import { DomainError } from './domain-error';
import { ErrorCode } from './error-code';
import { assertSafeBody, MAX_BODY_DEPTH } from './body-safety';

function refusal(body: unknown): DomainError | undefined {
  try {
    assertSafeBody(body);
    return undefined;
  } catch (e) {
    return e as DomainError;
  }
}

describe('assertSafeBody', () => {
  it('lets ordinary bodies through, unicode included', () => {
    expect(refusal(undefined)).toBeUndefined();
    expect(refusal({ name: 'Zoë 東京 👩‍👩‍👧', attendees: [{ organisation: "'; DROP TABLE cases; --" }], version: 2, active: false, none: null })).toBeUndefined();
    expect(refusal([[[{ a: 1 }]]])).toBeUndefined();
  });

  it(`refuses nesting deeper than ${MAX_BODY_DEPTH} levels with 400 BAD_REQUEST, without recursing`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(refusal(deep)?.code).toBe(ErrorCode.BadRequest);
    let justDeepEnough: unknown = 'leaf';
    for (let i = 0; i < MAX_BODY_DEPTH; i++) justDeepEnough = { a: justDeepEnough };
    expect(refusal(justDeepEnough)).toBeUndefined();
    expect(refusal({ wrap: justDeepEnough })?.code).toBe(ErrorCode.BadRequest);
  });

  it('refuses prototype keys anywhere, naming them', () => {
    const body = JSON.parse('{"name":"x","__proto__":{"polluted":1},"nested":{"constructor":{"prototype":{}}},"list":[{"prototype":1}]}');
    const e = refusal(body);
    expect(e?.code).toBe(ErrorCode.ValidationFailed);
    expect(e?.fieldErrors?.map((f) => f.field).sort()).toEqual(['__proto__', 'list.0.prototype', 'nested.constructor']);
  });

  it('refuses NUL characters and unpaired surrogates in values and keys, but not surrogate pairs', () => {
    expect(refusal({ description: 'a\u0000b' })?.fieldErrors?.[0].field).toBe('description');
    expect(refusal({ source: { name: 'x\uD800' } })?.fieldErrors?.[0].field).toBe('source.name');
    expect(refusal({ list: ['\uDC00y'] })?.fieldErrors?.[0].field).toBe('list.0');
    expect(refusal({ 'k\u0000': 1 })?.code).toBe(ErrorCode.ValidationFailed);
    expect(refusal({ emoji: '\uD83D\uDE00' })).toBeUndefined();
  });
});
