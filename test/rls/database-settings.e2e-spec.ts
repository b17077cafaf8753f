import request from 'supertest';
import { DataSource, EntityManager } from 'typeorm';
import { Region, Role } from '../../src/access-control/role';
import { actAsUser, SystemContext } from '../../src/database/row-security';
import { createTestApp, nextTotp, partyIdOf, signedIn, TestApp } from '../support/app';
import { freshAuthority, REASON, restrictedCase } from '../break-glass/fixtures';
import { createSupport, expectStatus, toPreInterventionWithMeeting } from '../access-matrix/fixtures';
import { usedAllBut } from './authorities';
import { asSystemIn, asUserIn, countRows } from './service-role';

/*
 * Row-level security seen from the database side (migrations/1764381300000-RowLevelSecurity.ts):
 * the service's own role, with no settings, with a user's settings, with a system context, and
 * through a pool of two connections shared by alternating users.
 */
jest.setTimeout(60_000);

/** Every table of case data: RLS enabled and forced on each. */
const CASE_TABLES = [
  'cases', 'case_team_members', 'concerns', 'concern_sources', 'case_transitions', 'conversation_records',
  'pre_intervention_meetings', 'improvement_support', 'support_progress_notes', 'case_deadlines',
];

type Person = Awaited<ReturnType<typeof signedIn>>;

