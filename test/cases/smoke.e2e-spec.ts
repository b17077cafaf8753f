import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { createTestApp, signedIn, TestApp } from '../support/app';

describe('case smoke', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('logs a concern and reads the case', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const res = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'E08000025', receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance', description: 'Budget gap', signals: ['financial_difficulty'],
      source: { name: 'A Person', role: 'Officer', contact: '0123' },
    });
    expect(res.status).toBe(201);
    const get = await request(t.http).get(`/cases/${res.body.case.reference}`).set(officer.auth);
    expect(get.status).toBe(200);
    // Never the source's identity in a case read (src/source-identity): only that there is one.
    expect(get.body.concerns[0].hasSource).toBe(true);
    expect(get.body.concerns[0]).not.toHaveProperty('source');
    const list = await request(t.http).get('/cases').set(officer.auth);
    expect(list.status).toBe(200);
    expect(list.body.total).toBeGreaterThan(0);
    const move = await request(t.http).post(`/cases/${res.body.case.id}/moves`).set(officer.auth).send({ move: 'start_triage', version: get.body.version });
    expect(move.status).toBe(200);
    const refused = await request(t.http).post(`/cases/${res.body.case.id}/moves`).set(officer.auth).send({ move: 'close', version: move.body.version, outcome: 'withdrawn', reason: 'x' });
    expect(refused.status).toBe(403);
    const hist = await request(t.http).get(`/cases/${res.body.case.id}/history`).set(officer.auth);
    expect(hist.body.map((h: { move: string }) => h.move)).toEqual(['open', 'start_triage']);
    const peer = await signedIn(t, Role.LeadPoliticalPeer);
    expect((await request(t.http).get(`/cases/${res.body.case.id}`).set(peer.auth)).status).toBe(404);
    const audit = await t.ds.query(`SELECT action, resource_type, outcome, rule FROM audit_events WHERE case_id = $1 ORDER BY occurred_at`, [res.body.case.id]);
    expect(audit.length).toBeGreaterThan(3);
  });
});
