import fc from 'fast-check';

/*
 * Request generation from the OpenAPI document the application serves: which write endpoints
 * exist, what their bodies look like, and arbitraries that produce valid-ish, boundary, wrong,
 * hostile and fully random requests for them. Values that name real records are symbolic
 * (Ref, CurrentVersion) and resolved when the request is sent, against the fixtures that exist
 * then, so that counterexamples stay readable and shrinkable.
 */

export interface Schema {
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  example?: unknown;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  default?: unknown;
  description?: string;
  additionalProperties?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  security?: Array<Record<string, unknown>>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export type HttpMethod = 'post' | 'put' | 'patch' | 'delete';
export const WRITE_METHODS: HttpMethod[] = ['post', 'put', 'patch', 'delete'];

export interface WriteEndpoint {
  key: string;
  method: HttpMethod;
  path: string;
  pathParams: Array<{ name: string; kind: RefKind | null }>;
  queryParams: Parameter[];
  /** The request body schema, resolved; null when the operation takes no body. */
  bodySchema: Schema | null;
  /** Problems that stop the generator from targeting this endpoint (the coverage test fails on them). */
  problems: string[];
}

/** Kinds of records the fixtures provide, addressed by symbolic references. */
export type RefKind = 'case' | 'concern' | 'conversation' | 'support' | 'meeting' | 'user' | 'party' | 'notification' | 'authority' | 'review' | 'emailOutbox' | 'breakGlass' | 'deadline' | 'sourceRelease' | 'flag' | 'accessReview' | 'accessReviewItem' | 'liaison' | 'packItem' | 'compartment';

/** Which record a path parameter names, from the path segment before it (`/cases/{id}` is a case). */
export const PATH_SEGMENT_KIND: Record<string, RefKind> = {
  cases: 'case',
  concerns: 'concern',
  conversations: 'conversation',
  support: 'support',
  'pre-intervention-meetings': 'meeting',
  users: 'user',
  team: 'user',
  parties: 'party',
  inbox: 'notification',
  authorities: 'authority',
  reviews: 'review',
  email: 'emailOutbox',
  'break-glass': 'breakGlass',
  deadlines: 'deadline',
  releases: 'sourceRelease',
  flags: 'flag',
  'access-reviews': 'accessReview',
  items: 'accessReviewItem',
  liaisons: 'liaison',
  'pack-items': 'packItem',
  compartments: 'compartment',
  staff: 'user',
};

export class Ref {
  constructor(
    readonly kind: RefKind,
    readonly pick: number,
    /** For cases: by id or by reference (CH-2026-0042). */
    readonly form: 'id' | 'reference' = 'id',
  ) {}
  [fc.toStringMethod](): string {
    return `Ref(${this.kind}#${this.pick}${this.form === 'reference' ? ',reference' : ''})`;
  }
}

/** The version of the record the request targets, read just before sending. */
export class CurrentVersion {
  constructor(readonly offset: number) {}
  [fc.toStringMethod](): string {
    return `CurrentVersion(${this.offset >= 0 ? '+' : ''}${this.offset})`;
  }
}

/** One of the fixtures' e-mail addresses / refresh tokens. */
export class PoolValue {
  constructor(
    readonly pool: 'email' | 'refreshToken' | 'password',
    readonly pick: number,
  ) {}
  [fc.toStringMethod](): string {
    return `PoolValue(${this.pool}#${this.pick})`;
  }
}

/** A path segment sent exactly as given (not percent-encoded): malformed escapes and the like. */
export class RawSegment {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `RawSegment(${JSON.stringify(this.text)})`;
  }
}

/** A request body: JSON (generated as a value, symbolic parts resolved at send time) or raw bytes. */
export type WireBody =
  | { kind: 'json'; value: unknown; contentType?: string }
  | { kind: 'form'; value: Record<string, unknown> }
  | { kind: 'raw'; text: string; contentType: string; contentEncoding?: string }
  | { kind: 'none' };

export function resolveRef(doc: OpenApiDocument, schema: Schema, seen: string[] = []): Schema {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    if (seen.includes(name)) throw new Error(`recursive schema ${name}`);
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`unresolvable ${schema.$ref}`);
    return resolveRef(doc, { ...target, ...withoutKeys(schema, ['$ref']) }, [...seen, name]);
  }
  if (schema.allOf) {
    let merged: Schema = withoutKeys(schema, ['allOf']);
    for (const part of schema.allOf) merged = { ...resolveRef(doc, part, seen), ...merged };
    return merged;
  }
  return schema;
}

