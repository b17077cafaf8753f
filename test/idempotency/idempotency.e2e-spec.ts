import http from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { DataSource, QueryRunner } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { IdempotencyPurger } from '../../src/idempotency/idempotency-purger';
import { requestFingerprint } from '../../src/idempotency/idempotency-key';
import { createTestApp, ownerDataSource, partyIdOf, signedIn, TestApp } from '../support/app';

/*
 * Idempotency-Key on the create endpoints, through the HTTP API against the real database.
 * Authorities used only by this file (HEF, SHR, TFW, STR, WOC), so that counts are exact while
 * other files share the database.
 */

type Person = Awaited<ReturnType<typeof signedIn>>;

const KEY = 'Idempotency-Key';
const REPLAYED = 'idempotent-replayed';

describe('Idempotency-Key on create endpoints', () => {
  let t: TestApp;
  let owner: DataSource;
  let officer: Person;
  let officer2: Person;
  let manager: Person;
  let peer: Person;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await ownerDataSource();
    const labour = await partyIdOf(t.ds, 'Labour');
    [officer, officer2, manager, peer] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer),
      signedIn(t, Role.ClearingHouseOfficer),
      signedIn(t, Role.ClearingHouseManager),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour }),
    ]);
  });
  afterAll(async () => {
    await owner?.destroy();
    await t?.close();
  });

  const concernBody = (authority: string, extra: object = {}) => ({
    authority, receivedOn: '2026-10-01', channel: 'sector_intelligence', area: 'finance',
    description: 'Budget gap reported by the section 151 officer', source: { name: 'A. Source', role: 'Officer' }, ...extra,
  });
  const post = (who: Person, path: string, body: object, key?: string) => {
    const r = request(t.http).post(path).set(who.auth);
    return (key === undefined ? r : r.set(KEY, key)).send(body);
  };
  const count = async (sql: string, params: unknown[]): Promise<number> => (await t.owner.query(sql, params))[0].n;
  const concernsOn = (caseId: string) => count(`SELECT count(*)::int AS n FROM concerns WHERE case_id = $1`, [caseId]);
  const casesBy = (who: Person, authority: string) =>
    count(`SELECT count(*)::int AS n FROM cases c JOIN authorities a ON a.id = c.authority_id WHERE c.opened_by = $1 AND a.code = $2`, [who.id, authority]);
  const auditOf = (res: Response, actorId: string): Promise<Array<{ action: string; resource_type: string; resource_id: string | null; outcome: string; rule: string | null }>> =>
    t.ds.query(`SELECT action, resource_type, resource_id, outcome, rule FROM audit_events WHERE request_id = $1 AND actor_id = $2 ORDER BY id`, [res.headers['x-request-id'], actorId]);

  /** A fresh case on an authority, opened by the officer (no key), with the manager, officer and peer on its team. */
  async function newCase(authority: string): Promise<{ id: string; version: number }> {
    const r = await post(officer, '/concerns', concernBody(authority));
    expect(r.status).toBe(201);
    const id = r.body.case.id;
    for (const [who, teamRole] of [[officer, 'case_lead'], [peer, 'lead_political_peer']] as const) {
      expect((await post(manager, `/cases/${id}/team`, { userId: who.id, teamRole })).status).toBe(201);
    }
    return { id, version: (await request(t.http).get(`/cases/${id}`).set(officer.auth)).body.version };
  }

  /**
   * Runs `body` while a transaction of the owner's, which has run `sql` (and holds the locks it
   * took), is still open; `body` may commit or roll it back. Rolled back if still open at the end.
   */
  async function whileHolding(sql: string, params: unknown[], body: (held: { pid: number; runner: QueryRunner }) => Promise<void>): Promise<void> {
    const runner = owner.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(sql, params);
      const [{ pid }] = await runner.query(`SELECT pg_backend_pid() AS pid`);
      await body({ pid, runner });
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
  }
  /** The same, holding this year's case reference counter, which opening a case takes inside its transaction: a request stops there. */
  async function whileHoldingReferenceCounter(body: (held: { pid: number; runner: QueryRunner }) => Promise<void>): Promise<void> {
    const year = new Date().getUTCFullYear();
    await owner.query(`INSERT INTO case_reference_counters (year, last_number) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING`, [year]);
    await whileHolding(`SELECT year FROM case_reference_counters WHERE year = $1 FOR UPDATE`, [year], body);
  }

  describe('without the header', () => {
    it('creates every time, as before, and remembers nothing', async () => {
      const before = await casesBy(officer2, 'HEF');
      const first = await post(officer2, '/concerns', concernBody('HEF'));
      const second = await post(officer2, '/concerns', concernBody('HEF'));
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.body.concern.id).not.toBe(first.body.concern.id);
      expect(first.headers[REPLAYED]).toBeUndefined();
      expect(second.headers[REPLAYED]).toBeUndefined();
      expect(await casesBy(officer2, 'HEF')).toBe(before + 2);
      expect(await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE resource_id = ANY($1::uuid[])`, [[first.body.concern.id, second.body.concern.id]])).toBe(0);
    });
  });

  describe('a retried POST /concerns', () => {
    it('answers with the first result (same status and body), creates one case and one concern, and audits the replay as a read', async () => {
      const key = randomUUID();
      const body = concernBody('SHR');
      const before = await casesBy(officer, 'SHR');
      const first = await post(officer, '/concerns', body, key);
      expect(first.status).toBe(201);
      expect(first.headers[REPLAYED]).toBeUndefined();

      const retry = await post(officer, '/concerns', body, key);
      expect(retry.status).toBe(201);
      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body).toEqual(first.body);
      // Never the source's identity in a concern (issue 5.3), first answer or replay: only hasSource.
      expect(retry.body.concern).not.toHaveProperty('source');
      expect(retry.body.concern.hasSource).toBe(true);
      // The same body with its keys in another order is the same request.
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const again = await request(t.http).post('/concerns').set(officer.auth).set(KEY, `"${key}"`).send(reordered);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);

      expect(await casesBy(officer, 'SHR')).toBe(before + 1);
      expect(await concernsOn(first.body.case.id)).toBe(1);

      const created = await auditOf(first, officer.id);
      expect(created).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'create', resource_type: 'concern', resource_id: first.body.concern.id })]));
      const replayed = await auditOf(retry, officer.id);
      expect(replayed.filter((r) => r.action === 'create')).toEqual([]);
      expect(replayed).toEqual(expect.arrayContaining([
        { action: 'read', resource_type: 'concern', resource_id: first.body.concern.id, outcome: 'allowed', rule: 'idempotent_replay' },
      ]));
      expect(replayed.filter((r) => r.resource_type === 'concern_source')).toEqual([]);
    });

    it('replays the open-case warning and a concern attached to an existing case exactly', async () => {
      const existing = await newCase('TFW');
      const key = randomUUID();
      const opened = await post(officer, '/concerns', concernBody('TFW'), key);
      expect(opened.status).toBe(201);
      expect(opened.body.openedNewCase).toBe(true);
      expect(opened.body.warnings[0].caseReferences).toEqual(expect.arrayContaining([expect.stringMatching(/^CH-/)]));
      expect((await post(officer, '/concerns', concernBody('TFW'), key)).body).toEqual(opened.body);

      const attachKey = randomUUID();
      const attached = await post(officer, '/concerns', concernBody('TFW', { caseId: existing.id }), attachKey);
      expect(attached.status).toBe(201);
      expect(attached.body.openedNewCase).toBe(false);
      const retry = await post(officer, '/concerns', concernBody('TFW', { caseId: existing.id }), attachKey);
      expect(retry.body).toEqual(attached.body);
      expect(await concernsOn(existing.id)).toBe(2);
    });

    it('refuses the same key with a different body or on another endpoint (422), creating nothing', async () => {
      const key = randomUUID();
      const first = await post(officer, '/concerns', concernBody('SHR'), key);
      expect(first.status).toBe(201);
      const caseCount = await casesBy(officer, 'SHR');

      const changed = await post(officer, '/concerns', concernBody('SHR', { description: 'A different concern' }), key);
      expect(changed.status).toBe(422);
      expect(changed.body.details).toEqual({ precondition: 'idempotency_key_matches_request' });
      expect(changed.body.message).toContain(KEY);

      const elsewhere = await post(officer, `/cases/${first.body.case.id}/support`, { kind: 'mentoring', description: 'Mentoring' }, key);
      expect(elsewhere.status).toBe(422);
      expect(await casesBy(officer, 'SHR')).toBe(caseCount);
      expect(await count(`SELECT count(*)::int AS n FROM improvement_support WHERE case_id = $1`, [first.body.case.id])).toBe(0);
    });

    it("keeps keys per user: another user's identical key and body create their own record and never see the first", async () => {
      const key = randomUUID();
      const mine = await post(officer, '/concerns', concernBody('WOC'), key);
      const theirs = await post(officer2, '/concerns', concernBody('WOC'), key);
      expect([mine.status, theirs.status]).toEqual([201, 201]);
      expect(theirs.headers[REPLAYED]).toBeUndefined();
      expect(theirs.body.concern.id).not.toBe(mine.body.concern.id);
      expect(theirs.body.case.id).not.toBe(mine.body.case.id);
      expect(theirs.body.concern.loggedBy).toBe(officer2.id);
      // The peer sends the same key to a create it may not make: refused as usual, not a replay.
      const peers = await post(peer, '/concerns', concernBody('WOC'), key);
      expect(peers.status).toBe(403);
      expect(peers.headers[REPLAYED]).toBeUndefined();
    });
  });

  describe('refused requests are not remembered', () => {
    it('a validation error (400) or a refusal (404/422) leaves the key free for the corrected request', async () => {
      const key = randomUUID();
      const invalid = await post(officer, '/concerns', { ...concernBody('STR'), description: undefined }, key);
      expect(invalid.status).toBe(400);
      const future = await post(officer, '/concerns', concernBody('STR', { receivedOn: '2999-01-01' }), key);
      expect(future.status).toBe(400);
      const missingCase = await post(officer, '/concerns', concernBody('STR', { caseId: randomUUID() }), key);
      expect(missingCase.status).toBe(404);
      expect(await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE user_id = $1 AND key = $2`, [officer.id, key])).toBe(0);

      const corrected = await post(officer, '/concerns', concernBody('STR'), key);
      expect(corrected.status).toBe(201);
      expect(corrected.headers[REPLAYED]).toBeUndefined();
      const retry = await post(officer, '/concerns', concernBody('STR'), key);
      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body.concern.id).toBe(corrected.body.concern.id);
    });
  });

  describe('the key format', () => {
    it.each([
      ['too short', 'abc'],
      ['too long', 'k'.repeat(129)],
      ['with spaces', 'not a valid key'],
      ['non-ASCII', 'clé-de-requête'],
    ])('refuses a key %s with 400 naming the header, creating nothing', async (_what, key) => {
      const before = await casesBy(officer, 'HEF');
      const r = await post(officer, '/concerns', concernBody('HEF'), key);
      expect(r.status).toBe(400);
      expect(r.body.fieldErrors).toEqual([{ field: KEY, messages: [expect.stringContaining(KEY)] }]);
      expect(await casesBy(officer, 'HEF')).toBe(before);
    });
  });

  describe('every create endpoint', () => {
    it('conversations, corrections, support, progress notes, team members and pre-intervention meetings: a retry replays, one row', async () => {
      const c = await newCase('HEF');
      const once = async (who: Person, path: string, body: object) => {
        const key = randomUUID();
        const first = await post(who, path, body, key);
        expect(first.status).toBe(201);
        const retry = await post(who, path, body, key);
        expect(retry.status).toBe(201);
        expect(retry.headers[REPLAYED]).toBe('true');
        expect(retry.body).toEqual(first.body);
        return first.body;
      };

      const conv = await once(peer, `/cases/${c.id}/conversations`, {
        kind: 'sensitive_conversation', heldOn: '2026-10-10', summary: 'Spoke with the leader', handling: 'party_confidential',
      });
      expect(await count(`SELECT count(*)::int AS n FROM conversation_records WHERE case_id = $1`, [c.id])).toBe(1);
      const corrected = await once(peer, `/conversations/${conv.recordId}/corrections`, {
        version: 1, kind: 'sensitive_conversation', heldOn: '2026-10-10', summary: 'Spoke with the leader and the deputy', correctionReason: 'Deputy was present',
      });
      expect(corrected.version).toBe(2);
      expect(await count(`SELECT count(*)::int AS n FROM conversation_records WHERE record_id = $1`, [conv.recordId])).toBe(2);

      const support = await once(officer, `/cases/${c.id}/support`, { kind: 'mentoring', description: 'Mentoring for the leader' });
      expect(await count(`SELECT count(*)::int AS n FROM improvement_support WHERE case_id = $1`, [c.id])).toBe(1);
      await once(officer, `/support/${support.id}/progress-notes`, { note: 'First session held' });
      expect(await count(`SELECT count(*)::int AS n FROM support_progress_notes WHERE support_id = $1`, [support.id])).toBe(1);

      const officer3 = await signedIn(t, Role.ClearingHouseOfficer);
      await once(manager, `/cases/${c.id}/team`, { userId: officer3.id, teamRole: 'case_officer' });
      expect(await count(`SELECT count(*)::int AS n FROM case_team_members WHERE case_id = $1 AND user_id = $2`, [c.id, officer3.id])).toBe(1);

      let version = (await request(t.http).get(`/cases/${c.id}`).set(officer.auth)).body.version;
      const trigger = await request(t.http).put(`/cases/${c.id}/government-trigger`).set(officer.auth)
        .send({ department: 'Department for Education', power: 'improvement_notice', version });
      expect(trigger.status).toBe(200);
      version = trigger.body.version;
      expect((await request(t.http).post(`/cases/${c.id}/moves`).set(officer.auth).send({ version, move: 'call_pre_intervention_meeting' })).status).toBe(200);
      await once(officer, `/cases/${c.id}/pre-intervention-meetings`, {
        meetingOn: '2026-11-20', interventionContemplated: 'improvement_notice', attendees: [{ organisationType: 'authority', organisation: 'Herefordshire Council' }],
      });
      expect(await count(`SELECT count(*)::int AS n FROM pre_intervention_meetings WHERE case_id = $1`, [c.id])).toBe(1);
    });

    it('documents the header on each of them in the OpenAPI description', async () => {
      const doc = (await request(t.http).get('/api/docs/openapi.json')).body;
      const creates = [
        '/concerns', '/cases/{id}/conversations', '/conversations/{recordId}/corrections', '/cases/{id}/support',
        '/support/{id}/progress-notes', '/cases/{id}/team', '/cases/{id}/pre-intervention-meetings',
      ];
      for (const path of creates) {
        const header = (doc.paths[path].post.parameters ?? []).find((p: { in: string; name: string }) => p.in === 'header' && p.name === KEY);
        expect({ path, header: header && { required: header.required, maxLength: header.schema.maxLength } }).toEqual({ path, header: { required: false, maxLength: 128 } });
      }
    });
  });

  describe('what is stored', () => {
    it('the created record id and a request fingerprint only: no case content', async () => {
      const key = randomUUID();
      const r = await post(officer, '/concerns', concernBody('SHR', { description: 'Stored-content sentinel 7f3a' }), key);
      const [row] = await owner.query(`SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2`, [officer.id, key]);
      expect(Object.keys(row).sort()).toEqual(['created_at', 'expires_at', 'key', 'request_hash', 'resource_id', 'resource_type', 'resource_version', 'user_id']);
      expect(row).toMatchObject({ resource_type: 'concern', resource_id: r.body.concern.id, resource_version: null });
      expect(row.request_hash).toHaveLength(32);
      expect(JSON.stringify(row)).not.toContain('sentinel');
      const hours = (new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()) / 3_600_000;
      expect(hours).toBe(24);
    });

    it('a replay re-reads through the access policy: a caller who lost access gets the same 404 as for a missing record, audited', async () => {
      const c = await newCase('HEF');
      const key = randomUUID();
      const body = { kind: 'sensitive_conversation', heldOn: '2026-10-11', summary: 'Call with the group leader', handling: 'party_confidential' };
      const first = await post(peer, `/cases/${c.id}/conversations`, body, key);
      expect(first.status).toBe(201);
      expect((await request(t.http).delete(`/cases/${c.id}/team/${peer.id}`).set(manager.auth)).status).toBe(200);

      const retry = await post(peer, `/cases/${c.id}/conversations`, body, key);
      const missing = await request(t.http).get(`/conversations/${randomUUID()}`).set(peer.auth);
      expect(retry.status).toBe(404);
      expect({ ...retry.body, requestId: null }).toEqual({ ...missing.body, requestId: null });
      expect(await count(`SELECT count(*)::int AS n FROM conversation_records WHERE case_id = $1`, [c.id])).toBe(1);
      expect((await auditOf(retry, peer.id)).map((a) => [a.action, a.outcome])).toEqual([['read', 'denied']]);
    });
  });

  describe('expiry', () => {
    it('an expired key is ignored (the request creates again) and purged', async () => {
      const key = randomUUID();
      const first = await post(officer, '/concerns', concernBody('WOC'), key);
      await owner.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE user_id = $1 AND key = $2`, [officer.id, key]);
      const later = await post(officer, '/concerns', concernBody('WOC'), key);
      expect(later.status).toBe(201);
      expect(later.headers[REPLAYED]).toBeUndefined();
      expect(later.body.concern.id).not.toBe(first.body.concern.id);
      // The key now stands for the new concern.
      expect((await post(officer, '/concerns', concernBody('WOC'), key)).body.concern.id).toBe(later.body.concern.id);

      await owner.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE user_id = $1 AND key = $2`, [officer.id, key]);
      expect(await t.app.get(IdempotencyPurger).purge()).toBeGreaterThanOrEqual(1);
      expect(await count(`SELECT count(*)::int AS n FROM idempotency_keys WHERE user_id = $1 AND key = $2`, [officer.id, key])).toBe(0);
    });
  });

  describe('concurrency', () => {
    /** Backends (transitively) blocked by `pid`, e.g. the two requests queued behind a lock the test holds. */
    async function blockedBy(pid: number): Promise<number> {
      const rows: Array<{ pid: number; blockers: number[] }> = await owner.query(
        `SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity WHERE datname = current_database()`);
      const blocked = new Set<number>();
      for (let grew = true; grew; ) {
        grew = false;
        for (const r of rows) {
          if (!blocked.has(r.pid) && r.blockers.some((b) => b === pid || blocked.has(b))) {
            blocked.add(r.pid);
            grew = true;
          }
        }
      }
      return blocked.size;
    }
    async function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
      for (let i = 0; i < 600; i++) {
        if (await condition()) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`gave up waiting until ${what}`);
    }

    it('two simultaneous requests with one key: exactly one creates, the other waits and replays it', async () => {
      const c = await newCase('STR');
      const key = randomUUID();
      const body = { kind: 'call', heldOn: '2026-10-12', summary: 'Call with the chief executive', handling: 'normal' };
      // Hold the case's row lock so that both requests are in flight, inside their transactions, at once.
      await whileHolding(`SELECT id FROM cases WHERE id = $1 FOR UPDATE`, [c.id], async ({ pid, runner }) => {
        const both = Promise.all([post(peer, `/cases/${c.id}/conversations`, body, key), post(peer, `/cases/${c.id}/conversations`, body, key)]);
        both.catch(() => undefined);
        await waitUntil('both requests wait on the case', async () => (await blockedBy(pid)) >= 2);
        await runner.commitTransaction();
        const [a, b] = await both;
        expect([a.status, b.status]).toEqual([201, 201]);
        expect(b.body.recordId).toBe(a.body.recordId);
        expect(b.body).toEqual(a.body);
        expect([a.headers[REPLAYED], b.headers[REPLAYED]].filter((h) => h === 'true')).toHaveLength(1);
        expect(await count(`SELECT count(*)::int AS n FROM conversation_records WHERE case_id = $1`, [c.id])).toBe(1);
        const creates = await count(
          `SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND action = 'create' AND resource_type = 'conversation' AND case_id = $2`, [peer.id, c.id]);
        expect(creates).toBe(1);
      });
    });

    it('the same for two simultaneous POST /concerns opening a case: one case, one concern', async () => {
      const key = randomUUID();
      const body = concernBody('SHR', { description: 'Sent twice at once' });
      const before = await casesBy(officer, 'SHR');
      await whileHoldingReferenceCounter(async ({ pid, runner }) => {
        const both = Promise.all([post(officer, '/concerns', body, key), post(officer, '/concerns', body, key)]);
        both.catch(() => undefined);
        await waitUntil('both requests wait on the counter', async () => (await blockedBy(pid)) >= 2);
        await runner.commitTransaction();
        const [a, b] = await both;
        expect([a.status, b.status]).toEqual([201, 201]);
        expect(b.body).toEqual(a.body);
        expect([a.headers[REPLAYED], b.headers[REPLAYED]].filter((h) => h === 'true')).toHaveLength(1);
        expect(await casesBy(officer, 'SHR')).toBe(before + 1);
        expect(await concernsOn(a.body.case.id)).toBe(1);
      });
    });

    it.each([
      ['commits', true],
      ['rolls back', false],
    ])('a request that meets its key in flight waits for it: the twin %s', async (_what, twinCommits) => {
      const c = await newCase('WOC');
      const existing = await post(officer, `/cases/${c.id}/support`, { kind: 'peer_challenge', description: 'Peer challenge' });
      const key = randomUUID();
      const path = `/cases/${c.id}/support`;
      const body = { kind: 'mentoring', description: 'Mentoring for the chief executive' };
      // The twin: the same user's request with the same key, its creation done but not yet committed.
      const twin = `INSERT INTO idempotency_keys (user_id, key, request_hash, resource_type, resource_id, expires_at) VALUES ($1, $2, $3, 'support', $4, now() + interval '1 day')`;
      await whileHolding(twin, [officer.id, key, requestFingerprint('POST', path, body), existing.body.id], async ({ pid, runner }) => {
        const pending = post(officer, path, body, key);
        pending.catch(() => undefined);
        await waitUntil('the request waits on the key', async () => (await blockedBy(pid)) >= 1);
        if (twinCommits) await runner.commitTransaction();
        else await runner.rollbackTransaction();
        const r = await pending;
        expect(r.status).toBe(201);
        const rows: Array<{ id: string }> = await t.owner.query(`SELECT id FROM improvement_support WHERE case_id = $1 ORDER BY recorded_at`, [c.id]);
        if (twinCommits) {
          expect(r.headers[REPLAYED]).toBe('true');
          expect(r.body).toEqual(existing.body);
          expect(rows).toHaveLength(1);
        } else {
          expect(r.headers[REPLAYED]).toBeUndefined();
          expect(r.body.id).not.toBe(existing.body.id);
          expect(rows.map((x) => x.id)).toEqual([existing.body.id, r.body.id]);
        }
      });
    });
  });

  describe('a connection that died after the commit', () => {
    const listening = async (): Promise<number> => {
      await new Promise<void>((resolve) => (t.http.listening ? resolve() : t.http.listen(0, '127.0.0.1', resolve)));
      return (t.http.address() as AddressInfo).port;
    };
    /** Sends POST /concerns on a raw socket and returns the request, to be destroyed before its answer is read. */
    const send = (port: number, key: string, body: string) => {
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path: '/concerns',
        headers: { ...officer.auth, [KEY]: key, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      });
      const state = { answered: false };
      req.on('response', (res) => { state.answered = true; res.resume(); });
      req.on('error', () => undefined);
      req.end(body);
      return { req, state };
    };
    const committed = async (key: string): Promise<string> => {
      for (let i = 0; i < 600; i++) {
        const rows = await owner.query(`SELECT resource_id FROM idempotency_keys WHERE user_id = $1 AND key = $2`, [officer.id, key]);
        if (rows.length > 0) return rows[0].resource_id;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('the first request never committed');
    };
    const retryAndCheck = async (key: string, body: string, concernId: string, casesBefore: number) => {
      const retry = await request(t.http).post('/concerns').set(officer.auth).set(KEY, key).set('Content-Type', 'application/json').send(body);
      expect(retry.status).toBe(201);
      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body.concern.id).toBe(concernId);
      expect(retry.body.concern.description).toBe(JSON.parse(body).description);
      expect(await casesBy(officer, 'TFW')).toBe(casesBefore + 1);
      expect(await concernsOn(retry.body.case.id)).toBe(1);
    };

    it('the client hangs up once the server has committed: the retry answers with the first result, nothing twice', async () => {
      const port = await listening();
      const key = randomUUID();
      const body = JSON.stringify(concernBody('TFW', { description: 'Lost-answer concern one' }));
      const before = await casesBy(officer, 'TFW');
      const { req } = send(port, key, body);
      // The key is written in the creating transaction: once it is visible, the creation has committed.
      const concernId = await committed(key);
      req.destroy();
      await retryAndCheck(key, body, concernId, before);
    });

    it('the client hangs up while its request is still in the transaction, which then commits: the same', async () => {
      const port = await listening();
      const key = randomUUID();
      const body = JSON.stringify(concernBody('TFW', { description: 'Lost-answer concern two' }));
      const before = await casesBy(officer, 'TFW');
      await whileHoldingReferenceCounter(async ({ pid, runner }) => {
        const { req, state } = send(port, key, body);
        for (let i = 0; ; i++) {
          const [{ n }] = await owner.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]);
          if (n >= 1) break;
          if (i > 600) throw new Error('the request never reached the counter');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        req.destroy();
        expect(state.answered).toBe(false);
        await runner.commitTransaction();
        const concernId = await committed(key);
        expect(state.answered).toBe(false);
        await retryAndCheck(key, body, concernId, before);
      });
    });
  });
});
