import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { createTestApp, ownerDataSource, signedIn, TestApp } from '../support/app';

/*
 * No access without its record: when the audit record of a case read cannot be written, the
 * read fails and returns nothing. The failure is made with a trigger that refuses audit records
 * of one test user only, so the other test files writing audit records meanwhile are unaffected.
 * And a refusal is recorded even though the refused request's own transaction is rolled back.
 */

type Signed = Awaited<ReturnType<typeof signedIn>>;

describe('no case data without its audit record', () => {
  let t: TestApp;
  let owner: DataSource;
  let officer: Signed;
  let blocked: Signed;
  let caseId: string;
  let caseReference: string;
  const secret = `Finance director resigned over the budget gap ${randomUUID()}`;
  const trigger = `audit_block_${randomBytes(4).toString('hex')}`;
  let blocking = false;

  const recordsOf = (actorId: string, extra = 'TRUE', params: unknown[] = []) =>
    t.ds.query(`SELECT action, resource_type, resource_id, case_id, outcome, rule FROM audit_events WHERE actor_id = $1 AND (${extra}) ORDER BY occurred_at`, [actorId, ...params]);

  /**
   * DDL on audit_events, which every other test file is writing to: it waits for a moment at
   * most and is tried again, so that it never queues their writes long enough to deadlock them
   * (and is never itself chosen as a deadlock victim).
   */
  async function ddl(sql: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await owner.transaction(async (m) => {
          await m.query(`SET LOCAL lock_timeout = '300ms'`);
          await m.query(sql);
        });
        return;
      } catch (error) {
        const code = (error as { driverError?: { code?: string } }).driverError?.code;
        if (!(code === '55P03' || code === '40P01') || attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  }

  async function blockAuditOf(userId: string): Promise<void> {
    await owner.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit store unavailable (test)'; END $$`);
    blocking = true;
    await ddl(`CREATE TRIGGER ${trigger} BEFORE INSERT ON audit_events FOR EACH ROW WHEN (NEW.actor_id = '${userId}'::uuid) EXECUTE FUNCTION ${trigger}()`);
  }

  async function unblock(): Promise<void> {
    if (!blocking) return;
    await ddl(`DROP TRIGGER IF EXISTS ${trigger} ON audit_events`);
    await owner.query(`DROP FUNCTION IF EXISTS ${trigger}()`);
    blocking = false;
  }

  beforeAll(async () => {
    t = await createTestApp();
    owner = await ownerDataSource();
    officer = await signedIn(t, Role.ClearingHouseOfficer);
    // Signed in before the block: signing in is audited too.
    blocked = await signedIn(t, Role.ClearingHouseOfficer);
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'BIR', receivedOn: '2026-11-02', channel: 'sector_intelligence', area: 'finance', description: secret,
      source: { name: 'Anne Source', role: 'Officer', contact: 'anne@example.test' },
    });
    expect(logged.status).toBe(201);
    caseId = logged.body.case.id;
    caseReference = logged.body.case.reference;
  });
  afterAll(async () => {
    await unblock();
    await owner.destroy();
    await t.close();
  });

  it('a case read whose audit record cannot be written fails with a server error and no case data', async () => {
    expect((await request(t.http).get(`/cases/${caseId}`).set(blocked.auth)).status).toBe(200);
    const before = (await recordsOf(blocked.id, 'case_id = $2', [caseId])).length;
    expect(before).toBeGreaterThan(0);

    await blockAuditOf(blocked.id);
    try {
      for (const path of [`/cases/${caseId}`, `/cases/${caseReference}`, `/cases/${caseId}/history`, '/cases']) {
        const res = await request(t.http).get(path).set(blocked.auth);
        expect({ path, status: res.status }).toEqual({ path, status: 500 });
        expect(Object.keys(res.body).sort()).toEqual(['error', 'message', 'requestId', 'statusCode']);
        const body = JSON.stringify(res.body);
        for (const leaked of [secret, caseReference, 'Anne Source', 'Birmingham', 'audit store unavailable']) expect(body).not.toContain(leaked);
      }
      // A write is refused whole: no concern logged without its record.
      const marker = `Should never be stored ${randomUUID()}`;
      const write = await request(t.http).post('/concerns').set(blocked.auth).send({
        authority: 'BIR', caseId, receivedOn: '2026-11-03', channel: 'peer', area: 'finance', description: marker,
      });
      expect(write.status).toBe(500);
      const [{ n }] = await owner.query(`SELECT count(*)::int AS n FROM concerns WHERE description = $1`, [marker]);
      expect(n).toBe(0);
      // Someone else is unaffected meanwhile.
      expect((await request(t.http).get(`/cases/${caseId}`).set(officer.auth)).status).toBe(200);
    } finally {
      await unblock();
    }
    // Nothing was recorded for the failed reads, because nothing was answered.
    expect((await recordsOf(blocked.id, 'case_id = $2', [caseId])).length).toBe(before);

    const again = await request(t.http).get(`/cases/${caseId}`).set(blocked.auth);
    expect(again.status).toBe(200);
    expect(again.body.concerns[0].description).toBe(secret);
    expect((await recordsOf(blocked.id, `case_id = $2 AND action = 'read' AND resource_type = 'case'`, [caseId])).length).toBe(2);
  });

  it('a refused read (404) leaves a denied record although its transaction rolled back', async () => {
    const peer = await signedIn(t, Role.LeadPoliticalPeer);
    const res = await request(t.http).get(`/cases/${caseId}`).set(peer.auth);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.body)).not.toContain(secret);
    expect(await recordsOf(peer.id, 'case_id IS NOT NULL OR resource_type = $2', ['case'])).toEqual([
      { action: 'read', resource_type: 'case', resource_id: caseId, case_id: caseId, outcome: 'denied', rule: 'peer_not_on_team' },
    ]);

    // A case that does not exist reads the same, and is recorded the same way.
    const missing = randomUUID();
    const none = await request(t.http).get(`/cases/${missing}`).set(peer.auth);
    expect(none.status).toBe(404);
    expect(none.body.message).toBe(res.body.message);
    expect(await recordsOf(peer.id, 'resource_id = $2', [missing])).toEqual([
      { action: 'read', resource_type: 'case', resource_id: missing, case_id: null, outcome: 'denied', rule: 'case_not_found' },
    ]);
  });
});

describe('refusals by route permission', () => {
  let app: TestApp;
  beforeAll(async () => { app = await createTestApp(); });
  afterAll(async () => { await app.close(); });

  it('are audited too: an auditor asking for case content leaves a denied record naming the route pattern and the permission', async () => {
    const auditor = await signedIn(app, Role.Auditor);
    const res = await request(app.http).get('/cases/CH-2026-0001').set(auditor.auth);
    expect(res.status).toBe(403);
    const rows = await app.ds.query(`SELECT action, resource_type, resource_id, outcome, rule FROM audit_events WHERE actor_id = $1 AND action = 'route_refused'`, [auditor.id]);
    expect(rows).toEqual([{ action: 'route_refused', resource_type: 'route', resource_id: 'GET /cases/:id', outcome: 'denied', rule: 'permission:case-file:read' }]);
  });

  it('are not recorded for an allowed route', async () => {
    const officer = await signedIn(app, Role.ClearingHouseOfficer);
    expect((await request(app.http).get('/cases').set(officer.auth)).status).toBe(200);
    const rows = await app.ds.query(`SELECT 1 FROM audit_events WHERE actor_id = $1 AND action = 'route_refused'`, [officer.id]);
    expect(rows).toHaveLength(0);
  });
});