function withoutKeys<T extends object>(o: T, keys: string[]): T {
  const copy = { ...o } as Record<string, unknown>;
  for (const k of keys) delete copy[k];
  return copy as T;
}

/** Every POST/PUT/PATCH/DELETE operation of the document, with what the generator needs to know. */
export function writeEndpoints(doc: OpenApiDocument): WriteEndpoint[] {
  const out: WriteEndpoint[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!(WRITE_METHODS as string[]).includes(method)) continue;
      const problems: string[] = [];
      const segments = path.split('/').filter(Boolean);
      const pathParams = (op.parameters ?? [])
        .filter((p) => p.in === 'path')
        .map((p) => {
          const index = segments.indexOf(`{${p.name}}`);
          const kind = index > 0 ? PATH_SEGMENT_KIND[segments[index - 1]] ?? null : null;
          if (!kind) problems.push(`path parameter {${p.name}} of ${path}: no fixture kind for the segment before it (add it to PATH_SEGMENT_KIND and to the fixtures)`);
          return { name: p.name, kind };
        });
      for (const placeholder of path.match(/\{[^}]+\}/g) ?? []) {
        if (!pathParams.some((p) => `{${p.name}}` === placeholder)) problems.push(`${placeholder} in ${path} is not a documented path parameter`);
      }
      const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
      for (const p of op.parameters ?? []) {
        if (p.required && p.in !== 'path') problems.push(`${method.toUpperCase()} ${path}: required ${p.in} parameter ${p.name} (the generator sends none)`);
      }
      let bodySchema: Schema | null = null;
      if (op.requestBody) {
        const json = op.requestBody.content['application/json'];
        if (!json) problems.push(`${method.toUpperCase()} ${path}: request body is not application/json (${Object.keys(op.requestBody.content).join(', ')})`);
        else {
          try {
            bodySchema = resolveRef(doc, json.schema);
            checkSupported(doc, bodySchema, `${method.toUpperCase()} ${path} body`, problems);
          } catch (e) {
            problems.push(`${method.toUpperCase()} ${path}: ${(e as Error).message}`);
          }
        }
      }
      out.push({ key: `${method.toUpperCase()} ${path}`, method: method as HttpMethod, path, pathParams, queryParams, bodySchema, problems });
    }
  }
  return out;
}

const SUPPORTED_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean']);

function checkSupported(doc: OpenApiDocument, schema: Schema, where: string, problems: string[], depth = 0): void {
  const s = resolveRef(doc, schema);
  if (depth > 8) return void problems.push(`${where}: nesting too deep for the generator`);
  if (s.oneOf || s.anyOf) problems.push(`${where}: oneOf/anyOf is not supported by the generator`);
  if (s.enum) return;
  const type = s.type ?? (s.properties ? 'object' : undefined);
  if (!type || !SUPPORTED_TYPES.has(type)) return void problems.push(`${where}: unsupported schema ${JSON.stringify(s).slice(0, 200)}`);
  if (type === 'array') {
    if (!s.items) return void problems.push(`${where}: array without items`);
    checkSupported(doc, s.items, `${where}[]`, problems, depth + 1);
  }
  if (type === 'object') for (const [k, v] of Object.entries(s.properties ?? {})) checkSupported(doc, v, `${where}.${k}`, problems, depth + 1);
}

// ---------------------------------------------------------------------------------------------
// Hostile values

export const SQL_INJECTIONS = [
  `'; DROP TABLE cases; --`,
  `Robert'); DROP TABLE users;--`,
  `' OR '1'='1`,
  `1; SELECT pg_sleep(5); --`,
  `' UNION SELECT password_hash, email FROM users --`,
  `$1 $2 $$ $body$ \\x00`,
  `'); TRUNCATE audit_events; --`,
];

export const MARKUP_INJECTIONS = [
  `<script>alert("x")</script>`,
  `"><img src=x onerror=alert(1)>`,
  `{{constructor.constructor('return process')()}}`,
  '${process.env.JWT_SECRET}',
  `=HYPERLINK("http://evil.example","click")`,
  `../../../../etc/passwd`,
  `%00%0d%0aSet-Cookie: evil=1`,
  `\r\nX-Injected: 1`,
];

