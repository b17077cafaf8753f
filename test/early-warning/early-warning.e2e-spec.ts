import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { createTestApp, signedIn, TestApp } from '../support/app';

describe('early-warning register', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('records signals and commitments, and flags an authority by the configured rule', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const today = new Date().toISOString().slice(0, 10);
    // Rutland: one signal is not enough...
    let r = await request(t.http).post('/early-warning/authorities/RUT/signals').set(officer.auth).send({ signal: 'financial_difficulty', observedOn: today, note: 'Budget report' });
    expect(r.status).toBe(201);
    let flags = await request(t.http).get('/early-warning/flags').set(officer.auth);
    expect(flags.status).toBe(200);
    expect(flags.body.rule).toEqual({ signalWindowMonths: 12, minDistinctSignals: 2, selfEvaluationOverdueMonths: 12, peerChallengeOverdueYears: 4 });
    expect(flags.body.authorities.map((a: { code: string }) => a.code)).not.toContain('RUT');
    // ...a second kind of signal puts it on the list, with the reason.
    r = await request(t.http).post('/early-warning/authorities/E06000017/signals').set(officer.auth).send({ signal: 'senior_management_change', observedOn: today });
    expect(r.status).toBe(201);
    flags = await request(t.http).get('/early-warning/flags').set(officer.auth);
    const rutland = flags.body.authorities.find((a: { code: string }) => a.code === 'RUT');
    expect(rutland).toMatchObject({ reasons: ['several_recent_signals'], recentSignals: ['financial_difficulty', 'senior_management_change'] });

    // Commitments: an old peer challenge is overdue.
    const view = await request(t.http).put('/early-warning/authorities/RUT/commitments').set(officer.auth)
      .send({ signedStatementOn: '2024-05-01', lastSelfEvaluationOn: today, lastPeerChallengeOn: '2020-01-15' });
    expect(view.status).toBe(200);
    expect(view.body.commitments).toMatchObject({ signedStatementOn: '2024-05-01', lastPeerChallengeOn: '2020-01-15', version: 1 });
    expect(view.body.evaluation.reasons).toEqual(['several_recent_signals', 'peer_challenge_overdue']);
    expect(view.body.signals).toHaveLength(2);

    // A stale version is refused; an absent field keeps its value.
    const stale = await request(t.http).put('/early-warning/authorities/RUT/commitments').set(officer.auth).send({ lastPeerChallengeOn: '2026-01-01' });
    expect(stale.status).toBe(409);
    const fresh = await request(t.http).put('/early-warning/authorities/RUT/commitments').set(officer.auth).send({ lastPeerChallengeOn: '2026-01-01', version: 1 });
    expect(fresh.body.commitments).toMatchObject({ signedStatementOn: '2024-05-01', lastPeerChallengeOn: '2026-01-01', version: 2 });
    expect(fresh.body.evaluation.reasons).toEqual(['several_recent_signals']);

    const audit = await t.ds.query(`SELECT action FROM audit_events WHERE actor_id = $1 AND resource_type = 'early_warning' ORDER BY occurred_at`, [officer.id]);
    expect(audit.map((a: { action: string }) => a.action)).toEqual(expect.arrayContaining(['create', 'list', 'update']));
  });

  it('refuses bad input naming the field, and unknown authorities', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const bad = await request(t.http).post('/early-warning/authorities/RUT/signals').set(officer.auth).send({ signal: 'rumour', observedOn: '2026-01-01' });
    expect(bad.status).toBe(400);
    expect(bad.body.fieldErrors[0].field).toBe('signal');
    const future = await request(t.http).post('/early-warning/authorities/RUT/signals').set(officer.auth).send({ signal: 'self_referral', observedOn: '2999-01-01' });
    expect(future.status).toBe(400);
    expect((await request(t.http).get('/early-warning/authorities/ZZZ').set(officer.auth)).status).toBe(404);
  });

  it.each([Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.Administrator, Role.BoardMember])('is for clearing-house staff only: %s is refused', async (role) => {
    const user = await signedIn(t, role);
    expect((await request(t.http).get('/early-warning/flags').set(user.auth)).status).toBe(403);
    expect((await request(t.http).post('/early-warning/authorities/RUT/signals').set(user.auth).send({ signal: 'self_referral', observedOn: '2026-01-01' })).status).toBe(403);
  });

  it('is open to managers too', async () => {
    const manager = await signedIn(t, Role.ClearingHouseManager);
    expect((await request(t.http).get('/early-warning/authorities/RUT').set(manager.auth)).status).toBe(200);
  });
});
