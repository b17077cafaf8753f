import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { AuditSealer } from '../../src/audit/sealer';
import { AuditVerificationService } from '../../src/audit/audit-verification.service';
import { createTestApp, signedIn, TestApp } from '../support/app';

describe('sealing and verifying the audit trail', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('seals records into signed checkpoints that verify', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const res = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'NET', receivedOn: '2026-11-01', channel: 'peer', area: 'finance', description: 'x',
    });
    expect(res.status).toBe(201);
    await request(t.http).get(`/cases/${res.body.case.id}`).set(officer.auth);
    const sealer = t.app.get(AuditSealer);
    // Other test files run transactions at the same time; their records (and ours) are sealed
    // only once every older transaction has ended, so seal until ours are in.
    const sealedOfOfficer = async () =>
      (await t.ds.query(
        `SELECT count(*)::int AS n FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at WHERE e.actor_id = $1`,
        [officer.id],
      ))[0].n as number;
    const [{ n: officerRecords }] = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1`, [officer.id]);
    for (let i = 0; i < 100 && (await sealedOfOfficer()) < officerRecords; i++) {
      await sealer.sealAll();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(await sealedOfOfficer()).toBe(officerRecords);
    const report = await t.app.get(AuditVerificationService).verify();
    expect(report).toMatchObject({ ok: true, firstBadSeq: null });
    expect(report.treeSize).toBeGreaterThan(0);

    const auditor = await signedIn(t, Role.Auditor);
    const trail = await request(t.http).get(`/audit/cases/${res.body.case.id}`).set(auditor.auth);
    expect(trail.status).toBe(200);
    expect(trail.body.accessors.map((a: { actorId: string }) => a.actorId)).toContain(officer.id);
    const events: Array<{ sealed: boolean; seq: number | null; actorId: string }> = trail.body.events.items;
    // Everything before the sealing pass is sealed; the auditor's own look at the trail is not yet.
    expect(events.filter((e) => e.actorId === officer.id).every((e) => e.sealed && e.seq! > 0)).toBe(true);
    expect(events.filter((e) => e.actorId === auditor.id).every((e) => !e.sealed && e.seq === null)).toBe(true);
    const verify = await request(t.http).get('/audit/verify').set(auditor.auth);
    expect(verify.body.ok).toBe(true);
    expect((await request(t.http).get('/audit/verify').set(officer.auth)).status).toBe(403);
  });
});