export const UNICODE_STRINGS = [
  'Zoë Ångström-Ōsaka 東京 مرحبا',
  '\u202Egnirts desrever\u202C',
  '👩‍👩‍👧‍👦 🇬🇧 🏳️‍🌈',
  'e\u0301\u0301\u0301 combining',
  'İstanbul ǅ ß ﬁ',
  '\uFEFFbom at start',
  'zero\u200Bwidth\u200Djoiner',
  '\u00A0non-breaking\u3000ideographic space',
];

/** Strings PostgreSQL text cannot hold or that do not survive UTF-8 as given. */
export const UNSTORABLE_STRINGS = ['nul \u0000 inside', 'lone \uD800 surrogate', 'low \uDC00 surrogate'];

export const HOSTILE_STRINGS = [...SQL_INJECTIONS, ...MARKUP_INJECTIONS, ...UNICODE_STRINGS, ...UNSTORABLE_STRINGS];

/** Markers that identify a hostile string in a request, to check that it comes back unchanged. */
export const INERT_MARKERS = ['\u0000', 'surrogate', 'DROP TABLE', `' OR '`, 'pg_sleep', 'UNION SELECT', '$body$', 'TRUNCATE', '<script>', 'onerror=', '{{constructor', '${process', 'HYPERLINK', 'etc/passwd', 'Set-Cookie', 'X-Injected', 'Ångström', '\u202E', '👩', 'combining', 'İstanbul', 'bom at start', 'zero\u200B', 'non-breaking'];

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

export const BOUNDARY_NUMBERS = [0, -1, 1, 2, 2 ** 31 - 1, 2 ** 31, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e21, -1e21, 1.5, 0.1, -0, 1e-7, 1.7976931348623157e308];

export const BOUNDARY_DATES = ['0000-01-01', '0001-01-01', '1900-02-29', '1970-01-01', '2024-02-29', '2025-02-29', '2026-13-01', '2026-00-10', '2026-04-31', '9999-12-31', '99999-01-01', '2026-1-1', '2026-01-01T00:00:00Z', '20260101', '-2026-01-01', '2026-01-01\n'];

/**
 * Authorities this file writes about (concerns, early-warning signals, commitments): ones no other
 * test file uses, so that their exact counts are not disturbed by a concurrent run.
 */
export const HOSTILE_AUTHORITIES = ['SOL', 'DUD', 'WLV', 'GAT'];
export const AUTHORITY_CODES = [...HOSTILE_AUTHORITIES, 'E08000029', 'ZZZ', 'E99999999', 'sol', 'E0800002', 'SOLIHULL'];

const word = fc.constantFrom('budget', 'leader', 'council', 'plan', 'review', 'chief', 'executive', 'peer', 'officer', 'audit', 'support');

export const plainText = (): fc.Arbitrary<string> =>
  fc.array(word, { minLength: 1, maxLength: 8 }).map((w) => w.join(' '));

/** Strings of every kind: plain, hostile, random code points (NUL and control characters included), padded, at and past typical limits. */
export function anyString(opts: { prefix?: string } = {}): fc.Arbitrary<string> {
  const base = fc.oneof(
    { weight: 4, arbitrary: plainText() },
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 2, arbitrary: fc.tuple(plainText(), fc.constantFrom(...HOSTILE_STRINGS)).map(([a, b]) => `${a} ${b}`) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '   \t\n ', '\u00A0') },
    { weight: 1, arbitrary: fc.constantFrom(1, 2, 19, 20, 21, 119, 120, 121, 199, 200, 201, 254, 255, 1024, 1025, 2000, 2001, 20000, 20001, 50000, 50001).chain((n) => fc.constantFrom('x', 'é', '字', '😀').map((c) => c.repeat(n))) },
  );
  if (!opts.prefix) return base;
  const prefix = opts.prefix;
  return fc.oneof({ weight: 3, arbitrary: base.map((s) => `${prefix} ${s}`) }, { weight: 1, arbitrary: base });
}

/** A random JSON value of the wrong kind for wherever it is put. */
export function wrongValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom(...BOUNDARY_NUMBERS),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.constant({}),
    fc.constant([]),
    fc.jsonValue({ maxDepth: 3 }),
    fc.array(fc.constantFrom(...HOSTILE_STRINGS), { maxLength: 3 }),
    fc.constantFrom('true', 'false', '1', 'null', 'undefined', 'NaN', '[]', '{}'),
  );
}

