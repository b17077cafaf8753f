import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TeamRole } from '../../src/access-control/handling';
import { ALL_ROLES, Role } from '../../src/access-control/role';
import { restrictedCase, REASON } from '../break-glass/fixtures';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, createUser, nextTotp, ownerDataSource, signedIn, TestApp } from '../support/app';
import { logCase, Person, seqsOf, waitSealed } from './support';

/*
 * Flags for unusual access, through the API: each rule raises a flag on one side and not on the
 * other; scanning is idempotent; only auditors list, scan and review. All flag tests live in this
 * one file because the scan is global (a watermark over the whole trail) and judges records with
 * the thresholds of the app that runs it: these are set low here.
 */

interface Flag {
  id: string;
  rule: string;
  subjectKey: string;
  userId: string | null;
  caseId: string | null;
  evidence: Array<{ seq: number; id: string }>;
  recordCount: number;
  details: Record<string, unknown>;
  state: string;
  reviewNote: string | null;
}

describe("auditor's workbench: flags for unusual access", () => {
  let t: TestApp;
  let owner: DataSource;
  let auditor: Person;
  let officer: Person;
  const used = new Set<string>();
  let lateOfficerId: string;

  beforeAll(async () => {
    t = await createTestApp({
      AUDIT_FLAG_BULK_CASES: 2, AUDIT_FLAG_BULK_WINDOW_MINUTES: 10_080, AUDIT_FLAG_REFUSALS: 3, AUDIT_FLAG_REFUSALS_WINDOW_MINUTES: 10_080,
    });
    owner = await ownerDataSource();
    auditor = await signedIn(t, Role.Auditor);
    officer = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Logging officer' });
  });
  afterAll(async () => {
    await owner.destroy();
    await t.close();
  });

  const scan = async (actors: string[], cases: string[] = []) => {
    await waitSealed(t, actors, cases);
    const res = await request(t.http).post('/audit/flags/scan').set(auditor.auth);
    expect(res.status).toBe(200);
    return res.body as { scanned: number; raised: number; lastSeq: number };
  };
  const flags = async (query: Record<string, string>): Promise<Flag[]> => {
    const res = await request(t.http).get('/audit/flags').query(query).set(auditor.auth);
    expect(res.status).toBe(200);
    return res.body;
  };
  const read = (who: Person, caseId: string) => request(t.http).get(`/cases/${caseId}`).set(who.auth);

  describe('who may use it', () => {
    const id = randomUUID();
    const endpoints: Array<[string, string, object?]> = [
      ['get', '/audit/flags'], ['post', '/audit/flags/scan'], ['get', `/audit/flags/${id}`], ['post', `/audit/flags/${id}/review`, { note: 'looked at it' }],
      ['post', '/audit/access-reviews', { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }], ['get', '/audit/access-reviews'], ['get', `/audit/access-reviews/${id}`],
      ['post', `/audit/access-reviews/${id}/items/${id}`, { decision: 'confirmed' }], ['post', `/audit/access-reviews/${id}/sign-off`, {}],
      ['get', `/audit/evidence?caseId=${id}`], ['get', '/audit/deletion-certificates'], ['get', `/audit/deletion-certificates/${id}`],
      ['get', `/audit/deletion-certificates/${id}/verify`],
    ];

    it.each(ALL_ROLES.filter((r) => r !== Role.Auditor))('refuses every workbench route to a %s (403)', async (role) => {
      const who = await signedIn(t, role);
      for (const [method, path, body] of endpoints) {
        const req = method === 'get' ? request(t.http).get(path) : request(t.http).post(path).send(body ?? {});
        expectApiError(await req.set(who.auth), 403, 'FORBIDDEN');
      }
    });

    it('answers an auditor on every route (404 for what does not exist), and 401 without a session', async () => {
      for (const [method, path, body] of endpoints) {
        const res = await (method === 'get' ? request(t.http).get(path) : request(t.http).post(path).send(body ?? {})).set(auditor.auth);
        expect([200, 201, 404]).toContain(res.status);
        expectApiError(await (method === 'get' ? request(t.http).get(path) : request(t.http).post(path).send(body ?? {})), 401, 'UNAUTHENTICATED');
      }
    });
  });

  it('off_team_read: flags a manager reading a case they are not on the team of; not a team member, not an officer (not configured)', async () => {
    const c = await logCase(t, used, officer);
    const onTeam = await signedIn(t, Role.ClearingHouseManager, { name: 'Team manager' });
    const offTeam = await signedIn(t, Role.ClearingHouseManager, { name: 'Curious manager' });
    const otherOfficer = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Other officer' });
    expect((await request(t.http).post(`/cases/${c.id}/team`).set(onTeam.auth).send({ userId: onTeam.id, teamRole: TeamRole.CaseLead })).status).toBe(201);
    expect((await read(onTeam, c.id)).status).toBe(200);
    expect((await read(offTeam, c.id)).status).toBe(200);
    expect((await read(otherOfficer, c.id)).status).toBe(200);
    await scan([onTeam.id, offTeam.id, otherOfficer.id]);

    const raised = await flags({ rule: 'off_team_read', caseId: c.id });
    expect(raised.map((f) => f.userId)).toEqual([offTeam.id]);
    const readSeqs = await seqsOf(t, `e.actor_id = $1 AND e.case_id = $2 AND e.action = 'read'`, [offTeam.id, c.id]);
    expect(raised[0]).toMatchObject({ rule: 'off_team_read', subjectKey: offTeam.id, caseId: c.id, state: 'open', details: { role: 'clearing_house_manager' } });
    expect(raised[0].evidence.map((e) => e.seq)).toEqual(expect.arrayContaining(readSeqs));
    expect(JSON.stringify(raised)).not.toContain('WORKBENCH-SECRET');
  });

  it('bulk_reading: flags more than AUDIT_FLAG_BULK_CASES (2) distinct cases read by one user; not 2', async () => {
    const cases = [await logCase(t, used, officer), await logCase(t, used, officer), await logCase(t, used, officer)];
    const trawler = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Trawling officer' });
    const steady = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Steady officer' });
    for (const c of cases) expect((await read(trawler, c.id)).status).toBe(200);
    for (const c of cases.slice(0, 2)) {
      expect((await read(steady, c.id)).status).toBe(200);
      expect((await read(steady, c.id)).status).toBe(200); // twice: distinct cases count, not reads
    }
    await scan([trawler.id, steady.id]);
    const raised = await flags({ rule: 'bulk_reading', userId: trawler.id });
    expect(raised).toHaveLength(1);
    expect(raised[0].details).toMatchObject({ distinctCases: 3, threshold: 2 });
    expect(await flags({ rule: 'bulk_reading', userId: steady.id })).toEqual([]);
  });

  it('repeated_refusals: flags AUDIT_FLAG_REFUSALS (3) refusals by one user in the window; not 2', async () => {
    const c = await logCase(t, used, officer);
    const prober = await signedIn(t, Role.LeadPoliticalPeer, { name: 'Probing peer' });
    const once = await signedIn(t, Role.LeadPoliticalPeer, { name: 'Mistaken peer' });
    for (let i = 0; i < 3; i++) expectApiError(await read(prober, c.id), 404, 'NOT_FOUND');
    for (let i = 0; i < 2; i++) expectApiError(await read(once, c.id), 404, 'NOT_FOUND');
    await scan([prober.id, once.id]);
    const raised = await flags({ rule: 'repeated_refusals', userId: prober.id });
    expect(raised).toHaveLength(1);
    expect(raised[0].details).toMatchObject({ refusals: 3, threshold: 3 });
    expect(raised[0].evidence).toHaveLength(3);
    expect(await flags({ rule: 'repeated_refusals', userId: once.id })).toEqual([]);
    // A refused read is not an access: no off-team flag for it.
    expect(await flags({ rule: 'off_team_read', userId: prober.id })).toEqual([]);
  });

  it('break_glass_use: flags a break-glass grant and the reads under it; not an ordinary read by a team member', async () => {
    const c = await restrictedCase(t, used, officer);
    const manager = await signedIn(t, Role.ClearingHouseManager, { name: 'Glass-breaking manager' });
    const granted = await request(t.http).post(`/cases/${c.id}/break-glass`).set(manager.auth).send({ reason: REASON, code: nextTotp(manager.email) });
    expect(granted.status).toBe(201);
    expect((await read(manager, c.id)).status).toBe(200);
    expect((await read(c.teamOfficer, c.id)).status).toBe(200);
    await scan([manager.id, c.teamOfficer.id]);
    const raised = await flags({ rule: 'break_glass_use', caseId: c.id });
    expect(raised.map((f) => f.userId)).toEqual([manager.id]);
    expect(raised[0].details).toMatchObject({ granted: 1, refused: 0 });
    expect(raised[0].details.readsUnderGrant).toBeGreaterThanOrEqual(1);
    // The read under the grant is the break-glass rule's, not also an off-team read.
    expect(await flags({ rule: 'off_team_read', userId: manager.id, caseId: c.id })).toEqual([]);
  });

  it('outside_working_hours: flags a case access at 22:00 London time on a weekday; not one at 12:00', async () => {
    // A request's time cannot be chosen through the API: these two reads are written as the trail
    // would have them, at set times, by the owner (what the scanner sees is the same either way).
    const c = await logCase(t, used, officer);
    const late = await createUser(t.ds, Role.ClearingHouseOfficer, { name: 'Late officer' });
    const day = await createUser(t.ds, Role.ClearingHouseOfficer, { name: 'Day officer' });
    const insert = `INSERT INTO audit_events (occurred_at, actor_id, actor_role, action, resource_type, resource_id, case_id, outcome)
                    VALUES ($1, $2, 'clearing_house_officer', 'read', 'case', $3::text, $3::uuid, 'allowed')`;
    await owner.query(insert, ['2026-11-25T22:00:00Z', late.id, c.id]); // a Wednesday
    await owner.query(insert, ['2026-11-25T12:00:00Z', day.id, c.id]);
    await scan([late.id, day.id]);
    const raised = await flags({ rule: 'outside_working_hours', userId: late.id });
    lateOfficerId = late.id;
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ subjectKey: late.id, recordCount: 1 });
    expect(await flags({ rule: 'outside_working_hours', userId: day.id })).toEqual([]);
  });

  it('raises each flag once: scanning again, even from the start of the trail, changes no flag', async () => {
    // Without record_count: other spec files write audit records all the while, and an open flag
    // gains the ones that match it. The late officer's flag, whose records are fixed, must keep its count.
    const mine = async () => (await owner.query(`SELECT id, rule, subject_key, case_id, window_start FROM audit_flags ORDER BY id`)) as unknown[];
    const before = await mine();
    expect(before.length).toBeGreaterThan(0);
    const again = await scan([]);
    expect(again.raised).toBe(0);
    await owner.query(`UPDATE audit_flag_watermarks SET last_seq = 0 WHERE scanner = 'flags'`);
    const rescan = await scan([]);
    expect(rescan.scanned).toBeGreaterThan(0);
    const after = await mine();
    // Flags from records that arrived meanwhile may be new; none of the earlier ones is duplicated or changed.
    expect(after).toEqual(expect.arrayContaining(before));
    const duplicates = await owner.query(
      `SELECT rule, subject_key, case_id, window_start FROM audit_flags GROUP BY 1, 2, 3, 4 HAVING count(*) > 1`);
    expect(duplicates).toEqual([]);
    // Scanning the same records again does not count them twice.
    expect(await flags({ rule: 'outside_working_hours', userId: lateOfficerId })).toEqual([expect.objectContaining({ subjectKey: lateOfficerId, recordCount: 1 })]);
  });

  it('an auditor marks a flag reviewed with a note, once, audited; filters by state; others cannot (see above)', async () => {
    const c = await logCase(t, used, officer);
    const nosy = await signedIn(t, Role.ClearingHouseManager, { name: 'Nosy manager' });
    expect((await read(nosy, c.id)).status).toBe(200);
    await scan([nosy.id]);
    const [flag] = await flags({ rule: 'off_team_read', userId: nosy.id, state: 'open' });
    expect(flag).toBeDefined();

    expect(fieldsOf(await request(t.http).post(`/audit/flags/${flag.id}/review`).set(auditor.auth).send({ note: '' }))).toEqual(['note']);
    expectApiError(await request(t.http).post(`/audit/flags/${flag.id}/review`).set(auditor.auth).send({ note: 'x', extra: 1 }), 400, 'VALIDATION_FAILED');
    const note = 'Asked the manager: covering the case lead on leave; fine';
    const reviewed = await request(t.http).post(`/audit/flags/${flag.id}/review`).set(auditor.auth).send({ note });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body).toMatchObject({ id: flag.id, state: 'reviewed', reviewNote: note, reviewedBy: auditor.id });
    expectApiError(await request(t.http).post(`/audit/flags/${flag.id}/review`).set(auditor.auth).send({ note: 'again' }), 409, 'CONFLICT');
    expectApiError(await request(t.http).post(`/audit/flags/${randomUUID()}/review`).set(auditor.auth).send({ note }), 404, 'NOT_FOUND');

    const trail = await t.ds.query(`SELECT action, outcome, justification, case_id FROM audit_events WHERE actor_id = $1 AND resource_id = $2`, [auditor.id, flag.id]);
    expect(trail).toContainEqual({ action: 'review_flag', outcome: 'allowed', justification: note, case_id: c.id });
    expect((await flags({ rule: 'off_team_read', userId: nosy.id, state: 'open' }))).toEqual([]);
    expect((await flags({ rule: 'off_team_read', userId: nosy.id, state: 'reviewed' })).map((f) => f.id)).toEqual([flag.id]);
    const one = await request(t.http).get(`/audit/flags/${flag.id}`).set(auditor.auth);
    expect(one.body).toMatchObject({ id: flag.id, state: 'reviewed' });

    // Later reads in the same window do not reopen or change a reviewed flag.
    expect((await read(nosy, c.id)).status).toBe(200);
    await scan([nosy.id]);
    expect((await request(t.http).get(`/audit/flags/${flag.id}`).set(auditor.auth)).body.evidence).toEqual(flag.evidence);
    expectApiError(await request(t.http).get('/audit/flags?rule=nonsense').set(auditor.auth), 400, 'VALIDATION_FAILED');
  });
});
