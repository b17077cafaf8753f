import fc from 'fast-check';
import { createHash, randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { AppConfig } from '../../src/config/app-config';
import { createTestApp, createUser, nextTotp, ownerDataSource, partyIdOf, signedIn, signIn, TEST_PASSWORD, TestApp } from '../support/app';
import {
  bodyArb, CurrentVersion, encodeSegment, GeneratorContext, HOSTILE_AUTHORITIES, INERT_MARKERS, OpenApiDocument, pathParamArb, PoolValue, RawSegment, Ref, RefKind,
  resolveRef, stringLeaves, WireBody, WriteEndpoint, writeEndpoints,
} from './openapi-fuzz';

/*
 * Property-based requests against every write endpoint (POST/PUT/PATCH/DELETE) the OpenAPI
 * document lists, so that a new endpoint is covered without touching this file (and the first
 * test fails if the generator cannot target it: a path parameter naming a kind of record it has
 * no fixture for, or a body schema it cannot read). Requests are signed in as each role that
 * gets past the permission guard (mostly the first: manager, officer, administrator…), target
 * this file's own records (a case in each stage, concerns, conversations, support, a meeting,
 * users, parties…) as well as random ids, and carry schema-driven bodies (valid, boundary,
 * wrong types, nulls, huge strings, extra fields, prototype keys, unicode, injection strings),
 * fully random JSON, deep nesting, oversized bodies, other content types and malformed JSON.
 * For each request:
 *
 *   - never a 5xx;
 *   - every 4xx has the one error shape (statusCode, error, message, requestId = X-Request-Id)
 *     and Cache-Control: no-store;
 *   - a top-level field the body schema does not name (including __proto__, constructor and
 *     prototype) is refused with 400;
 *   - a JSON or form body over BODY_LIMIT is refused with 413;
 *   - a refused request changes no row: a fingerprint (count, and md5 of xmin and ctid) of the
 *     rows of every table related to this file's own fixtures is identical before and after,
 *     and no row of those tables was written by a transaction that left an audit record with
 *     the request's id (other test files write to the same database concurrently, hence the
 *     scope; see fingerprint());
 *   - Object.prototype is never polluted (the application runs in this process);
 *   - hostile strings that are accepted (SQL, markup, template and formula injection, unicode)
 *     are read back byte for byte wherever they are read back (after the trim the DTOs apply),
 *     and every table is still there.
 *
 * HOSTILE_RUNS sets the runs per endpoint (default 40, which keeps this file around a minute);
 * HOSTILE_SEED varies the requests (default fixed, printed). A nightly-size run:
 *
 *   HOSTILE_RUNS=10000 npx jest test/hostile
 *
 * A failure prints the endpoint, the fast-check seed and path, and the counterexample; rerun it
 * with the same HOSTILE_SEED (and HOSTILE_RUNS) to reproduce.
 */

const RUNS = intFromEnv('HOSTILE_RUNS', 40);
const SEED = intFromEnv('HOSTILE_SEED', 20_261_120);

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`);
  return n;
}

/** A stable per-endpoint seed, so adding an endpoint does not change the requests sent to the others. */
function seedOf(endpointKey: string): number {
  return (SEED ^ createHash('sha256').update(endpointKey).digest().readInt32BE(0)) | 0;
}

/** The case-data tables, users and parties: fingerprinted with explicit scopes (below). */
const CASE_TABLES = [
  'cases', 'concerns', 'concern_sources', 'conversation_records', 'case_team_members', 'case_transitions',
  'improvement_support', 'support_progress_notes', 'pre_intervention_meetings', 'users', 'parties',
] as const;

/**
 * Not fingerprinted: the audit trail (a refusal is recorded, by design), reference data, and the
 * tables whose whole point is to count refusals (failed sign-ins, a reused refresh token ending
 * its session, failed second-factor attempts).
 */
const UNFINGERPRINTED = /^(audit_|schema_migrations$|authorities$|case_reference_counters$|sessions$|sign_in_locks$|mfa_challenges$)/;

const ROLE_PREFERENCE: Role[] = [Role.ClearingHouseManager, Role.ClearingHouseOfficer, Role.Administrator, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor];
const ERROR_KEYS = ['statusCode', 'error', 'message', 'fieldErrors', 'details', 'requestId'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Actor {
  role: Role;
  id: string;
  email: string;
  authorization: string;
}

interface Target {
  endpoint: WriteEndpoint;
  /** Roles that get past the permission guard, best first; empty for public endpoints. */
  roles: Role[];
  public: boolean;
}

type AuthChoice = { mode: 'role'; pick: number } | { mode: 'garbage'; header: string | null };

describe('hostile requests against every write endpoint', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let endpoints: WriteEndpoint[];
  let targets: Target[] = [];
  let limitBytes: number;
  let ctx: GeneratorContext;
  let setupManager: Actor;
  let setupAdmin: Actor;
  let partyId: string;
  const actors = new Map<Role, Actor>();
  const knownUsers = new Set<string>();
  const knownParties = new Set<string>();
  const knownCases = new Set<string>();
  const pools = {
    case: [] as Array<{ id: string; reference: string }>,
    concern: [] as string[],
    conversation: [] as string[],
    support: [] as string[],
    meeting: [] as string[],
    user: [] as Array<{ id: string; email: string }>,
    party: [] as string[],
    notification: [] as string[],
    authority: [...HOSTILE_AUTHORITIES, 'E08000029'],
    review: [] as string[],
    emailOutbox: [] as string[],
    breakGlass: [] as string[],
    deadline: [] as string[],
    sourceRelease: [] as string[],
    flag: [] as string[],
    accessReview: [] as string[],
    accessReviewItem: [] as string[],
    liaison: [] as string[],
    packItem: [] as string[],
    compartment: [] as string[],
    email: [] as string[],
    refreshToken: [] as string[],
    password: [TEST_PASSWORD, 'a brand new long passphrase 7', 'correct horse battery staple 43'],
  };
  let requestCounter = 0;
  const stats = new Map<string, Map<string, number>>();
  /** Every other table of the schema, with how its rows relate to this file's fixtures. */
  let scopedTables: Array<{ table: string; where: string }> = [];
  let unscopedTables: string[] = [];
  let allTables: string[] = [];
  let authorityIds: string[] = [];

  const http = () => request(t.http);
  const auth = (a: Actor) => ({ Authorization: a.authorization });
  const ok = (res: Response, status: number, what: string): Response => {
    if (res.status !== status) throw new Error(`fixture ${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  };

  async function newActor(role: Role): Promise<Actor> {
    cachedFingerprint = null;
    const opts = role === Role.RiepFacilitator ? { region: Region.WestMidlands } : role === Role.LeadPoliticalPeer ? { partyId } : {};
    const u = await signedIn(t, role, opts);
    knownUsers.add(u.id);
    const actor = { role, id: u.id, email: u.email, authorization: u.auth.Authorization };
    // Something in the inbox, so that POST /inbox/:id/read has a real target.
    const [n] = await t.owner.query(`INSERT INTO notifications (user_id, kind, title, body, dedupe_key) VALUES ($1, 'welcome', 'Welcome', 'Welcome to the clearing house', $2) RETURNING id`, [u.id, `hostile:${randomUUID()}`]);
    pools.notification.push(n.id);
    // Peers and facilitators see only cases they are on: put them on this file's open cases.
    if (setupManager && (role === Role.LeadPoliticalPeer || role === Role.RiepFacilitator)) {
      for (const c of pools.case) {
        await http().post(`/cases/${c.id}/team`).set(auth(setupManager)).send({ userId: u.id, teamRole: role === Role.LeadPoliticalPeer ? 'lead_political_peer' : 'riep_facilitator' });
      }
    }
    return actor;
  }

  async function actorFor(role: Role): Promise<Actor> {
    let a = actors.get(role);
    if (!a) {
      a = await newActor(role);
      actors.set(role, a);
    }
    return a;
  }

  /** A session that a request ended (sign-out, own password change…) is replaced by a new actor of the role. */
  async function refreshActorIfSignedOut(a: Actor): Promise<boolean> {
    const me = await http().get('/auth/me').set(auth(a));
    if (me.status === 200) return false;
    actors.set(a.role, await newActor(a.role));
    return true;
  }

  /**
   * count and md5 of (xmin, ctid) of every row related to this file's fixtures: any insert,
   * update or delete changes it. Scopes: cases this file opened (and everything on them), its
   * users, its parties and authorities; for tables added later, by their case_id, authority_id,
   * support_id, user_id or notification_id column.
   *
   * Given a request id, the same query also names the tables with rows written by any
   * transaction that left an audit record with that id (the audit trail says which
   * transactions a request ran; a refusal's should have written nothing else, wherever it is).
   */
  async function fingerprint(written?: { requestId: string; since: Date }): Promise<{ tables: Record<string, string>; written: string[] }> {
    const agg = `count(*) || ':' || coalesce(md5(string_agg(xmin::text || '/' || ctid::text, ',' ORDER BY ctid)), '-')`;
    const stable = `'${stableSince.toISOString()}'::timestamptz`;
    const columns = scopedTables.map(({ table, where }) => `(SELECT ${SHARED_WITH_WORKERS[table]?.agg ?? agg} FROM ${table} WHERE ${where.replaceAll(':stable', stable)}) AS ${table}`);
    const params: unknown[] = [[...knownCases], [...knownUsers], `%@${ctx.emailDomain}`, [...knownParties], `${ctx.tag}%`, authorityIds];
    let tx = '';
    if (written) {
      // The time bounds are literals so that the planner prunes the audit partitions (a parameter would leave them all to plan).
      const from = new Date(written.since.getTime() - 5_000).toISOString();
      const to = new Date(Date.now() + 60_000).toISOString();
      tx = `, tx AS (SELECT DISTINCT (tx_id::text::numeric % 4294967296)::text::xid AS x FROM audit_events WHERE request_id = $7 AND occurred_at BETWEEN '${from}'::timestamptz AND '${to}'::timestamptz)`;
      // EXISTS is a one-time filter: no table is scanned when the request left no audit record.
      const union = scopedTables.map(({ table }) => `SELECT '${table}' AS t FROM ${table} WHERE EXISTS (SELECT 1 FROM tx) AND xmin IN (SELECT x FROM tx)`).join(' UNION ');
      columns.push(`(SELECT string_agg(t, ',') FROM (${union}) w) AS "(written)"`);
      params.push(written.requestId);
    }
    const [row]: Array<Record<string, string | null>> = await t.owner.query(
      `WITH c AS (SELECT id FROM cases WHERE id = ANY($1::uuid[]) OR opened_by = ANY($2::uuid[])),
            con AS (SELECT id FROM concerns WHERE case_id IN (SELECT id FROM c) OR logged_by = ANY($2::uuid[])),
            s AS (SELECT id FROM improvement_support WHERE case_id IN (SELECT id FROM c) OR recorded_by = ANY($2::uuid[]))${tx}
       SELECT ${columns.join(',\n')}`,
      params,
    );
    const { '(written)': w, ...tables } = row;
    return { tables: tables as Record<string, string>, written: w ? w.split(',').sort() : [] };
  }

  /**
   * Tables that background work of the whole run writes to while this file fuzzes: other spec
   * files notify every auditor or manager (this file's too) of break-glass and escalations, and
   * the e-mail worker marks outbox rows sent. Their fingerprints cover the rows that existed when
   * the fuzzing began, and for the outbox only the rows a request could change (dead ones, which a
   * retry revives; the worker never touches them). A refused request that inserts a row is still
   * caught by the request-attributed check (`written`) below.
   */
  let stableSince = new Date();
  const SHARED_WITH_WORKERS: Record<string, { where: string; agg?: string }> = {
    notifications: { where: `user_id = ANY($2::uuid[]) AND created_at < :stable` },
    email_outbox: {
      where: `notification_id IN (SELECT id FROM notifications WHERE user_id = ANY($2::uuid[])) AND created_at < :stable`,
      agg: `count(*) || ':' || coalesce(md5(string_agg(id::text || CASE WHEN status = 'dead' THEN '/' || xmin::text ELSE '' END, ',' ORDER BY id)), '-')`,
    },
  };

  let cachedFingerprint: Record<string, string> | null = null;
  /** The fingerprint, reused from the last refused request while nothing else has written since. */
  async function fingerprintBefore(): Promise<Record<string, string>> {
    return cachedFingerprint ?? (await fingerprint()).tables;
  }

  async function discoverTables(): Promise<void> {
    const explicit: Record<string, string> = {
      cases: `id IN (SELECT id FROM c)`,
      concerns: `id IN (SELECT id FROM con)`,
      concern_sources: `concern_id IN (SELECT id FROM con)`,
      conversation_records: `case_id IN (SELECT id FROM c) OR recorded_by = ANY($2::uuid[])`,
      case_team_members: `case_id IN (SELECT id FROM c) OR user_id = ANY($2::uuid[]) OR added_by = ANY($2::uuid[])`,
      case_transitions: `case_id IN (SELECT id FROM c) OR actor_id = ANY($2::uuid[])`,
      improvement_support: `id IN (SELECT id FROM s)`,
      support_progress_notes: `support_id IN (SELECT id FROM s) OR recorded_by = ANY($2::uuid[])`,
      pre_intervention_meetings: `case_id IN (SELECT id FROM c) OR recorded_by = ANY($2::uuid[])`,
      users: `id = ANY($2::uuid[]) OR email LIKE $3`,
      parties: `id = ANY($4::uuid[]) OR name LIKE $5`,
    };
    const rows: Array<{ table_name: string; columns: string[] }> = await t.ds.query(
      `SELECT c.relname AS table_name, array_agg(a.attname::text) AS columns
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        GROUP BY c.relname ORDER BY c.relname`,
    );
    allTables = rows.map((r) => r.table_name);
    scopedTables = [];
    unscopedTables = [];
    for (const { table_name: table, columns } of rows) {
      if (UNFINGERPRINTED.test(table)) continue;
      const where = SHARED_WITH_WORKERS[table]?.where ?? explicit[table]
        ?? (columns.includes('case_id') ? `case_id IN (SELECT id FROM c)`
          : columns.includes('authority_id') ? `authority_id = ANY($6::uuid[])`
            : columns.includes('support_id') ? `support_id IN (SELECT id FROM s)`
              : columns.includes('user_id') ? `user_id = ANY($2::uuid[])`
                : columns.includes('notification_id') ? `notification_id IN (SELECT id FROM notifications WHERE user_id = ANY($2::uuid[]))` : null);
      if (where) scopedTables.push({ table, where });
      else unscopedTables.push(table);
    }
  }

  /** The tables of the schema that are gone (an injection that worked would show here). */
  async function tablesMissing(): Promise<string[]> {
    const rows: Array<{ relname: string }> = await t.ds.query(`SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relname = ANY($1)`, [allTables]);
    const present = new Set(rows.map((r) => r.relname));
    return allTables.filter((x) => !present.has(x));
  }

  /** Records that appear without an answer naming them (listed by a job, granted elsewhere): read from the database, scoped to this file's fixtures. */
  const DB_POOLS: Partial<Record<RefKind, { table: string; sql: string; scope: 'cases' | 'users' }>> = {
    review: { table: 'retention_reviews', sql: `SELECT id FROM retention_reviews WHERE case_id = ANY($1::uuid[]) ORDER BY listed_at, id`, scope: 'cases' },
    breakGlass: { table: 'break_glass_grants', sql: `SELECT id FROM break_glass_grants WHERE case_id = ANY($1::uuid[]) ORDER BY granted_at, id`, scope: 'cases' },
    sourceRelease: { table: 'source_identity_releases', sql: `SELECT id FROM source_identity_releases WHERE case_id = ANY($1::uuid[]) ORDER BY created_at, id`, scope: 'cases' },
    deadline: { table: 'case_deadlines', sql: `SELECT id FROM case_deadlines WHERE case_id = ANY($1::uuid[]) ORDER BY created_at, id`, scope: 'cases' },
    // The auditor's workbench: flags about this file's users, and access reviews its auditor drew.
    flag: { table: 'audit_flags', sql: `SELECT id FROM audit_flags WHERE user_id = ANY($1::uuid[]) ORDER BY raised_at, id`, scope: 'users' },
    accessReview: { table: 'access_reviews', sql: `SELECT id FROM access_reviews WHERE created_by = ANY($1::uuid[]) ORDER BY created_at, id`, scope: 'users' },
    accessReviewItem: { table: 'access_review_items', sql: `SELECT i.id FROM access_review_items i JOIN access_reviews r ON r.id = i.review_id WHERE r.created_by = ANY($1::uuid[]) ORDER BY i.review_id, i.position`, scope: 'users' },
    // Stage access and compartments on this file's cases.
    liaison: { table: 'stage_liaisons', sql: `SELECT id FROM stage_liaisons WHERE case_id = ANY($1::uuid[]) ORDER BY named_at, id`, scope: 'cases' },
    packItem: { table: 'stage_pack_items', sql: `SELECT id FROM stage_pack_items WHERE case_id = ANY($1::uuid[]) ORDER BY released_at, id`, scope: 'cases' },
    compartment: { table: 'case_compartments', sql: `SELECT id FROM case_compartments WHERE case_id = ANY($1::uuid[]) ORDER BY created_at, id`, scope: 'cases' },
    emailOutbox: { table: 'email_outbox', sql: `SELECT id FROM email_outbox WHERE notification_id IN (SELECT id FROM notifications WHERE user_id = ANY($1::uuid[])) ORDER BY created_at, id`, scope: 'users' },
  };

  async function refreshDbPools(kinds: Array<RefKind | null>): Promise<void> {
    for (const kind of kinds) {
      const source = kind ? DB_POOLS[kind] : undefined;
      if (!kind || !source || !allTables.includes(source.table)) continue;
      const rows: Array<{ id: string }> = await t.owner.query(source.sql, [source.scope === 'cases' ? [...knownCases] : [...knownUsers]]);
      (pools[kind] as string[]).splice(0, Infinity, ...rows.map((r) => r.id));
    }
  }

  function pick<T>(pool: T[], n: number): T | undefined {
    return pool.length ? pool[n % pool.length] : undefined;
  }

  function resolveRefValue(r: Ref): string {
    if (r.kind === 'case') {
      const c = pick(pools.case, r.pick);
      return c ? (r.form === 'reference' ? c.reference : c.id) : randomUUID();
    }
    if (r.kind === 'user') return pick(pools.user, r.pick)?.id ?? randomUUID();
    return pick(pools[r.kind] as string[], r.pick) ?? randomUUID();
  }

  async function versionOf(kind: RefKind | null, id: string): Promise<number> {
    const sql: Partial<Record<RefKind, string>> = {
      case: `SELECT version FROM cases WHERE id::text = $1 OR reference = $1`,
      user: `SELECT version FROM users WHERE id::text = $1`,
      support: `SELECT version FROM improvement_support WHERE id::text = $1`,
      meeting: `SELECT version FROM pre_intervention_meetings WHERE id::text = $1`,
      conversation: `SELECT max(version) AS version FROM conversation_records WHERE record_id::text = $1`,
      authority: `SELECT cm.version FROM authority_commitments cm JOIN authorities a ON a.id = cm.authority_id WHERE a.code = $1 OR a.gss_code = $1`,
    };
    const query = kind ? sql[kind] : undefined;
    if (!query) return 1;
    try {
      const [row] = await t.ds.query(query, [id]);
      return Number(row?.version ?? 1);
    } catch {
      return 1;
    }
  }

  function containsCurrentVersion(v: unknown): boolean {
    if (v instanceof CurrentVersion) return true;
    if (Array.isArray(v)) return v.some(containsCurrentVersion);
    return !!v && typeof v === 'object' && !(v instanceof Ref) && !(v instanceof PoolValue) && Object.keys(v).some((k) => containsCurrentVersion((v as Record<string, unknown>)[k]));
  }

  /** Whether a string leaf is one whose round trip is checked (not a secret or an address, which are hashed or normalised). */
  const checkedForInertness = (key: string, value: string) => !/password|token|email/i.test(key) && INERT_MARKERS.some((m) => value.includes(m));

  /**
   * Replaces symbolic values with real ones (a copy; own __proto__ keys kept as keys). Hostile
   * strings get a per-request nonce, so that reading them back finds this request's copy.
   */
  function resolveValue(v: unknown, version: number, nonce: { prefix: string; n: number }, key = ''): unknown {
    if (v instanceof Ref) return resolveRefValue(v);
    if (v instanceof CurrentVersion) return Math.max(0, version + v.offset);
    if (v instanceof PoolValue) return pick(pools[v.pool], v.pick) ?? '';
    if (typeof v === 'string') return checkedForInertness(key, v) ? `${v} ${nonce.prefix}.${++nonce.n}#` : v;
    if (Array.isArray(v)) return v.map((x) => resolveValue(x, version, nonce, key));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: resolveValue((v as Record<string, unknown>)[k], version, nonce, k), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return v;
  }

  interface Sent {
    res: Response;
    requestId: string;
    url: string;
    sentBody: unknown;
    wireBytes: number;
    parsedAsObject: boolean;
    contentType: string | null;
    /** The path parameters as sent (references resolved). */
    paramValues: unknown[];
  }

  async function send(endpoint: WriteEndpoint, params: unknown[], body: WireBody, authorization: string | null): Promise<Sent> {
    await refreshDbPools(endpoint.pathParams.map((p) => p.kind));
    const values = params.map((p) => (p instanceof Ref ? resolveRefValue(p) : p));
    let url = endpoint.path;
    endpoint.pathParams.forEach((p, i) => {
      const v = values[i];
      url = url.replace(`{${p.name}}`, v instanceof RawSegment ? v.text : encodeSegment(String(v)));
    });
    const firstParam = endpoint.pathParams[0];
    const wantsVersion = body.kind === 'json' || body.kind === 'form' ? containsCurrentVersion(body.value) : false;
    const version = wantsVersion && firstParam && typeof values[0] === 'string' ? await versionOf(firstParam.kind, values[0]) : 1;
    const requestId = `hostile-${SEED}-${++requestCounter}`;
    const nonce = { prefix: `#n${requestCounter}`, n: 0 };
    let req = http()[endpoint.method](url).set('X-Request-Id', requestId);
    if (authorization !== null) req = req.set('Authorization', authorization);
    let sentBody: unknown;
    let text: string | undefined;
    let contentType: string | null = null;
    if (body.kind === 'json') {
      sentBody = resolveValue(body.value, version, nonce);
      text = JSON.stringify(sentBody) ?? 'null';
      contentType = body.contentType ?? 'application/json';
    } else if (body.kind === 'form') {
      const resolved = resolveValue(body.value, version, nonce);
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(resolved as Record<string, unknown>)) form.append(k, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
      text = form.toString();
      // What the wire carries (form encoding turns an unpaired surrogate into U+FFFD on the client side).
      sentBody = Object.fromEntries(new URLSearchParams(text));
      contentType = 'application/x-www-form-urlencoded';
    } else if (body.kind === 'raw') {
      text = body.text;
      contentType = body.contentType;
      if (body.contentEncoding) req = req.set('Content-Encoding', body.contentEncoding);
      try {
        sentBody = JSON.parse(text);
      } catch {
        sentBody = undefined;
      }
    }
    if (text !== undefined && contentType !== null) req = req.set('Content-Type', contentType).send(text);
    const res = await req;
    const parsedAsObject = (contentType === 'application/json' || contentType === 'application/x-www-form-urlencoded') && body.kind !== 'raw' && !!sentBody && typeof sentBody === 'object' && !Array.isArray(sentBody);
    return { res, requestId, url, sentBody, wireBytes: text === undefined ? 0 : Buffer.byteLength(text), parsedAsObject, contentType, paramValues: values };
  }

  function expectErrorShape(s: Sent): void {
    const { res } = s;
    const b = res.body as Record<string, unknown>;
    const where = `${res.status} ${s.url} ${JSON.stringify(b).slice(0, 300)}`;
    expect({ where, isObject: !!b && typeof b === 'object' && !Array.isArray(b) }).toEqual({ where, isObject: true });
    expect({ where, statusCode: b.statusCode }).toEqual({ where, statusCode: res.status });
    expect({ where, error: b.error }).toEqual({ where, error: expect.stringMatching(/^[A-Z][A-Z_]+$/) });
    expect({ where, message: typeof b.message === 'string' && b.message.length > 0 }).toEqual({ where, message: true });
    expect({ where, requestId: b.requestId, header: res.headers['x-request-id'] }).toEqual({ where, requestId: s.requestId, header: s.requestId });
    expect({ where, extra: Object.keys(b).filter((k) => !ERROR_KEYS.includes(k)) }).toEqual({ where, extra: [] });
    if (b.fieldErrors !== undefined) {
      expect(Array.isArray(b.fieldErrors)).toBe(true);
      for (const f of b.fieldErrors as Array<Record<string, unknown>>) expect({ field: typeof f.field, messages: Array.isArray(f.messages) }).toEqual({ field: 'string', messages: true });
    }
    expect({ where, cacheControl: res.headers['cache-control'] }).toEqual({ where, cacheControl: 'no-store' });
  }

  /**
   * Every string that can be read back after an accepted request: its answer; GETs of the
   * written URL and its prefixes by the caller; the case, and the record written, by the manager;
   * the account or the party list by the administrator.
   */
  async function readBack(endpoint: WriteEndpoint, s: Sent, actor: Actor | null): Promise<string[]> {
    const strings: string[] = stringLeaves(s.res.body).map((l) => l.value);
    const get = async (who: Actor | null, url: string) => {
      const r = await http().get(url).set(who ? auth(who) : {});
      if (r.status === 200) for (const l of stringLeaves(r.body)) strings.push(l.value);
      return r;
    };
    const segments = s.url.split('/').filter(Boolean);
    for (let n = segments.length; n >= 1; n--) await get(actor, `/${segments.slice(0, n).join('/')}`);
    const body = (s.res.body ?? {}) as Record<string, unknown>;
    const first = typeof s.paramValues[0] === 'string' ? s.paramValues[0] : undefined;
    if (endpoint.path.startsWith('/users')) {
      const id = first ?? (body.id as string | undefined);
      if (id) await get(setupAdmin, `/users/${encodeSegment(id)}`);
    } else if (endpoint.path.startsWith('/parties')) {
      await get(setupAdmin, '/parties');
    } else {
      // The records this request wrote, as the manager reads them (a bounded number of reads, however large the case grows).
      const caseOf = body.case as { id?: string } | undefined;
      const caseId = (endpoint.path.startsWith('/cases/') ? first : undefined) ?? (body.caseId as string | undefined) ?? caseOf?.id;
      if (caseId) {
        const base = `/cases/${encodeSegment(caseId)}`;
        for (const suffix of ['', '/history', '/conversations', '/pre-intervention-meetings', '/support']) await get(setupManager, base + suffix);
      }
      const recordId = (body.recordId as string | undefined) ?? (endpoint.path.startsWith('/conversations/') ? first : undefined);
      if (recordId) await get(setupManager, `/conversations/${encodeSegment(recordId)}`);
      const supportId = (body.supportId as string | undefined) ?? (endpoint.path.startsWith('/support/') ? first : undefined);
      if (supportId) await get(setupManager, `/support/${encodeSegment(supportId)}/progress-notes`);
      const concern = body.concern as { id?: string } | undefined;
      if (concern?.id) await get(setupManager, `/concerns/${concern.id}`);
    }
    return strings;
  }

  /**
   * Accepted hostile strings come back byte for byte (after the DTOs' trim) wherever they come
   * back at all; one that is not readable anywhere (a write-only field, such as a reason kept
   * only in the audit trail) is counted, not failed.
   */
  async function expectInert(endpoint: WriteEndpoint, s: Sent, actor: Actor | null): Promise<void> {
    const hostile = stringLeaves(s.sentBody).filter((l) => checkedForInertness(l.key, l.value));
    if (!hostile.length) return;
    const readback = await readBack(endpoint, s, actor);
    const exact = new Set(readback);
    const problems: string[] = [];
    for (const l of hostile) {
      const expected = l.value.trim();
      if (exact.has(expected)) {
        count(endpoint, 'inert');
        continue;
      }
      const nonce = l.value.slice(l.value.lastIndexOf(' #n') + 1);
      const altered = readback.filter((x) => x.includes(nonce));
      if (altered.length) problems.push(`${l.key}: sent ${JSON.stringify(expected)}, read back ${JSON.stringify(altered[0])}`);
      else count(endpoint, 'write-only');
    }
    expect({ endpoint: endpoint.key, altered: problems }).toEqual({ endpoint: endpoint.key, altered: [] });
  }

  /** Adds records an accepted request created to the pools, so later requests can target them. */
  function harvest(endpoint: WriteEndpoint, s: Sent): void {
    const body = s.res.body as Record<string, unknown>;
    if (!body || typeof body !== 'object') return;
    const c = body.case as { id?: string; reference?: string } | undefined;
    if (c?.id && c.reference) {
      pools.case.push({ id: c.id, reference: c.reference });
      knownCases.add(c.id);
    }
    const concern = body.concern as { id?: string } | undefined;
    if (concern?.id) pools.concern.push(concern.id);
    if (endpoint.method !== 'post') return;
    const last = endpoint.path.split('/').filter(Boolean).pop() ?? '';
    if (last.startsWith('{')) return;
    if (typeof body.recordId === 'string') pools.conversation.push(body.recordId);
    else if (typeof body.id === 'string' && UUID_RE.test(body.id)) {
      if (last === 'users') {
        pools.user.push({ id: body.id, email: String(body.email) });
        knownUsers.add(body.id);
      } else if (last === 'parties') {
        pools.party.push(body.id);
        knownParties.add(body.id);
      } else if (last === 'support') pools.support.push(body.id);
      else if (last === 'pre-intervention-meetings') pools.meeting.push(body.id);
    }
  }

  function count(endpoint: WriteEndpoint, what: string | number): void {
    const m = stats.get(endpoint.key) ?? new Map<string, number>();
    m.set(String(what), (m.get(String(what)) ?? 0) + 1);
    stats.set(endpoint.key, m);
  }

  beforeAll(async () => {
    t = await createTestApp();
    process.stdout.write(`hostile write-endpoint fuzzing: HOSTILE_SEED=${SEED} HOSTILE_RUNS=${RUNS} (nightly: HOSTILE_RUNS=10000 npx jest test/hostile)\n`);
    doc = (await http().get('/api/docs/openapi.json')).body;
    endpoints = writeEndpoints(doc);
    const [, amount, unit] = /^(\d+)(b|kb|mb)$/i.exec(t.app.get(AppConfig).get('BODY_LIMIT'))!;
    limitBytes = Number(amount) * { b: 1, kb: 1024, mb: 1024 * 1024 }[unit.toLowerCase() as 'b' | 'kb' | 'mb'];
    const tag = `hx${(SEED >>> 0).toString(36)}${randomUUID().slice(0, 6)}`;
    ctx = { tag, emailDomain: `${tag}.hostile.example` };
    authorityIds = (await t.ds.query(`SELECT id FROM authorities WHERE code = ANY($1)`, [HOSTILE_AUTHORITIES])).map((r: { id: string }) => r.id);
    expect(authorityIds).toHaveLength(HOSTILE_AUTHORITIES.length);
    await discoverTables();
    partyId = await partyIdOf(t.ds, `${tag} Party`);
    knownParties.add(partyId);
    pools.party.push(partyId, await partyIdOf(t.ds, `${tag} Other Party`));
    knownParties.add(pools.party[1]);

    setupManager = await newActor(Role.ClearingHouseManager);
    setupAdmin = await newActor(Role.Administrator);
    const officer = await newActor(Role.ClearingHouseOfficer);

    // Target users, one of each role; the fuzzer's user references point at these (never at the signed-in actors).
    for (const [role, opts] of [
      [Role.ClearingHouseOfficer, {}], [Role.ClearingHouseManager, {}], [Role.RiepFacilitator, { region: Region.WestMidlands }],
      [Role.LeadPoliticalPeer, { partyId }], [Role.Auditor, {}], [Role.Administrator, {}],
    ] as Array<[Role, Parameters<typeof createUser>[2]]>) {
      const u = await createUser(t.ds, role, opts);
      knownUsers.add(u.id);
      pools.user.push({ id: u.id, email: u.email });
      pools.email.push(u.email);
    }
    pools.email.push(`nobody@${ctx.emailDomain}`);
    for (let i = 0; i < 3; i++) pools.refreshToken.push((await signIn(t.http, pools.user[0].email)).refreshToken);
    const targetPeer = pools.user[3].id;
    const targetRiep = pools.user[2].id;

    const logConcern = async (extra: Record<string, unknown> = {}) => {
      const r = ok(await http().post('/concerns').set(auth(officer)).send({
        authority: HOSTILE_AUTHORITIES[0], receivedOn: '2026-01-15', channel: 'sector_intelligence', area: 'finance', description: 'Hostile fixture: a budget gap',
        source: { name: 'A source', role: 'Monitoring officer', contact: 'source@example.org' }, ...extra,
      }), 201, 'concern');
      pools.case.push({ id: r.body.case.id, reference: r.body.case.reference });
      knownCases.add(r.body.case.id);
      pools.concern.push(r.body.concern.id);
      return r.body.case.id as string;
    };
    const version = async (id: string) => Number((await t.owner.query(`SELECT version FROM cases WHERE id = $1`, [id]))[0].version);
    const move = async (who: Actor, id: string, name: string, extra: Record<string, unknown> = {}) =>
      ok(await http().post(`/cases/${id}/moves`).set(auth(who)).send({ move: name, version: await version(id), ...extra }), 200, name);
    const team = async (id: string, userId: string, teamRole: string) => ok(await http().post(`/cases/${id}/team`).set(auth(setupManager)).send({ userId, teamRole }), 201, 'team');
    const conversation = async (id: string, extra: Record<string, unknown> = {}) => {
      const r = ok(await http().post(`/cases/${id}/conversations`).set(auth(officer)).send({ kind: 'sensitive_conversation', heldOn: '2026-01-20', summary: 'Hostile fixture conversation', handling: 'normal', ...extra }), 201, 'conversation');
      pools.conversation.push(r.body.recordId);
    };

    // A new case; a case in conversation with a team; a case in improvement support; one at the
    // pre-intervention stage with a meeting; a closed one (aged, so that retention lists it).
    await logConcern();
    const inConversation = await logConcern({ handling: 'named_only', namedUserIds: [pools.user[0].id] });
    await move(officer, inConversation, 'start_triage');
    await move(officer, inConversation, 'follow_up');
    await team(inConversation, targetPeer, 'lead_political_peer');
    await team(inConversation, targetRiep, 'riep_facilitator');
    await conversation(inConversation);
    await conversation(inConversation, { handling: 'named_only', namedUserIds: [pools.user[0].id] });

    const inSupport = await logConcern();
    await move(officer, inSupport, 'start_triage');
    await move(officer, inSupport, 'follow_up');
    await conversation(inSupport);
    await move(officer, inSupport, 'refer_to_riep');
    const support = ok(await http().post(`/cases/${inSupport}/support`).set(auth(officer)).send({ kind: 'mentoring', description: 'Hostile fixture support', status: 'agreed', reviewDates: ['2027-01-15'] }), 201, 'support');
    pools.support.push(support.body.id);
    ok(await http().post(`/support/${support.body.id}/progress-notes`).set(auth(officer)).send({ note: 'Hostile fixture progress' }), 201, 'progress note');
    await move(officer, inSupport, 'start_support');

    const atMeeting = await logConcern();
    ok(await http().put(`/cases/${atMeeting}/government-trigger`).set(auth(officer)).send({ department: 'Department for Education', power: 'improvement_notice', version: await version(atMeeting) }), 200, 'trigger');
    await move(officer, atMeeting, 'call_pre_intervention_meeting');
    const meeting = ok(await http().post(`/cases/${atMeeting}/pre-intervention-meetings`).set(auth(officer)).send({
      meetingOn: '2026-02-10', interventionContemplated: 'improvement_notice', attendees: [{ organisationType: 'authority', organisation: 'The council', role: 'Leader' }],
    }), 201, 'meeting');
    pools.meeting.push(meeting.body.id);

    const closed = await logConcern();
    await move(setupManager, closed, 'close', { outcome: 'no_further_action', reason: 'Hostile fixture closed' });
    if (allTables.includes('retention_reviews') && endpoints.some((e) => e.path === '/retention/run')) {
      // Closed long ago: the retention run lists it, and its review is a target for approval.
      const owner = await ownerDataSource();
      try {
        await owner.query(`UPDATE cases SET closed_at = now() - interval '30 years', opened_at = now() - interval '31 years' WHERE id = $1`, [closed]);
      } finally {
        await owner.destroy();
      }
      await http().post('/retention/run').set(auth(setupManager));
    }

    if (allTables.includes('email_outbox')) {
      // A dead e-mail (of a notification of this file's users), a target for a retry.
      await t.owner.query(
        `INSERT INTO email_outbox (notification_id, to_address, subject, body, status, attempts) VALUES ($1, $2, 'Hostile fixture', 'Hostile fixture', 'dead', 5)`,
        [pools.notification[0], `dead@${ctx.emailDomain}`],
      );
    }
    if (endpoints.some((e) => e.path === '/cases/{id}/break-glass') && endpoints.some((e) => e.path === '/cases/{id}/restriction')) {
      // A case restricted to its team, opened by another manager through break-glass: a grant for the auditors to review.
      const restricted = await logConcern();
      ok(await http().put(`/cases/${restricted}/restriction`).set(auth(setupManager)).send({ restricted: true, version: await version(restricted) }), 200, 'restriction');
      const other = await signedIn(t, Role.ClearingHouseManager);
      knownUsers.add(other.id);
      ok(await http().post(`/cases/${restricted}/break-glass`).set(other.auth).send({ reason: 'Hostile fixture: safeguarding referral needs the file now', code: nextTotp(other.email) }), 201, 'break-glass');
    }
    if (allTables.includes('source_identity_releases') && endpoints.some((e) => e.path === '/concerns/{id}/source-identity/releases')) {
      // A source identity release asked for by the setup manager for an officer: a target to approve, refuse or revoke.
      await logConcern();
      ok(await http().post(`/concerns/${pools.concern[pools.concern.length - 1]}/source-identity/releases`).set(auth(setupManager)).send({
        releasedToUserId: officer.id, reason: 'Hostile fixture: the case officer must call the source back',
      }), 201, 'source identity release');
    }

    // Who can reach each endpoint: the roles the permission guard lets through (probed with
    // ids that name nothing and an empty body, so the probe changes nothing worth keeping).
    for (const endpoint of endpoints) {
      const url = endpoint.pathParams.reduce((u, p) => u.replace(`{${p.name}}`, p.kind === 'authority' ? 'ZZZ' : randomUUID()), endpoint.path);
      const anonymous = await http()[endpoint.method](url).send({});
      const isPublic = anonymous.status !== 401;
      const reached = await Promise.all(ROLE_PREFERENCE.map(async (role) => {
        const a = await actorFor(role);
        const r = await http()[endpoint.method](url).set(auth(a)).send({});
        if (r.status < 300) await refreshActorIfSignedOut(a);
        return !(r.status === 403 && r.body?.error === 'FORBIDDEN');
      }));
      const roles = ROLE_PREFERENCE.filter((_, i) => reached[i]);
      targets.push({ endpoint, roles, public: isPublic });
    }
  });

  afterAll(async () => {
    if (stats.size) {
      const lines = [...stats].map(([k, m]) => `  ${k}: ${[...m].map(([s, n]) => `${s}×${n}`).join(' ')}`);
      process.stdout.write(`hostile write-endpoint outcomes (HOSTILE_SEED=${SEED}, ${RUNS} runs each):\n${lines.join('\n')}\n`);
      if (unscopedTables.length) process.stdout.write(`tables not fingerprinted (no case, authority, support, user or notification column): ${unscopedTables.join(', ')}\n`);
    }
    await t?.close();
  });

  it('finds the write endpoints in the OpenAPI document and can target every one of them', () => {
    expect(endpoints.length).toBeGreaterThanOrEqual(20);
    const problems = targets.flatMap((x) => [
      ...x.endpoint.problems,
      ...(x.public || x.roles.length > 0 ? [] : [`${x.endpoint.key}: no role gets past the permission guard and it is not public`]),
    ]);
    expect(problems).toEqual([]);
    // Discovery sanity check: endpoints this file was written against are among them (not a limit).
    expect(endpoints.map((e) => e.key)).toEqual(expect.arrayContaining(['POST /concerns', 'POST /cases/{id}/moves', 'DELETE /cases/{id}/team/{userId}', 'PUT /cases/{id}/government-trigger', 'PATCH /support/{id}', 'POST /users/{id}/unlock']));
    expect(scopedTables.map((x) => x.table)).toEqual(expect.arrayContaining([...CASE_TABLES]));
  });

  it(
    'never answers 5xx, answers every refusal in the one error shape and changes nothing, refuses unknown fields and oversized bodies, and keeps accepted hostile strings inert',
    async () => {
      const failures: string[] = [];
      stableSince = new Date();
      cachedFingerprint = null;
      for (const target of targets) {
        const { endpoint } = target;
        if (endpoint.problems.length || (!target.public && target.roles.length === 0)) continue;
        const authArb: fc.Arbitrary<AuthChoice> = fc.oneof(
          { weight: 14, arbitrary: fc.constant<AuthChoice>({ mode: 'role', pick: 0 }) },
          { weight: 4, arbitrary: fc.nat().map((pick): AuthChoice => ({ mode: 'role', pick })) },
          {
            weight: 1,
            arbitrary: fc.constantFrom<string | null>(null, 'Bearer', 'Bearer ', 'Bearer not-a-token', 'Basic YWRtaW46YWRtaW4=', `Bearer ${'A'.repeat(3000)}`, 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', "Bearer '; DROP TABLE sessions; --")
              .map((header): AuthChoice => ({ mode: 'garbage', header })),
          },
        );
        const arb = fc.record({
          auth: authArb,
          params: fc.tuple(...endpoint.pathParams.map((p) => pathParamArb(p.kind))),
          body: bodyArb(doc, endpoint, ctx, limitBytes),
        });
        const schemaKeys = new Set(Object.keys(endpoint.bodySchema ? resolveRef(doc, endpoint.bodySchema).properties ?? {} : {}));
        const property = fc.asyncProperty(arb, async ({ auth: choice, params, body }) => {
          let actor: Actor | null = null;
          if (choice.mode === 'role' && target.roles.length > 0) actor = await actorFor(target.roles[choice.pick % target.roles.length]);
          const authorization = choice.mode === 'garbage' ? choice.header : actor?.authorization ?? null;
          const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();
          const before = await fingerprintBefore();
          const sentAt = new Date();
          cachedFingerprint = null;
          const s = await send(endpoint, params, body, authorization);
          const { res } = s;
          count(endpoint, res.status);
          const where = `${endpoint.key} as ${actor?.role ?? `"${choice.mode === 'garbage' ? choice.header : ''}"`} → ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`;

          expect({ where, serverError: res.status >= 500 }).toEqual({ where, serverError: false });
          expect({ where, prototype: Object.getOwnPropertyNames(Object.prototype).sort().join(), polluted: ({} as Record<string, unknown>).polluted }).toEqual({ where, prototype: prototypeBefore, polluted: undefined });
          expect({ where, cacheControl: res.headers['cache-control'] }).toEqual({ where, cacheControl: 'no-store' });

          const parsedType = s.contentType === 'application/json' || s.contentType === 'application/x-www-form-urlencoded';
          if (parsedType && s.wireBytes > limitBytes) expect({ where, status: res.status, error: res.body.error }).toEqual({ where, status: 413, error: 'PAYLOAD_TOO_LARGE' });
          if (choice.mode === 'garbage' && !target.public) expect({ where, refused: res.status >= 400 && res.status < 500 }).toEqual({ where, refused: true });
          // An earlier request can have ended this actor's session (sign-out, a password change…):
          // then the 401 is right, and a new actor of the role takes over.
          const sessionEnded = actor !== null && res.status === 401 && (await http().get('/auth/me').set(auth(actor))).status !== 200;
          const routeMatches = s.paramValues.every((v) => typeof v === 'string' && v !== '');
          if (endpoint.bodySchema && s.parsedAsObject && s.wireBytes <= limitBytes && actor && routeMatches && !sessionEnded) {
            const unknown = Object.keys(s.sentBody as object).filter((k) => !schemaKeys.has(k));
            if (unknown.length) expect({ where, unknown, status: res.status }).toEqual({ where, unknown, status: 400 });
          }

          if (res.status >= 400) {
            expectErrorShape(s);
            const { tables: after, written } = await fingerprint({ requestId: s.requestId, since: sentAt });
            expect({ where, changed: Object.keys(after).filter((k) => after[k] !== before[k]) }).toEqual({ where, changed: [] });
            expect({ where, writtenByRequest: written }).toEqual({ where, writtenByRequest: [] });
            cachedFingerprint = after;
          } else {
            harvest(endpoint, s);
            await expectInert(endpoint, s, actor);
          }
          if (sessionEnded) actors.set(actor!.role, await newActor(actor!.role));

        });
        const details = await fc.check(property, { numRuns: RUNS, seed: seedOf(endpoint.key), endOnFailure: true });
        if (details.failed) {
          const example = details.counterexample ? fc.stringify(details.counterexample[0]) : '?';
          const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
          failures.push(
            `${endpoint.key}: failed after ${details.numRuns} runs (fc seed ${details.seed}, path ${details.counterexamplePath}; HOSTILE_SEED=${SEED})\n` +
              `  counterexample: ${example.length > 1500 ? `${example.slice(0, 1500)}… (${example.length} chars)` : example}\n  ${error.slice(0, 3000)}`,
          );
        }
        const missing = await tablesMissing();
        if (missing.length) failures.push(`${endpoint.key}: tables gone afterwards: ${missing.join(', ')}`);
      }
      expect((await http().get('/health')).status).toBe(200);
      expect(failures.join('\n\n')).toBe('');
    },
    // Generous: about 70 write endpoints; on a busy two-core machine a run of 40 each takes up to six minutes.
    600_000 + RUNS * 10_000,
  );
});