export interface GeneratorContext {
  /** Prefix for generated party/user names and e-mail domain, so the fixtures' fingerprint can find rows the requests created. */
  tag: string;
  emailDomain: string;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function isDateField(name: string, s: Schema): boolean {
  return (typeof s.example === 'string' && DATE_RE.test(s.example)) || /(On|Until)$/.test(name) || (Array.isArray(s.example) && typeof s.example[0] === 'string' && DATE_RE.test(s.example[0]));
}

function refKindOfField(name: string): RefKind | null {
  if (/^(caseId|case)$/.test(name)) return 'case';
  if (/^(userId|teamMember|actorId)$/.test(name) || /UserIds?$/.test(name) || /ParticipantIds?$/.test(name)) return 'user';
  if (/^partyIds?$/.test(name)) return 'party';
  if (/^recordIds?$/.test(name)) return 'conversation';
  if (/^supportIds?$/.test(name)) return 'support';
  if (/^meetingIds?$/.test(name)) return 'meeting';
  if (/^concernIds?$/.test(name)) return 'concern';
  return null;
}

export function refArb(kind: RefKind): fc.Arbitrary<unknown> {
  const real = kind === 'case'
    ? fc.tuple(fc.nat(), fc.constantFrom<'id' | 'reference'>('id', 'reference')).map(([n, form]) => new Ref(kind, n, form))
    : fc.nat().map((n) => new Ref(kind, n));
  return fc.oneof(
    { weight: 6, arbitrary: real },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF') },
    // References of years no case is opened in, so random ones never name another test's case.
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1000, max: 2020 }), fc.integer({ min: 0, max: 99_999_999 })).map(([y, n]) => `CH-${y}-${String(n).padStart(4, '0')}`) },
    { weight: 1, arbitrary: fc.constantFrom('CH-1999-99999999999999999999', 'CH-0000-0000', 'ch-2026-0001', 'CH-2026-1', 'not-a-uuid', '') },
    { weight: 1, arbitrary: anyString() },
  );
}

/**
 * Values for a schema. 'valid': what a careful client sends (real records, current versions,
 * valid dates; free text may still be hostile, as a hostile client's text is valid text).
 * 'validish': mostly right, sometimes at or past the boundaries or of the wrong kind.
 */
export function valueArb(doc: OpenApiDocument, schema: Schema, name: string, ctx: GeneratorContext, mode: 'valid' | 'validish', depth = 0): fc.Arbitrary<unknown> {
  const s = resolveRef(doc, schema);
  const valid = mode === 'valid';
  if (s.enum) {
    if (valid) return fc.constantFrom(...s.enum);
    return fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...s.enum) }, { weight: 1, arbitrary: fc.constantFrom(...s.enum).map((v) => (typeof v === 'string' ? v.toUpperCase() : v)) }, { weight: 1, arbitrary: anyString() });
  }
  const type = s.type ?? (s.properties ? 'object' : 'string');
  switch (type) {
    case 'boolean':
      return valid ? fc.boolean() : fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 1, 0) });
    case 'number':
    case 'integer':
      if (name === 'version') {
        if (valid) return fc.constant(new CurrentVersion(0));
        return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(new CurrentVersion(0)) }, { weight: 1, arbitrary: fc.constantFrom(new CurrentVersion(-1), new CurrentVersion(1)) }, { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_NUMBERS) });
      }
      if (valid) return fc.integer({ min: 1, max: 50 });
      return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 2, arbitrary: fc.constantFrom(...BOUNDARY_NUMBERS) });
    case 'array': {
      const items = valueArb(doc, s.items ?? {}, name, ctx, mode, depth + 1);
      if (valid) return fc.array(items, { maxLength: 3 });
      return fc.oneof({ weight: 8, arbitrary: fc.array(items, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(items, { minLength: 49, maxLength: 102 }) });
    }
    case 'object': {
      if (depth > 6) return fc.constant({});
      const required = new Set(s.required ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) model[k] = valueArb(doc, v, k, ctx, mode, depth + 1);
      return fc.record(model, { requiredKeys: Object.keys(model).filter((k) => required.has(k)) });
    }
    default:
      return valid ? validStringArb(s, name, ctx) : stringArb(s, name, ctx);
  }
}

