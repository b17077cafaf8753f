import request from 'supertest';
import { TeamRole } from '../../src/access-control/handling';
import { Region, Role } from '../../src/access-control/role';
import { expectApiError } from '../support/api-error';
import { createTestApp, partyIdOf, signedIn, TestApp } from '../support/app';
import { auditOf } from '../mfa/mfa-helpers';
import { Person, restrictedCase, SOURCE_NAME } from './fixtures';

describe('a case restricted to its team', () => {
  let t: TestApp;
  let officer: Person;
  let otherManager: Person;
  const used = new Set<string>();
  beforeAll(async () => {
    t = await createTestApp();
    officer = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Officer not on the team' });
    otherManager = await signedIn(t, Role.ClearingHouseManager, { name: 'Other manager' });
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (path: string, who: Person) => request(t.http).get(path).set(who.auth);
  const totalFor = async (who: Person, authority: string) => {
    const res = await get(`/cases?authority=${authority}`, who);
    expect(res.status).toBe(200);
    return { total: res.body.total as number, ids: (res.body.items as Array<{ id: string }>).map((i) => i.id) };
  };

  it('is hidden from an officer and another manager (GET, history, concern, list and count all say it does not exist), and audited', async () => {
    const c = await restrictedCase(t, used, officer, { restrict: false });
    // Before: everyone on the staff sees it.
    for (const who of [officer, otherManager]) expect(await totalFor(who, c.authority)).toEqual({ total: 1, ids: [c.id] });

    const restricted = await request(t.http).put(`/cases/${c.id}/restriction`).set(c.setter.auth).send({ restricted: true, version: c.version });
    expect(restricted.status).toBe(200);
    expect(restricted.body.restriction).toEqual({ restrictedToTeam: true, restrictedBy: c.setter.id, restrictedAt: expect.any(String) });
    expect(await auditOf(t, { actorId: c.setter.id, caseId: c.id })).toContainEqual(
      expect.objectContaining({ action: 'set_case_restriction', outcome: 'allowed', rule: 'restricted_to_team' }),
    );

    for (const who of [officer, otherManager]) {
      for (const path of [`/cases/${c.id}`, `/cases/${c.reference}`, `/cases/${c.id}/history`, `/concerns/${c.concernId}`, `/cases/${c.id}/conversations`]) {
        expectApiError(await get(path, who), 404, 'NOT_FOUND');
      }
      expect(await totalFor(who, c.authority)).toEqual({ total: 0, ids: [] });
      expect((await get('/cases?limit=100', who)).body.items.map((i: { id: string }) => i.id)).not.toContain(c.id);
      const refusals = (await auditOf(t, { actorId: who.id, caseId: c.id })).filter((a) => a.outcome === 'denied');
      expect(refusals.length).toBeGreaterThanOrEqual(4);
      expect(new Set(refusals.map((a) => a.rule))).toEqual(new Set(['restricted_to_team']));
    }
  });

  it('stays visible to its team and to the manager who restricted it (the source only through src/source-identity)', async () => {
    const c = await restrictedCase(t, used, officer);
    for (const who of [c.teamOfficer, c.setter]) {
      const res = await get(`/cases/${c.id}`, who);
      expect(res.status).toBe(200);
      expect(res.body.readViaBreakGlass).toBe(false);
      expect(res.body.concerns[0]).toMatchObject({ hasSource: true });
      expect(res.body.concerns[0]).not.toHaveProperty('source');
      expect(JSON.stringify(res.body)).not.toContain(SOURCE_NAME);
      expect(await totalFor(who, c.authority)).toEqual({ total: 1, ids: [c.id] });
      expect(await auditOf(t, { actorId: who.id, caseId: c.id })).toContainEqual(expect.objectContaining({ action: 'read', resource_type: 'case', outcome: 'allowed', rule: null }));
    }
    // Team members keep working on it.
    const moved = await request(t.http).post(`/cases/${c.id}/moves`).set(c.teamOfficer.auth).send({ move: 'start_triage', version: c.version });
    expect(moved.status).toBe(200);
  });

  it('hides it from a RIEP facilitator of its region after referral, and a peer, unless on the team', async () => {
    const c = await restrictedCase(t, used, officer);
    const [{ region }] = await t.ds.query(`SELECT region FROM authorities WHERE code = $1`, [c.authority]);
    const riep = await signedIn(t, Role.RiepFacilitator, { region: region as Region });
    const peer = await signedIn(t, Role.LeadPoliticalPeer, { partyId: await partyIdOf(t.ds, 'Labour') });
    // Referred to the RIEP (as the workflow would): without the restriction the facilitator would see it.
    await t.owner.query(`UPDATE cases SET referred_to_riep_at = now() WHERE id = $1`, [c.id]);
    expectApiError(await get(`/cases/${c.id}`, riep), 404, 'NOT_FOUND');
    expectApiError(await get(`/cases/${c.id}`, peer), 404, 'NOT_FOUND');
    expect((await request(t.http).post(`/cases/${c.id}/team`).set(c.setter.auth).send({ userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer })).status).toBe(201);
    expect((await get(`/cases/${c.id}`, peer)).status).toBe(200);
    // A peer never sees the source, restricted or not.
    expect((await get(`/cases/${c.id}`, peer)).body.concerns[0].source).toBeUndefined();
  });

  it('a team member removed from the team loses it at once', async () => {
    const c = await restrictedCase(t, used, officer);
    expect((await get(`/cases/${c.id}`, c.teamOfficer)).status).toBe(200);
    expect((await request(t.http).delete(`/cases/${c.id}/team/${c.teamOfficer.id}`).set(c.setter.auth)).status).toBe(200);
    expectApiError(await get(`/cases/${c.id}`, c.teamOfficer), 404, 'NOT_FOUND');
  });

  it('lifting the restriction shows it to the staff again', async () => {
    const c = await restrictedCase(t, used, officer);
    const lifted = await request(t.http).put(`/cases/${c.id}/restriction`).set(c.setter.auth).send({ restricted: false, version: c.version });
    expect(lifted.status).toBe(200);
    expect(lifted.body.restriction).toEqual({ restrictedToTeam: false, restrictedBy: null, restrictedAt: null });
    expect((await get(`/cases/${c.id}`, officer)).status).toBe(200);
    expect(await totalFor(otherManager, c.authority)).toEqual({ total: 1, ids: [c.id] });
    expect(await auditOf(t, { actorId: c.setter.id, caseId: c.id })).toContainEqual(expect.objectContaining({ action: 'set_case_restriction', rule: 'restriction_lifted' }));
  });

  it('only a manager who can see the case may restrict it; a stale version is refused', async () => {
    const c = await restrictedCase(t, used, officer, { restrict: false });
    const byOfficer = await request(t.http).put(`/cases/${c.id}/restriction`).set(c.teamOfficer.auth).send({ restricted: true, version: c.version });
    expectApiError(byOfficer, 403, 'FORBIDDEN');
    expectApiError(await request(t.http).put(`/cases/${c.id}/restriction`).set(otherManager.auth).send({ restricted: true, version: c.version + 5 }), 409, 'VERSION_CONFLICT');
    expect((await request(t.http).put(`/cases/${c.id}/restriction`).set(otherManager.auth).send({ restricted: true, version: c.version })).status).toBe(200);
    // Now restricted by the other manager: the first setter, not on the team, no longer sees it, nor may lift it.
    expectApiError(await request(t.http).put(`/cases/${c.id}/restriction`).set(c.setter.auth).send({ restricted: false, version: c.version + 1 }), 404, 'NOT_FOUND');
    const auditor = await signedIn(t, Role.Auditor);
    expectApiError(await request(t.http).put(`/cases/${c.id}/restriction`).set(auditor.auth).send({ restricted: false, version: c.version + 1 }), 403, 'FORBIDDEN');
    expectApiError(await request(t.http).put(`/cases/${c.id}/restriction`).set(otherManager.auth).send({ restricted: 'yes', version: c.version + 1 }), 400, 'VALIDATION_FAILED');
  });
});
