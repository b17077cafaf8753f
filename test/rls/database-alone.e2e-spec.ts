import { randomUUID } from 'node:crypto';
import { Region } from '../../src/access-control/role';
import { createTestApp, TestApp } from '../support/app';
import {
  addToTeam, auditOf, buildCast, Cast, createSupport, expectStatus, http, logConcern, Person, recordConversation, referToRiep, snapshotOf, versionOf,
} from '../access-matrix/fixtures';
import { restrictedCase } from '../break-glass/fixtures';
import { authoritiesFor, usedAllBut } from './authorities';

/*
 * The database alone (issue 5, point 1): in this test build the application's access policy
 * allows everything, so every refusal below comes from row-level security
 * (migrations/1764381300000-RowLevelSecurity.ts). The seam is jest's module registry, for this
 * file only: nothing in the production build can switch the policy off.
 */
jest.mock('../../src/access-control/case-access-policy', () => {
  const actual = jest.requireActual('../../src/access-control/case-access-policy');
  const visible = { allowed: true, rule: actual.AccessRule.StaffSeeRegister };
  return {
    ...actual,
    caseVisibility: () => visible,
    caseActionDecision: () => ({ visible, action: { allowed: true, rule: actual.AccessRule.ActionAllowed } }),
    itemVisibility: () => ({ allowed: true, rule: actual.AccessRule.ItemNormal }),
    caseScopeSql: () => ({ sql: 'TRUE', params: [] }),
    itemScopeSql: () => ({ sql: 'TRUE', params: [] }),
    viaBreakGlassSql: () => ({ sql: 'FALSE', params: [] }),
  };
});

jest.setTimeout(120_000);

type CaseName = 'wmUnreferred' | 'neReferred' | 'team' | 'restricted';
type Who = keyof Cast;

/** Each cell the application would refuse (and, in this build, does not): who, which case, and why. */
const HIDDEN: Array<[Who, CaseName, string]> = [
  ['riepWM2', 'wmUnreferred', 'own region, not referred, not on the team'],
  ['riepWM', 'neReferred', 'another region'],
  ['riepNE', 'wmUnreferred', 'another region'],
  ['peerOut', 'team', 'not on the team'],
  ['peerOut', 'wmUnreferred', 'not on the team'],
  ['peerCon', 'neReferred', 'not on the team'],
  ['officer', 'restricted', 'restricted to its team'],
  ['manager', 'restricted', 'restricted to its team, not restricted by them'],
];