/** Hostile text that is still valid text: SQL, markup, template and formula injection, unicode. */
export const INJECTION_TEXT = [...SQL_INJECTIONS, ...MARKUP_INJECTIONS, ...UNICODE_STRINGS];

function validStringArb(s: Schema, name: string, ctx: GeneratorContext): fc.Arbitrary<unknown> {
  const kind = refKindOfField(name) ?? (s.format === 'uuid' || /Ids?$/.test(name) ? 'user' : null);
  if (kind) return kind === 'case' ? fc.tuple(fc.nat(), fc.constantFrom<'id' | 'reference'>('id', 'reference')).map(([n, form]) => new Ref(kind, n, form)) : fc.nat().map((n) => new Ref(kind, n));
  if (/email/i.test(name)) return fc.stringMatching(/^[a-z][a-z0-9]{2,20}$/).map((local) => `${local}@${ctx.emailDomain}`);
  if (/password/i.test(name)) return fc.oneof(fc.nat().map((n) => new PoolValue('password', n)), fc.tuple(plainText(), fc.nat(9999)).map(([w, n]) => `${w} hostile passphrase ${n}`));
  if (/token/i.test(name)) return fc.nat().map((n) => new PoolValue('refreshToken', n));
  if (name === 'authority') return fc.constantFrom(...HOSTILE_AUTHORITIES);
  if (isDateField(name, s)) return fc.date({ min: new Date('2020-01-01'), max: new Date('2025-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
  const text = fc.oneof(
    { weight: 2, arbitrary: word },
    { weight: 2, arbitrary: plainText() },
    { weight: 3, arbitrary: fc.constantFrom(...INJECTION_TEXT) },
    { weight: 3, arbitrary: fc.tuple(plainText(), fc.constantFrom(...INJECTION_TEXT)).map(([a, b]) => `${a} ${b}`) },
  );
  const named = name === 'name' || name === 'displayName' ? text.map((x) => `${ctx.tag} ${x}`) : text;
  return s.maxLength ? named.map((x) => x.slice(0, s.maxLength)) : named;
}

function stringArb(s: Schema, name: string, ctx: GeneratorContext): fc.Arbitrary<unknown> {
  const kind = refKindOfField(name);
  if (kind) return refArb(kind);
  if (s.format === 'uuid' || /Ids?$/.test(name)) return refArb('user');
  if (/email/i.test(name)) {
    return fc.oneof(
      { weight: 3, arbitrary: fc.nat().map((n) => new PoolValue('email', n)) },
      { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9.]{0,20}$/).map((local) => `${local}@${ctx.emailDomain}`) },
      { weight: 1, arbitrary: fc.constantFrom(`UPPER.Case@${ctx.emailDomain.toUpperCase()}`, `  padded@${ctx.emailDomain}  `, `"quoted local"@${ctx.emailDomain}`, `a@b`, `@${ctx.emailDomain}`, `x@${'a'.repeat(250)}.example`, `${'l'.repeat(65)}@${ctx.emailDomain}`, `o'brien@${ctx.emailDomain}`) },
      { weight: 1, arbitrary: anyString() },
    );
  }
  if (/password/i.test(name)) {
    return fc.oneof(
      { weight: 3, arbitrary: fc.nat().map((n) => new PoolValue('password', n)) },
      { weight: 2, arbitrary: fc.tuple(plainText(), fc.nat(9999)).map(([w, n]) => `${w} hostile passphrase ${n}`) },
      { weight: 1, arbitrary: fc.constantFrom('short', 'password1234', '123456789012', 'x'.repeat(1024), 'x'.repeat(1025), '', `'; DROP TABLE users; -- long enough`) },
      { weight: 1, arbitrary: anyString() },
    );
  }
  if (/token/i.test(name)) {
    return fc.oneof({ weight: 3, arbitrary: fc.nat().map((n) => new PoolValue('refreshToken', n)) }, { weight: 2, arbitrary: anyString() }, { weight: 1, arbitrary: fc.base64String({ maxLength: 300 }) });
  }
  if (name === 'authority') return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...AUTHORITY_CODES) }, { weight: 1, arbitrary: anyString() });
  if (isDateField(name, s)) {
    return fc.oneof(
      { weight: 6, arbitrary: fc.date({ min: new Date('2015-01-01'), max: new Date('2027-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
      { weight: 3, arbitrary: fc.constantFrom(...BOUNDARY_DATES) },
      { weight: 1, arbitrary: anyString() },
    );
  }
  const prefix = name === 'name' || name === 'displayName' ? ctx.tag : undefined;
  return anyString({ prefix });
}

/** Object nodes of a JSON value, depth first (for mutations that pick one). */
function objectNodes(v: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(v)) for (const x of v) objectNodes(x, out);
  else if (v && typeof v === 'object' && !(v instanceof Ref) && !(v instanceof CurrentVersion) && !(v instanceof PoolValue)) {
    out.push(v as Record<string, unknown>);
    for (const x of Object.values(v)) objectNodes(x, out);
  }
  return out;
}

/** Deep copy that keeps symbolic values and own `__proto__` keys as they are. */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) defineOwn(out, k, cloneJson((v as Record<string, unknown>)[k]));
    return out as T;
  }
  return v;
}

