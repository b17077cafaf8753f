import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { AuditSealer } from '../../src/audit/sealer';
import { keyIdOf } from '../../src/audit/signing';
import { createTestApp, createUser, signedIn, TestApp } from '../support/app';

/*
 * The auditor's API, in the shared test database: every query is scoped to the people and the
 * case this file creates, since other test files write audit records at the same time.
 */

type Event = {
  seq: number | null; sealed: boolean; id: string; occurredAt: string; actorId: string | null; actorName: string | null; actorRole: string | null;
  action: string; resourceType: string; resourceId: string | null; caseId: string | null; caseReference: string | null; outcome: string;
  rule: string | null; requestId: string | null; clientIp: string | null; userAgent: string | null; justification: string | null;
};
type Page = { items: Event[]; nextCursor: string | null };
type Signed = Awaited<ReturnType<typeof signedIn>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records of people using the case file (an auditor's own searches are records about the trail, not the case). */
const caseFile = (e: Event) => e.resourceType !== 'audit_trail';

const CSV_HEADER = 'seq,sealed,id,occurredAt,actorId,actorName,actorRole,action,resourceType,resourceId,caseId,caseReference,outcome,rule,requestId,clientIp,userAgent,justification,leafHash';

describe('the auditor API', () => {
  let t: TestApp;
  let auditor: Signed;
  let officer: Signed;
  let riep: Signed;
  let caseId: string;
  let caseReference: string;
  const secret = `Leader and chief executive no longer speak ${randomUUID()}`;
  const sourceName = `Whistle Blower ${randomUUID().slice(0, 8)}`;
  const formulaAgent = `=HYPERLINK("http://evil.example/${randomUUID().slice(0, 8)}")`;

  const get = (path: string, who: Signed = auditor) => request(t.http).get(path).set(who.auth);
  const search = async (query: Record<string, string | number>, who: Signed = auditor): Promise<Page> => {
    const res = await get(`/audit/events?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`, who);
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await createTestApp();
    auditor = await signedIn(t, Role.Auditor);
    officer = await signedIn(t, Role.ClearingHouseOfficer);
    riep = await signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands });
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'NET', receivedOn: '2026-11-01', channel: 'peer', area: 'leader_chief_executive_relationship', description: secret,
      source: { name: sourceName, role: 'Councillor', contact: '01234 567890' },
    });
    expect(logged.status).toBe(201);
    caseId = logged.body.case.id;
    caseReference = logged.body.case.reference;
    expect((await request(t.http).get(`/cases/${caseId}`).set(officer.auth)).status).toBe(200);
    // A client whose user agent is a spreadsheet formula: the CSV export must defuse it.
    expect((await request(t.http).get(`/cases/${caseId}`).set(officer.auth).set('User-Agent', formulaAgent)).status).toBe(200);
    // Newcastle is in the North East: a West Midlands facilitator may not see it, and is told it does not exist.
    expect((await request(t.http).get(`/cases/${caseId}`).set(riep.auth)).status).toBe(404);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('searching', () => {
    it('filters by actor, case, action, outcome and time range, newest first', async () => {
      const byActor = await search({ actorId: officer.id });
      expect(byActor.nextCursor).toBeNull();
      expect(byActor.items.every((e) => e.actorId === officer.id && e.actorRole === Role.ClearingHouseOfficer)).toBe(true);
      const actions = byActor.items.map((e) => `${e.action}:${e.resourceType}`);
      expect(actions).toEqual(expect.arrayContaining(['sign_in:session', 'create:case', 'create:concern', 'create:concern_source', 'read:case']));
      const times = byActor.items.map((e) => e.occurredAt);
      expect([...times].sort().reverse()).toEqual(times);

      const byCase = await search({ caseId });
      expect(byCase.items.every((e) => e.caseId === caseId && e.caseReference === caseReference)).toBe(true);
      expect(new Set(byCase.items.filter(caseFile).map((e) => e.actorId))).toEqual(new Set([officer.id, riep.id]));
      // The auditor's own searches of this case's trail are there too, as records about the trail.
      expect(byCase.items.filter((e) => !caseFile(e)).every((e) => e.actorRole === Role.Auditor && e.action === 'search')).toBe(true);
      expect(byCase.items.some((e) => e.actorId === auditor.id && e.action === 'search')).toBe(true);

      const reads = await search({ caseId, resourceType: 'case', action: 'read', outcome: 'allowed' });
      expect(reads.items).toHaveLength(2);
      expect(reads.items.every((e) => e.action === 'read' && e.resourceType === 'case' && e.outcome === 'allowed' && e.actorId === officer.id)).toBe(true);
      const deniedReads = await search({ caseId, action: 'read', outcome: 'denied' });
      expect(deniedReads.items.map((e) => e.actorId)).toEqual([riep.id]);

      // from is inclusive, to exclusive.
      const oldest = byActor.items[byActor.items.length - 1];
      const newest = byActor.items[0];
      expect((await search({ actorId: officer.id, to: oldest.occurredAt })).items).toEqual([]);
      expect((await search({ actorId: officer.id, from: oldest.occurredAt })).items.map((e) => e.id)).toEqual(byActor.items.map((e) => e.id));
      expect((await search({ actorId: officer.id, from: newest.occurredAt })).items.map((e) => e.id)).toEqual([newest.id]);
      const middle = await search({ actorId: officer.id, from: oldest.occurredAt, to: newest.occurredAt });
      expect(middle.items.map((e) => e.id)).toEqual(byActor.items.slice(1).map((e) => e.id));
      expect((await search({ actorId: officer.id, from: '2020-01-01T00:00:00Z', to: '2021-01-01T00:00:00Z' })).items).toEqual([]);
    });

    it('pages with a keyset cursor: pages are disjoint and together are the whole result', async () => {
      const all = await search({ caseId, limit: 1000 });
      expect(all.items.filter(caseFile).length).toBeGreaterThanOrEqual(6);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        // Filtered to the case file: the auditor's paging would otherwise add to what it pages through.
        const page: Page = await search({ caseId, resourceType: 'case', limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        for (const e of page.items) expect(seen).not.toContain(e.id);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 50);
      const cases = all.items.filter((e) => e.resourceType === 'case');
      expect(cases.length).toBeGreaterThanOrEqual(4);
      expect(pages).toBe(Math.ceil(cases.length / 2));
      expect(seen).toEqual(cases.map((e) => e.id));
      expect((await get('/audit/events?cursor=not*a*cursor')).status).toBe(400);
    });

    it('lists refusals, including the 404 a facilitator gets for a case outside their region', async () => {
      const res = await get(`/audit/denied?actorId=${riep.id}`);
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([
        expect.objectContaining({
          actorId: riep.id, actorRole: Role.RiepFacilitator, action: 'read', resourceType: 'case', caseId, outcome: 'denied', rule: 'riep_other_region',
        }),
      ]);
      const all = await get(`/audit/denied?caseId=${caseId}`);
      expect(all.body.items.every((e: Event) => e.outcome === 'denied')).toBe(true);
    });

    it("shows a case's accessors with allowed and denied counts", async () => {
      const res = await get(`/audit/cases/${caseId}`);
      expect(res.status).toBe(200);
      expect(res.body.caseId).toBe(caseId);
      const byActor = new Map<string, { roles: string[] }>(res.body.accessors.map((a: { actorId: string; roles: string[] }) => [a.actorId, a]));
      const officerEvents = (await search({ caseId, actorId: officer.id, limit: 1000 })).items;
      expect(officerEvents.length).toBeGreaterThanOrEqual(5);
      expect(byActor.get(officer.id)).toMatchObject({ actorName: 'Test clearing_house_officer', roles: [Role.ClearingHouseOfficer], allowed: officerEvents.length, denied: 0 });
      expect(byActor.get(riep.id)).toMatchObject({ actorName: 'Test riep_facilitator', roles: [Role.RiepFacilitator], allowed: 0, denied: 1 });
      // Nobody else touched the case file; auditors appear only for their searches of its trail.
      for (const [id, a] of byActor) if (id !== officer.id && id !== riep.id) expect(a.roles).toEqual([Role.Auditor]);
      expect(res.body.events.items.every((e: Event) => e.caseId === caseId)).toBe(true);
      expect(res.body.events.items.filter(caseFile)).toHaveLength(officerEvents.length + 1);
    });

    it("shows one user's activity", async () => {
      const res = await get(`/audit/users/${officer.id}`);
      expect(res.status).toBe(200);
      const byActor = await search({ actorId: officer.id });
      expect(res.body.items.map((e: Event) => e.id)).toEqual(byActor.items.map((e) => e.id));
      expect((await get(`/audit/users/${randomUUID()}`)).body).toEqual({ items: [], nextCursor: null });
    });
  });

  describe('exporting', () => {
    it('streams NDJSON: the latest checkpoint first, then every matching record oldest first, and no case content', async () => {
      const res = await get(`/audit/export?format=ndjson&caseId=${caseId}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const text: string = res.text;
      const lines = text.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines[0].type).toBe('checkpoint');
      expect(Object.keys(lines[0])).toEqual(['type', 'checkpoint']);
      const records = lines.slice(1);
      expect(records.every((r) => r.type === 'record' && r.caseId === caseId)).toBe(true);
      const all = await search({ caseId, limit: 1000 });
      expect(records.filter(caseFile).map((r) => r.id)).toEqual(all.items.filter(caseFile).map((e) => e.id).reverse());
      // Its own export is recorded before it streams, so it is in it.
      expect(records.filter((r) => r.action === 'export' && r.actorId === auditor.id && r.rule === 'ndjson')).toHaveLength(1);
      expect(records.map((r) => r.userAgent)).toContain(formulaAgent);
      for (const forbidden of [secret, sourceName, '01234 567890']) expect(text).not.toContain(forbidden);
    });

    it('streams CSV with a header row, one row per record, formulas defused, and no case content', async () => {
      const res = await get(`/audit/export?format=csv&caseId=${caseId}`).buffer(true).parse((r, done) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => (body += chunk));
        r.on('end', () => done(null, body));
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const text: string = res.body;
      const rows = text.trimEnd().split('\n');
      expect(rows[0]).toBe(CSV_HEADER);
      const all = await search({ caseId, limit: 1000 });
      // Every record that existed when it ran: all but the search just made.
      expect(rows).toHaveLength(all.items.length);
      for (const e of all.items.filter(caseFile)) expect(text).toContain(`"${e.id}"`);
      const escaped = formulaAgent.replace(/"/g, '""');
      expect(text).toContain(`"'${escaped}"`);
      expect(text).not.toContain(`"${escaped}"`);
      expect(rows.slice(1).every((r) => !/(^|,)"[=+\-@]/.test(r))).toBe(true);
      for (const forbidden of [secret, sourceName, '01234 567890']) expect(text).not.toContain(forbidden);
      const checkpoint = JSON.parse(Buffer.from(String(res.headers['x-audit-checkpoint']), 'base64').toString('utf8'));
      if (checkpoint !== null) expect(checkpoint).toMatchObject({ keyId: expect.any(String), treeSize: expect.any(Number), rootHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect((await get(`/audit/export?format=xml`)).status).toBe(400);
    });
  });

  describe('verification', () => {
    it('verifies the trail, proves a sealed record is included, and publishes the public key', async () => {
      // Wait until the officer's first records are sealed (the sealer's horizon spans the whole server).
      const sealer = t.app.get(AuditSealer);
      let seq: number | null = null;
      const deadline = Date.now() + 480_000;
      while (seq === null) {
        await sealer.sealAll();
        const [row] = await t.ds.query(
          `SELECT s.seq::int AS seq FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at
            WHERE e.actor_id = $1 AND e.case_id = $2 ORDER BY s.seq LIMIT 1`, [officer.id, caseId]);
        seq = row?.seq ?? null;
        if (seq === null) {
          if (Date.now() > deadline) throw new Error('the officer\'s records were never sealed');
          await sleep(200);
        }
      }
      const sealedEvents = await search({ caseId, actorId: officer.id });
      expect(sealedEvents.items.some((e) => e.sealed && e.seq === seq)).toBe(true);

      const verify = await get('/audit/verify');
      expect(verify.status).toBe(200);
      expect(verify.body).toMatchObject({ ok: true, firstBadSeq: null, problems: [] });
      expect(verify.body.treeSize).toBeGreaterThanOrEqual(seq!);

      const proof = await get(`/audit/proof/${seq}`);
      expect(proof.status).toBe(200);
      const [{ leaf }] = await t.ds.query(`SELECT encode(leaf_hash, 'hex') AS leaf FROM audit_seals WHERE seq = $1`, [seq]);
      expect(proof.body).toMatchObject({ seq, verified: true, leafHash: leaf });
      expect(proof.body.treeSize).toBeGreaterThanOrEqual(seq!);
      expect((await get('/audit/proof/999999999')).status).toBe(404);

      const key = await get('/audit/public-key');
      expect(key.status).toBe(200);
      const raw = Buffer.from(key.body.publicKey, 'base64');
      expect(raw).toHaveLength(32);
      expect(key.body.keyId).toBe(keyIdOf(raw));
      expect(key.body.keyId).toBe(sealer.signer.keyId);
    }, 600_000);
  });

  describe('who may use it', () => {
    const paths = (id: string) => [
      '/audit/events', '/audit/denied', `/audit/cases/${id}`, `/audit/users/${id}`, '/audit/export?format=csv', '/audit/export?format=ndjson',
      '/audit/verify', '/audit/bundle', '/audit/checkpoints', '/audit/public-key', '/audit/proof/1',
    ];

    it.each([Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Administrator, Role.BoardMember])(
      'a %s gets 403 on every /audit route',
      async (role) => {
        const who = await signedIn(t, role);
        for (const path of paths(caseId)) {
          const res = await get(path, who);
          expect({ path, status: res.status }).toEqual({ path, status: 403 });
        }
      },
    );

    it('nobody signed out gets in', async () => {
      for (const path of paths(caseId)) expect((await request(t.http).get(path)).status).toBe(401);
    });

    it('the auditor gets 403 on case content', async () => {
      for (const path of ['/cases', `/cases/${caseId}`, `/cases/${caseReference}`, `/cases/${caseId}/history`]) {
        const res = await get(path);
        expect({ path, status: res.status }).toEqual({ path, status: 403 });
        expect(JSON.stringify(res.body)).not.toContain(secret);
      }
    });
  });

  describe('what leaves a record', () => {
    const agent = () => `audit-test-agent/${randomUUID()}`;
    const findOne = async (query: Record<string, string>, userAgent: string): Promise<Event> => {
      const page = await search({ ...query, limit: 1000 });
      const matches = page.items.filter((e) => e.userAgent === userAgent);
      expect(matches).toHaveLength(1);
      return matches[0];
    };

    it('sign-in, failed sign-ins (unknown address, wrong password) and sign-out', async () => {
      const since = new Date(Date.now() - 5_000).toISOString();
      const user = await createUser(t.ds, Role.ClearingHouseOfficer);

      const okAgent = agent();
      const signIn = await request(t.http).post('/auth/sign-in').set('User-Agent', okAgent).send({ email: user.email, password: user.password });
      expect(signIn.status).toBe(200);
      expect(await findOne({ actorId: user.id, action: 'sign_in' }, okAgent)).toMatchObject({ outcome: 'allowed', resourceType: 'session', actorRole: Role.ClearingHouseOfficer, requestId: signIn.headers['x-request-id'] });

      const unknownAgent = agent();
      const unknownAddress = `nobody.${randomUUID().slice(0, 8)}@test.example`;
      expect((await request(t.http).post('/auth/sign-in').set('User-Agent', unknownAgent).send({ email: unknownAddress, password: 'not the password at all' })).status).toBe(401);
      const unknown = await findOne({ action: 'sign_in_failed', from: since }, unknownAgent);
      expect(unknown).toMatchObject({ actorId: null, outcome: 'denied', rule: 'unknown_address' });
      // The address typed is never recorded.
      expect(JSON.stringify(unknown)).not.toContain(unknownAddress.split('@')[0]);

      const wrongAgent = agent();
      expect((await request(t.http).post('/auth/sign-in').set('User-Agent', wrongAgent).send({ email: user.email, password: 'a wrong password for sure' })).status).toBe(401);
      expect(await findOne({ actorId: user.id, action: 'sign_in_failed' }, wrongAgent)).toMatchObject({ outcome: 'denied', rule: 'wrong_password' });

      const outAgent = agent();
      const out = await request(t.http).post('/auth/sign-out').set('Authorization', `Bearer ${signIn.body.accessToken}`).set('User-Agent', outAgent);
      expect(out.status).toBe(204);
      expect(await findOne({ actorId: user.id, action: 'sign_out' }, outAgent)).toMatchObject({ outcome: 'allowed', resourceType: 'session' });
    });

    it('user creation and role change by an administrator', async () => {
      const admin = await signedIn(t, Role.Administrator);
      const createAgent = agent();
      const created = await request(t.http).post('/users').set(admin.auth).set('User-Agent', createAgent).send({
        email: `made.${randomUUID().slice(0, 8)}@test.example`, displayName: 'Made By Admin', role: Role.ClearingHouseOfficer, password: `Zq8!${randomUUID()}`,
      });
      expect(created.status).toBe(201);
      expect(await findOne({ actorId: admin.id, action: 'create_user' }, createAgent)).toMatchObject({
        resourceType: 'user', resourceId: created.body.id, outcome: 'allowed', rule: Role.ClearingHouseOfficer, actorRole: Role.Administrator,
      });

      const roleAgent = agent();
      const changed = await request(t.http).patch(`/users/${created.body.id}/role`).set(admin.auth).set('User-Agent', roleAgent).send({ role: Role.Auditor, version: created.body.version });
      expect(changed.status).toBe(200);
      expect(await findOne({ actorId: admin.id, action: 'change_role' }, roleAgent)).toMatchObject({
        resourceType: 'user', resourceId: created.body.id, outcome: 'allowed', rule: `${Role.ClearingHouseOfficer}->${Role.Auditor}`,
      });
    });

    it("an auditor's own searches, exports and verifications", async () => {
      const watcher = await signedIn(t, Role.Auditor);
      const watched = await signedIn(t, Role.Auditor);
      expect((await get(`/audit/events?caseId=${caseId}`, watched)).status).toBe(200);
      expect((await get(`/audit/denied`, watched)).status).toBe(200);
      expect((await get(`/audit/cases/${caseId}`, watched)).status).toBe(200);
      expect((await get(`/audit/export?format=csv&caseId=${caseId}`, watched)).status).toBe(200);
      expect((await get(`/audit/export?format=ndjson`, watched)).status).toBe(200);
      expect((await get('/audit/verify', watched)).status).toBe(200);

      const trail = await search({ actorId: watched.id, limit: 1000 }, watcher);
      // (Signing in leaves its own records, whatever the sign-in steps are.)
      const summary = trail.items.filter((e) => ['search', 'export', 'verify'].includes(e.action)).map((e) => [e.action, e.rule, e.caseId]).reverse();
      expect(summary).toEqual([
        ['search', null, caseId],
        ['search', 'denied', null],
        ['search', 'case_trail', caseId],
        ['export', 'csv', caseId],
        ['export', 'ndjson', null],
        ['verify', expect.stringMatching(/^(ok|failed:.*)$/), null],
      ]);
      expect(trail.items.filter((e) => e.resourceType === 'audit_trail').every((e) => e.actorRole === Role.Auditor && e.outcome === 'allowed')).toBe(true);
      expect(trail.items.filter((e) => e.resourceType === 'audit_trail')).toHaveLength(summary.length);
    });
  });
});
