import request from 'supertest';
import { DataSource } from 'typeorm';
import { Region, Role } from '../../src/access-control/role';
import { signedIn, TestApp } from '../support/app';
import { agedClosedCase, appWithStaff, Staff } from '../support/staffed-app';

describe('retention and legal hold', () => {
  let t: TestApp, owner: DataSource, officer: Staff, manager: Staff;
  beforeAll(async () => { ({ t, owner, officer, manager } = await appWithStaff()); });
  afterAll(() => t.close());
  /** A case with content marked SECRET-, closed `yearsAgo` years ago (support/staffed-app.ts). */
  const closedCase = (yearsAgo: number) => agedClosedCase(t, officer, manager, { authority: 'YOR', yearsAgo });

  it('lists a case due under the schedule, and destroys its content on approval, keeping the skeleton and the audit trail', async () => {
    const due = await closedCase(7);
    const recent = await closedCase(1);
    expect((await request(t.http).post('/retention/run').set(manager.auth)).status).toBe(200);
    // Listing twice lists nothing new.
    await request(t.http).post('/retention/run').set(manager.auth);
    const pending = await request(t.http).get('/retention/reviews').set(manager.auth);
    const mine = pending.body.filter((r: { caseId: string }) => r.caseId === due.id);
    expect(mine).toHaveLength(1);
    expect(mine[0].rule).toBe('resolved_by_authority: 6 years after closure');
    expect(pending.body.some((r: { caseId: string }) => r.caseId === recent.id)).toBe(false);

    const auditBefore = await owner.query(`SELECT count(*)::int AS n FROM audit_events WHERE case_id = $1`, [due.id]);
    const approved = await request(t.http).post(`/retention/reviews/${mine[0].id}/approve`).set(manager.auth).send({ reason: 'Six years passed; no hold' });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('destroyed');

    const c = await request(t.http).get(`/cases/${due.id}`).set(manager.auth);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ reference: due.reference, state: 'closed', outcome: 'resolved_by_authority' });
    const body = JSON.stringify(c.body) + JSON.stringify((await request(t.http).get(`/cases/${due.id}/conversations`).set(manager.auth)).body)
      + JSON.stringify((await request(t.http).get(`/cases/${due.id}/history`).set(manager.auth)).body);
    expect(body).not.toMatch(/SECRET-/);
    // The source's identity is gone (it is never in a concern read anyway: issue 5.3).
    expect(c.body.concerns[0]).not.toHaveProperty('source');
    expect(c.body.concerns[0].hasSource).toBe(false);
    // The trail is kept, and the destruction is in it, with the reason.
    const trail = await owner.query(`SELECT action, justification FROM audit_events WHERE case_id = $1 ORDER BY occurred_at`, [due.id]);
    expect(trail.length).toBeGreaterThan(auditBefore[0].n);
    expect(trail).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'destroy_content', justification: 'Six years passed; no hold' })]));
    // The other, recent case is untouched.
    const other = await request(t.http).get(`/cases/${recent.id}`).set(manager.auth);
    expect(other.body.concerns[0].description).toMatch(/SECRET-DESCRIPTION/);

    // Approving again is refused; nothing can bring the content back.
    const again = await request(t.http).post(`/retention/reviews/${mine[0].id}/approve`).set(manager.auth).send({ reason: 'Six years passed; no hold' });
    expect(again.status).toBe(422);
  });

  it('keeps a case on legal hold: not listed, and a hold cancels a pending review', async () => {
    const held = await closedCase(8);
    const hold = await request(t.http).put(`/cases/${held.id}/legal-hold`).set(manager.auth).send({ hold: true, reason: 'Employment tribunal pending', version: held.version });
    expect(hold.status).toBe(200);
    await request(t.http).post('/retention/run').set(manager.auth);
    let pending = await request(t.http).get('/retention/reviews').set(manager.auth);
    expect(pending.body.some((r: { caseId: string }) => r.caseId === held.id)).toBe(false);

    const lifted = await request(t.http).put(`/cases/${held.id}/legal-hold`).set(manager.auth).send({ hold: false, reason: 'Tribunal concluded in March', version: hold.body.version });
    expect(lifted.status).toBe(200);
    await request(t.http).post('/retention/run').set(manager.auth);
    pending = await request(t.http).get('/retention/reviews').set(manager.auth);
    const review = pending.body.find((r: { caseId: string }) => r.caseId === held.id);
    expect(review).toBeDefined();
    // A new hold before approval cancels the review; approval then fails.
    await request(t.http).put(`/cases/${held.id}/legal-hold`).set(manager.auth).send({ hold: true, reason: 'New claim lodged in court', version: lifted.body.version });
    const refused = await request(t.http).post(`/retention/reviews/${review.id}/approve`).set(manager.auth).send({ reason: 'Trying to destroy anyway' });
    expect(refused.status).toBe(422);
    const c = await request(t.http).get(`/cases/${held.id}`).set(manager.auth);
    expect(c.body.concerns[0].description).toMatch(/SECRET-DESCRIPTION/);
  });

  it('the service role cannot destroy or edit records itself, even imitating the destruction function', async () => {
    const c = await closedCase(2);
    await expect(t.ds.transaction(async (m) => {
      await m.query(`SELECT set_config('app.destroying_case', $1, true)`, [c.id]);
      await m.query(`UPDATE conversation_records SET summary = 'x' WHERE case_id = $1`, [c.id]);
    })).rejects.toThrow(/immutable|permission denied/);
    await expect(t.ds.query(`SELECT destroy_case_content($1, gen_random_uuid(), $2)`, [c.id, manager.id])).rejects.toThrow(/no pending review/);
  });

  it.each([Role.ClearingHouseOfficer, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.Administrator, Role.BoardMember])('is for managers only: %s gets 403', async (role) => {
    const user = await signedIn(t, role, role === Role.RiepFacilitator ? { region: Region.YorkshireAndTheHumber } : {});
    expect((await request(t.http).get('/retention/reviews').set(user.auth)).status).toBe(403);
    expect((await request(t.http).post('/retention/run').set(user.auth)).status).toBe(403);
  });
});