/** Sets an own enumerable property, even `__proto__` (which plain assignment would turn into a prototype change). */
export function defineOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

export type Mutation =
  | { op: 'drop'; node: number; key: number }
  | { op: 'replace'; node: number; key: number; value: unknown }
  | { op: 'unknown'; node: number; key: string; value: unknown }
  | { op: 'proto'; node: number; key: string; value: unknown };

export function mutationArb(): fc.Arbitrary<Mutation> {
  const node = fc.nat(20);
  return fc.oneof(
    fc.record({ op: fc.constant('drop' as const), node, key: fc.nat(30) }),
    fc.record({ op: fc.constant('replace' as const), node, key: fc.nat(30), value: wrongValue() }),
    fc.record({
      op: fc.constant('unknown' as const),
      node,
      key: fc.oneof(fc.constantFrom('isAdmin', 'role', 'id', 'createdAt', 'deletedAt', 'version ', 'Description', 'password_hash', 'caseid', '$where', 'a.b', ''), fc.string({ minLength: 1, maxLength: 12 })),
      value: wrongValue(),
    }),
    fc.record({
      op: fc.constant('proto' as const),
      node,
      key: fc.constantFrom(...PROTO_KEYS),
      value: fc.constantFrom<unknown>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, { isAdmin: true, role: 'administrator' }, 'polluted', null),
    }),
  );
}

export function applyMutations(body: unknown, mutations: Mutation[]): unknown {
  const copy = cloneJson(body);
  for (const m of mutations) {
    const nodes = objectNodes(copy);
    if (nodes.length === 0) break;
    const target = nodes[m.node % nodes.length];
    const keys = Object.keys(target);
    if (m.op === 'drop') {
      if (keys.length) delete target[keys[m.key % keys.length]];
    } else if (m.op === 'replace') {
      if (keys.length) defineOwn(target, keys[m.key % keys.length], cloneJson(m.value));
    } else {
      defineOwn(target, m.key, cloneJson(m.value));
    }
  }
  return copy;
}