describe('row-level security: the database binds the service role', () => {
  let t: TestApp;
  let used: Set<string>;
  let officer: Person;
  let manager: Person;
  let manager2: Person;
  let peerLab: Person;
  let peerCon: Person;
  let riepOther: Person;
  let caseId: string;
  let concernId: string;
  let labourRecord: string;
  let restricted: Awaited<ReturnType<typeof restrictedCase>>;

  const asUser = <T>(userId: string, work: (m: EntityManager) => Promise<T>, ds: DataSource = t.ds): Promise<T> => asUserIn(ds, userId, work);
  const asSystem = <T>(context: SystemContext, work: (m: EntityManager) => Promise<T>): Promise<T> => asSystemIn(t.ds, context, work);
  const count = countRows;

  beforeAll(async () => {
    t = await createTestApp();
    used = await usedAllBut(t);
    const labour = await partyIdOf(t.ds, 'Labour');
    const conservative = await partyIdOf(t.ds, 'Conservative');
    [officer, manager, manager2, peerLab, peerCon, riepOther] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer), signedIn(t, Role.ClearingHouseManager), signedIn(t, Role.ClearingHouseManager),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour }), signedIn(t, Role.LeadPoliticalPeer, { partyId: conservative }),
      signedIn(t, Role.RiepFacilitator, { region: Region.NorthEast }),
    ]);
    const authority = await freshAuthority(t, used);
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority, receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance', description: 'A budget gap',
      source: { name: 'Sam Source', contact: 'sam@example.org' },
    });
    expect(logged.status).toBe(201);
    caseId = logged.body.case.id;
    concernId = logged.body.concern.id;
    for (const [user, teamRole] of [[peerLab, 'lead_political_peer'], [peerCon, 'lead_political_peer']] as const) {
      expect((await request(t.http).post(`/cases/${caseId}/team`).set(manager.auth).send({ userId: user.id, teamRole })).status).toBe(201);
    }
    const conv = await request(t.http).post(`/cases/${caseId}/conversations`).set(peerLab.auth)
      .send({ kind: 'sensitive_conversation', heldOn: '2026-11-02', summary: 'Labour group only', handling: 'party_confidential' });
    expect(conv.status).toBe(201);
    labourRecord = conv.body.recordId;
    const support = await createSupport(t, officer, caseId);
    expectStatus(await request(t.http).post(`/support/${support.id}/progress-notes`).set(officer.auth).send({ note: 'First session held' }), 201);
    await toPreInterventionWithMeeting(t, officer, caseId);
    restricted = await restrictedCase(t, used, officer);
  });
  afterAll(async () => {
    await t.close();
  });

  it('has RLS enabled and forced on every table of case data', async () => {
    const rows: Array<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }> = await t.owner.query(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY ($1) AND relkind = 'r' ORDER BY relname`, [CASE_TABLES]);
    expect(rows.map((r) => r.relname).sort()).toEqual([...CASE_TABLES].sort());
    for (const r of rows) expect(r).toEqual({ relname: r.relname, relrowsecurity: true, relforcerowsecurity: true });
    // The service role neither owns them nor bypasses RLS.
    const [role] = await t.ds.query(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`);
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
  });

  it('shows the service role nothing without settings, or with the id of no user', async () => {
    for (const table of CASE_TABLES) {
      expect(await count(t.owner, table)).toBeGreaterThan(0);
      expect(await count(t.ds, table)).toBe(0);
      expect(await asUser('00000000-0000-0000-0000-000000000000', (m) => count(m, table))).toBe(0);
    }
    // Writes too: with no identity an insert is refused.
    await expect(t.ds.query(`INSERT INTO case_transitions (case_id, sequence, move, to_state, actor_id, actor_role) VALUES ($1, 99, 'x', 'triage', $2, 'clearing_house_officer')`, [caseId, officer.id]))
      .rejects.toThrow(/row-level security/);
  });

  it('leaves no setting behind on a connection once the transaction ends', async () => {
    await asUser(officer.id, async (m) => {
      expect((await m.query(`SELECT current_setting('clearing_house.user_id', true) AS v`))[0].v).toBe(officer.id);
    });
    const q = t.ds.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction();
      await actAsUser(q.manager, officer.id);
      await q.commitTransaction();
      const [after] = await q.query(`SELECT coalesce(current_setting('clearing_house.user_id', true), '') AS u, coalesce(current_setting('clearing_house.system', true), '') AS s`);
      expect(after).toEqual({ u: '', s: '' });
      expect(await count(q.manager, 'cases')).toBe(0);
    } finally {
      await q.release();
    }
  });

  it('mirrors case visibility: region, team, restriction; and item markings', async () => {
    expect(await asUser(officer.id, (m) => count(m, 'cases', 'id = $1', [caseId]))).toBe(1);
    expect(await asUser(riepOther.id, (m) => count(m, 'cases', 'id = $1', [caseId]))).toBe(0);
    expect(await asUser(riepOther.id, (m) => count(m, 'concerns', 'case_id = $1', [caseId]))).toBe(0);
    expect(await asUser(peerLab.id, (m) => count(m, 'cases', 'id = $1', [caseId]))).toBe(1);
    // The Labour note: its recorder's party (and managers) only.
    expect(await asUser(peerLab.id, (m) => count(m, 'conversation_records', 'record_id = $1', [labourRecord]))).toBe(1);
    expect(await asUser(manager.id, (m) => count(m, 'conversation_records', 'record_id = $1', [labourRecord]))).toBe(1);
    expect(await asUser(peerCon.id, (m) => count(m, 'conversation_records', 'record_id = $1', [labourRecord]))).toBe(0);
    expect(await asUser(officer.id, (m) => count(m, 'conversation_records', 'record_id = $1', [labourRecord]))).toBe(0);
    // A case restricted to its team: its team and the manager who restricted it; no other manager or officer.
    expect(await asUser(restricted.teamOfficer.id, (m) => count(m, 'cases', 'id = $1', [restricted.id]))).toBe(1);
    expect(await asUser(restricted.setter.id, (m) => count(m, 'cases', 'id = $1', [restricted.id]))).toBe(1);
    expect(await asUser(manager2.id, (m) => count(m, 'cases', 'id = $1', [restricted.id]))).toBe(0);
    expect(await asUser(officer.id, (m) => count(m, 'concerns', 'case_id = $1', [restricted.id]))).toBe(0);
  });

  it('refuses writes the policy refuses: a peer of another party, a peer off the team, a party note for another party', async () => {
    const insertNote = (m: EntityManager, who: Person, party: string | null, handling: string) => m.query(
      `INSERT INTO conversation_records (record_id, version, case_id, kind, held_on, summary, handling, party_id, recorded_by)
       VALUES (gen_random_uuid(), 1, $1, 'call', '2026-11-03', NULL, $2, $3, $4)`, [caseId, handling, party, who.id]);
    const labour = await partyIdOf(t.ds, 'Labour');
    // The Conservative peer on the team may not write a Labour party-confidential note.
    await expect(asUser(peerCon.id, (m) => insertNote(m, peerCon, labour, 'party_confidential'))).rejects.toThrow(/row-level security/);
    // Nobody writes in another's name.
    await expect(asUser(peerCon.id, (m) => insertNote(m, peerLab, null, 'normal'))).rejects.toThrow(/row-level security/);
    // A RIEP facilitator of another region may not write to the case at all.
    await expect(asUser(riepOther.id, (m) => insertNote(m, riepOther, null, 'normal'))).rejects.toThrow(/row-level security/);
    // Updates of a case the caller cannot see touch nothing.
    expect(await asUser(riepOther.id, async (m) => (await m.query(`UPDATE cases SET updated_at = now() WHERE id = $1`, [caseId]))[1])).toBe(0);
  });

  it('lets a break-glass grant read the case but never write to it, and never see the source', async () => {
    const res = await request(t.http).post(`/cases/${restricted.id}/break-glass`).set(manager2.auth).send({ reason: REASON, code: nextTotp(manager2.email) });
    expect(res.status).toBe(201);
    await asUser(manager2.id, async (m) => {
      expect(await count(m, 'cases', 'id = $1', [restricted.id])).toBe(1);
      expect(await count(m, 'concerns', 'case_id = $1', [restricted.id])).toBe(1);
      expect(await count(m, 'concern_sources', 'concern_id = $1', [restricted.concernId])).toBe(0);
      expect((await m.query(`UPDATE cases SET updated_at = now() WHERE id = $1`, [restricted.id]))[1]).toBe(0);
      await expect(m.query(`INSERT INTO case_transitions (case_id, sequence, move, to_state, actor_id, actor_role) VALUES ($1, 99, 'x', 'triage', $2, 'clearing_house_manager')`, [restricted.id, manager2.id]))
        .rejects.toThrow(/row-level security/);
    });
    // The manager who restricted it (not under break-glass) sees the source.
    expect(await asUser(restricted.setter.id, (m) => count(m, 'concern_sources', 'concern_id = $1', [restricted.concernId]))).toBe(1);
  });

  it("shows a source's identity to a manager, or to staff holding an approved unexpired release; to nobody else", async () => {
    expect(await asUser(manager.id, (m) => count(m, 'concern_sources', 'concern_id = $1', [concernId]))).toBe(1);
    expect(await asUser(officer.id, (m) => count(m, 'concern_sources', 'concern_id = $1', [concernId]))).toBe(0);
    expect(await asUser(peerLab.id, (m) => count(m, 'concern_sources', 'concern_id = $1', [concernId]))).toBe(0);
    // Officers still see that a source exists (never who).
    expect(await asUser(officer.id, async (m) => (await m.query(`SELECT ch_concern_has_source($1) AS s`, [concernId]))[0].s)).toBe(true);
    const release = (expires: string) => t.owner.query(
      `INSERT INTO source_identity_releases (concern_id, case_id, requested_by, released_to, reason, state, approved_by, decided_at, expires_at)
       VALUES ($1, $2, $3, $4, 'A safeguarding follow-up needs the contact', 'approved', $5, now(), now() + $6::interval) RETURNING id`,
      [concernId, caseId, manager.id, officer.id, manager2.id, expires]);
    const [expired] = await release('-1 minute');
    expect(await asUser(officer.id, (m) => count(m, 'concern_sources', 'concern_id = $1', [concernId]))).toBe(0);
    await t.owner.query(`UPDATE source_identity_releases SET state = 'expired' WHERE id = $1`, [expired.id]);
    await release('1 hour');
    expect(await asUser(officer.id, (m) => count(m, 'concern_sources', 'concern_id = $1', [concernId]))).toBe(1);
  });

  it('admits each system context only to the tables its work needs', async () => {
    await asSystem(SystemContext.Statistics, async (m) => {
      expect(await count(m, 'cases', 'id = $1', [caseId])).toBe(1);
      expect(await count(m, 'concerns', 'case_id = $1', [caseId])).toBe(1);
      expect(await count(m, 'concern_sources')).toBe(0);
      expect(await count(m, 'conversation_records')).toBe(0);
      expect(await count(m, 'case_team_members')).toBe(0);
    });
    await asSystem(SystemContext.Audit, async (m) => {
      expect(await count(m, 'cases', 'id = $1', [caseId])).toBe(1);
      for (const table of CASE_TABLES.filter((x) => x !== 'cases')) expect(await count(m, table)).toBe(0);
    });
    await asSystem(SystemContext.Encryption, async (m) => {
      expect(await count(m, 'cases')).toBe(0);
      expect(await count(m, 'concern_sources', 'concern_id = $1', [concernId])).toBe(1);
    });
    // A system context writes nothing it was not given.
    await expect(asSystem(SystemContext.Statistics, (m) => m.query(
      `INSERT INTO case_transitions (case_id, sequence, move, to_state, actor_id, actor_role) VALUES ($1, 99, 'x', 'triage', $2, 'clearing_house_officer')`, [caseId, officer.id])))
      .rejects.toThrow(/row-level security/);
  });

  it('never leaks a row across users through a pool of two connections', async () => {
    const pool = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL, extra: { max: 2 } });
    await pool.initialize();
    try {
      const seen = async (who: Person) => asUser(who.id, async (m) => (await m.query(`SELECT id FROM cases WHERE id = ANY ($1)`, [[caseId, restricted.id]])).map((r: { id: string }) => r.id).sort(), pool);
      const expected = new Map<Person, string[]>([
        [officer, [caseId]], [riepOther, []], [restricted.teamOfficer, [restricted.id, caseId].sort()], [peerLab, [caseId]], [manager, [caseId]],
      ]);
      const order = [...expected.keys()];
      // Alternating users, two at a time, over the same two connections, many rounds.
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all(order.map(async (who) => ({ who, ids: await seen(who) })));
        for (const { who, ids } of results) expect(ids).toEqual(expected.get(who));
        // Between transactions, nobody's identity stays on either connection.
        const leftovers = await Promise.all([0, 1].map(() => pool.query(`SELECT coalesce(current_setting('clearing_house.user_id', true), '') AS u, (SELECT count(*)::int FROM cases) AS n`)));
        for (const l of leftovers) expect(l[0]).toEqual({ u: '', n: 0 });
      }
    } finally {
      await pool.destroy();
    }
  });
});