describe('row-level security alone refuses every cell of the access matrix (application policy bypassed)', () => {
  let t: TestApp;
  let cast: Cast;
  const built = {} as Record<CaseName, { id: string; concernId: string; supportId?: string; recordId?: string }>;
  let namedOnlyConcern: string;
  let labourRecord: string;
  const person = (who: Who): Person => cast[who] as Person;

  beforeAll(async () => {
    t = await createTestApp();
    cast = await buildCast(t);
    const { officer, manager, peerLab, peerCon } = cast;
    const [wm0, wm1] = await authoritiesFor(t, Region.WestMidlands, 2);
    const [ne0] = await authoritiesFor(t, Region.NorthEast, 1);
    const authorityIn = async (region: Region, nth: number): Promise<string> => (region === Region.NorthEast ? ne0 : [wm0, wm1][nth]);
    const wm = await logConcern(t, officer, { authority: await authorityIn(Region.WestMidlands, 0), description: 'West Midlands, unreferred' });
    built.wmUnreferred = { id: wm.id, concernId: wm.concernId, supportId: (await createSupport(t, officer, wm.id)).id };
    const ne = await logConcern(t, officer, { authority: await authorityIn(Region.NorthEast, 0), description: 'North East, referred' });
    const neRecord = await referToRiep(t, officer, ne.id);
    built.neReferred = { id: ne.id, concernId: ne.concernId, recordId: neRecord, supportId: (await createSupport(t, officer, ne.id)).id };
    const team = await logConcern(t, officer, { authority: await authorityIn(Region.WestMidlands, 1), description: 'The team case' });
    await addToTeam(t, manager, team.id, peerLab, 'lead_political_peer');
    await addToTeam(t, manager, team.id, peerCon, 'lead_political_peer');
    namedOnlyConcern = (await logConcern(t, officer, {
      authority: await authorityIn(Region.WestMidlands, 1), caseId: team.id, description: 'Only for the named', handling: 'named_only', namedUserIds: [officer.id, peerLab.id],
    })).concernId;
    labourRecord = await recordConversation(t, peerLab, team.id, { summary: 'Labour group only', handling: 'party_confidential' });
    built.team = { id: team.id, concernId: team.concernId, recordId: await recordConversation(t, officer, team.id), supportId: (await createSupport(t, officer, team.id)).id };
    const restricted = await restrictedCase(t, await usedAllBut(t), officer);
    built.restricted = { id: restricted.id, concernId: restricted.concernId };
  });
  afterAll(async () => {
    await t.close();
  });

  describe.each(HIDDEN)('%s on %s (%s)', (who, name) => {
    it('reads 404, exactly as a missing case', async () => {
      const c = built[name];
      const missing = randomUUID();
      for (const path of [`/cases/${c.id}`, `/cases/${c.id}/history`, `/cases/${c.id}/conversations`, `/cases/${c.id}/support`, `/cases/${c.id}/pre-intervention-meetings`, `/concerns/${c.concernId}`]) {
        const res = await http(t).get(path).set(person(who).auth);
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
      }
      expect((await http(t).get(`/cases/${missing}`).set(person(who).auth)).status).toBe(404);
      // The application's policy was bypassed (it let the read through): the database's rule refused it.
      const read = await http(t).get(`/cases/${c.id}`).set(person(who).auth);
      expect(await auditOf(t, read, person(who).id)).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'row_security' })]);
      if (c.supportId) expect((await http(t).get(`/support/${c.supportId}/progress-notes`).set(person(who).auth)).status).toBe(404);
      if (c.recordId) expect((await http(t).get(`/conversations/${c.recordId}`).set(person(who).auth)).status).toBe(404);
    });

    it('lists without it', async () => {
      const res = expectStatus(await http(t).get('/cases').query({ limit: 100 }).set(person(who).auth), 200);
      expect(res.body.items.map((i: { id: string }) => i.id)).not.toContain(built[name].id);
    });

    it('refuses every write with 4xx and changes nothing', async () => {
      const c = built[name];
      const before = await snapshotOf(t, c.id);
      const version = await versionOf(t, c.id);
      const writes = [
        http(t).post(`/cases/${c.id}/conversations`).set(person(who).auth).send({ kind: 'call', heldOn: '2026-01-20', summary: 'Should not land', handling: 'normal' }),
        http(t).put(`/cases/${c.id}/government-trigger`).set(person(who).auth).send({ department: 'Department for Education', power: 'improvement_notice', version }),
        http(t).post(`/cases/${c.id}/moves`).set(person(who).auth).send({ move: 'start_triage', version }),
        http(t).post(`/cases/${c.id}/support`).set(person(who).auth).send({ kind: 'mentoring', description: 'Should not land' }),
        http(t).post(`/cases/${c.id}/team`).set(person(who).auth).send({ userId: person(who).id, teamRole: 'case_officer' }),
        ...(c.supportId ? [http(t).post(`/support/${c.supportId}/progress-notes`).set(person(who).auth).send({ note: 'Should not land' })] : []),
      ];
      const statuses = (await Promise.all(writes)).map((res) => res.status);
      for (const status of statuses) expect({ statuses, refused: status >= 400 && status < 500 }).toEqual({ statuses, refused: true });
      expect(await snapshotOf(t, c.id)).toEqual(before);
    });
  });

  it('hides items by their marking: a named-only concern from those not named, a party note from other parties and from officers', async () => {
    const { officer, officer2, peerLab, peerCon, manager } = cast;
    expect((await http(t).get(`/concerns/${namedOnlyConcern}`).set(officer.auth)).status).toBe(200);
    expect((await http(t).get(`/concerns/${namedOnlyConcern}`).set(officer2.auth)).status).toBe(404);
    expect((await http(t).get(`/concerns/${namedOnlyConcern}`).set(peerCon.auth)).status).toBe(404);
    expect((await http(t).get(`/conversations/${labourRecord}`).set(peerLab.auth)).status).toBe(200);
    expect((await http(t).get(`/conversations/${labourRecord}`).set(manager.auth)).status).toBe(200);
    for (const who of [peerCon, officer]) {
      expect((await http(t).get(`/conversations/${labourRecord}`).set(who.auth)).status).toBe(404);
      const list = expectStatus(await http(t).get(`/cases/${built.team.id}/conversations`).set(who.auth), 200);
      expect(list.body.map((r: { recordId: string }) => r.recordId)).not.toContain(labourRecord);
      expect(list.body.map((r: { recordId: string }) => r.recordId)).toContain(built.team.recordId);
    }
  });

  it('lets a break-glass grant read a restricted case, never write to it', async () => {
    const { manager2 } = { manager2: cast.manager };
    const c = built.restricted;
    await t.owner.query(`INSERT INTO break_glass_grants (case_id, user_id, reason, expires_at) VALUES ($1, $2, $3, now() + interval '30 minutes')`,
      [c.id, manager2.id, 'A grant made behind the API for the database-alone test']);
    expect((await http(t).get(`/cases/${c.id}`).set(manager2.auth)).status).toBe(200);
    const before = await snapshotOf(t, c.id);
    const version = await versionOf(t, c.id);
    for (const res of [
      await http(t).post(`/cases/${c.id}/conversations`).set(manager2.auth).send({ kind: 'call', heldOn: '2026-01-20', summary: 'Should not land', handling: 'normal' }),
      await http(t).put(`/cases/${c.id}/government-trigger`).set(manager2.auth).send({ department: 'Department for Education', power: 'improvement_notice', version }),
      await http(t).post(`/cases/${c.id}/team`).set(manager2.auth).send({ userId: manager2.id, teamRole: 'case_officer' }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(await snapshotOf(t, c.id)).toEqual(before);
  });

  it('takes a removal from the team into effect on the very next request', async () => {
    const { manager, peerLab } = cast;
    expect((await http(t).get(`/cases/${built.team.id}`).set(peerLab.auth)).status).toBe(200);
    expectStatus(await http(t).delete(`/cases/${built.team.id}/team/${peerLab.id}`).set(manager.auth), 200);
    expect((await http(t).get(`/cases/${built.team.id}`).set(peerLab.auth)).status).toBe(404);
    expect((await http(t).get(`/conversations/${labourRecord}`).set(peerLab.auth)).status).toBe(404);
    const list = expectStatus(await http(t).get('/cases').set(peerLab.auth), 200);
    expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(built.team.id);
  });
});