/** Deeply nested JSON text (made by hand: JSON.stringify would overflow the stack first). */
export function deepJson(depth: number, style: 'array' | 'object'): string {
  return style === 'array' ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/**
 * Everything sent to a write endpoint: schema-driven bodies (valid-ish, mutated), fully random
 * JSON, deep nesting, oversized bodies, other content types and malformed JSON.
 */
export function bodyArb(doc: OpenApiDocument, endpoint: WriteEndpoint, ctx: GeneratorContext, limitBytes: number): fc.Arbitrary<WireBody> {
  const schema = endpoint.bodySchema ?? { type: 'object', properties: {} };
  const valid = valueArb(doc, schema, '', ctx, 'valid');
  const validish = valueArb(doc, schema, '', ctx, 'validish');
  const mutated = fc.tuple(validish, fc.array(mutationArb(), { minLength: 1, maxLength: 3 })).map(([b, ms]) => applyMutations(b, ms));
  const keys = Object.keys(resolveRef(doc, schema).properties ?? {});
  const deep = fc.tuple(fc.integer({ min: 16, max: 40_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.constantFrom(...(keys.length ? keys : ['x'])), fc.boolean()).map(
    ([depth, style, key, alone]): WireBody => {
      const nested = deepJson(style === 'object' ? Math.min(depth, 18_000) : depth, style);
      return { kind: 'raw', contentType: 'application/json', text: alone ? nested : `{${JSON.stringify(key)}:${nested}}` };
    },
  );
  const oversized = fc.tuple(validish, fc.integer({ min: limitBytes + 1, max: limitBytes * 4 }), fc.constantFrom(...(keys.length ? keys : ['padding'])), fc.constantFrom('x', 'é', '\u0000', '"')).map(
    ([b, size, key, ch]): WireBody => {
      const value = (b && typeof b === 'object' && !Array.isArray(b) ? cloneJson(b) : {}) as Record<string, unknown>;
      // Bytes of one character inside a JSON string (escaped where JSON needs it).
      const each = Buffer.byteLength(JSON.stringify(ch)) - 2;
      defineOwn(value, key, ch.repeat(Math.ceil(size / each) + 1));
      return { kind: 'json', value };
    },
  );
  const malformed = fc.oneof(
    fc.constantFrom('{', '{"a":', '{"a":1,}', "{'a':1}", '[1,2', 'nul', 'undefined', '{"a":NaN}', '{"a":Infinity}', '{"__proto__":', '\uFEFF{}', '{"a":"\\uZZZZ"}', '{"a":1}{"b":2}', ' ', ''),
    fc.string({ unit: 'binary', maxLength: 60 }),
  ).map((text): WireBody => ({ kind: 'raw', contentType: 'application/json', text }));
  const otherTypes = fc.tuple(validish, fc.constantFrom('text/plain', 'application/xml', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/vnd.api+json', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded')).map(
    ([b, contentType]): WireBody => contentType === 'application/x-www-form-urlencoded' && b && typeof b === 'object' && !Array.isArray(b) ? { kind: 'form', value: b as Record<string, unknown> } : { kind: 'json', value: b, contentType },
  );
  const badEncoding = fc.constantFrom<WireBody>({ kind: 'raw', contentType: 'application/json', text: '{"a":1}', contentEncoding: 'gzip' }, { kind: 'raw', contentType: 'application/json', text: '{"a":1}', contentEncoding: 'br;q=1, evil' });
  const topLevelOther = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom<unknown>(null, 0, 'string', true, [], [{}], [null]));
  return fc.oneof(
    { weight: 10, arbitrary: valid.map((value): WireBody => ({ kind: 'json', value })) },
    { weight: 8, arbitrary: validish.map((value): WireBody => ({ kind: 'json', value })) },
    { weight: 8, arbitrary: mutated.map((value): WireBody => ({ kind: 'json', value })) },
    { weight: 3, arbitrary: topLevelOther.map((value): WireBody => ({ kind: 'json', value })) },
    { weight: 2, arbitrary: fc.dictionary(anyString(), wrongValue(), { maxKeys: 6 }).map((value): WireBody => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: deep },
    { weight: 2, arbitrary: oversized },
    { weight: 2, arbitrary: malformed },
    { weight: 1, arbitrary: otherTypes },
    { weight: 1, arbitrary: badEncoding },
    { weight: 1, arbitrary: fc.constant<WireBody>({ kind: 'none' }) },
  );
}

/**
 * A path parameter: mostly a real record of the right kind, else random ids, references and
 * hostile strings. At most 500 characters: a much longer URL meets Node's own header-size limit
 * (16 KB), which answers 431 before the application sees the request.
 */
export function pathParamArb(kind: RefKind | null): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: kind ? refArb(kind) : fc.uuid() },
    { weight: 1, arbitrary: fc.nat().map((n) => new Ref(kind === 'user' ? 'case' : 'user', n)) },
    { weight: 1, arbitrary: fc.constantFrom(new RawSegment('%E0%A4%A'), new RawSegment('%'), new RawSegment('%00'), new RawSegment('..'), new RawSegment('%2e%2e'), new RawSegment('a%2Fb'), new RawSegment('%C0%AF'), new RawSegment(';id=1'), new RawSegment('CH-2026-0001%0d%0a')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  ).map((v) => (typeof v === 'string' && v.length > 500 ? v.slice(0, 500) : v));
}

/** Percent-encodes a path segment from its UTF-8 bytes (never throws, even on lone surrogates). */
export function encodeSegment(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Every string leaf of a JSON value with the key it sits under. */
export function stringLeaves(v: unknown, key = '', out: Array<{ key: string; value: string }> = []): Array<{ key: string; value: string }> {
  if (typeof v === 'string') out.push({ key, value: v });
  else if (Array.isArray(v)) for (const x of v) stringLeaves(x, key, out);
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) stringLeaves((v as Record<string, unknown>)[k], k, out);
  return out;
}
