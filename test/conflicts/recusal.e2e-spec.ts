import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AccessRule, caseVisibility } from '../../src/access-control/case-access-policy';
import { accessFactsOf, CASE_SELECT, CaseRow } from '../../src/access-control/case-file-transaction';
import { TeamRole } from '../../src/access-control/handling';
import { Region, Role } from '../../src/access-control/role';
import { actAsSystem, SystemContext } from '../../src/database/row-security';
import { expectApiError, fieldsOf } from '../support/api-error';
import { nextTotp, TestApp } from '../support/app';
import { restrictedCase } from '../break-glass/fixtures';
import { newCase, newPerson, Person, RECUSAL_REASON, TestCase, WITHDRAW_REASON } from './fixtures';
import { ConflictsApp, openConflictsApp } from './support';

/*
 * Recusal (issue 8, point 4): anyone who may see a case may step away from it. Their access ends
 * on their next request whatever their role (register, region after referral, team), in reads,
 * lists, counts and writes alike, and in the database's row-level security too. Only a
 * clearing-house manager withdraws a recusal, with a reason. All of it audited.
 */
describe('recusal from a case', () => {
  let t: TestApp, logger: Person, manager: Person, events: ConflictsApp['events'];
  const used = new Set<string>();

  beforeAll(async () => { ({ t, logger, manager, events } = await openConflictsApp('Case manager')); });
  afterAll(() => t.close());

  const get = (who: Person, path: string) => request(t.http).get(path).set(who.auth);
  const recuse = (who: Person, caseId: string, body: Record<string, unknown> = { reason: RECUSAL_REASON }) =>
    request(t.http).post(`/cases/${caseId}/recusal`).set(who.auth).send(body);
  const withdraw = (who: Person, caseId: string, body: Record<string, unknown>) => request(t.http).post(`/cases/${caseId}/recusals/withdraw`).set(who.auth).send(body);
  const listed = async (who: Person, c: TestCase) => {
    const res = await get(who, `/cases?authority=${c.authority.code}&limit=100`);
    expect(res.status).toBe(200);
    return { total: res.body.total as number, ids: (res.body.items as Array<{ id: string }>).map((i) => i.id) };
  };
  /** What the service's own database role returns for this user, with no application policy in the query at all. */
  const rowsInDatabase = async (userId: string, c: TestCase) =>
    t.ds.transaction(async (m) => {
      await m.query(`SELECT set_config('clearing_house.user_id', $1, true)`, [userId]);
      const count = async (sql: string) => Number((await m.query(sql, [c.id]))[0].n);
      return {
        cases: await count(`SELECT count(*) AS n FROM cases WHERE id = $1`),
        concerns: await count(`SELECT count(*) AS n FROM concerns WHERE case_id = $1`),
        history: await count(`SELECT count(*) AS n FROM case_transitions WHERE case_id = $1`),
        team: await count(`SELECT count(*) AS n FROM case_team_members WHERE case_id = $1`),
      };
    });

  /** A case seen by an officer and a manager (the register), a RIEP facilitator (its region, referred) and a peer (its team). */
  async function caseWithReaders() {
    const c = await newCase(t, used, logger);
    // Referral is a fixture here (the workflow to get there is tested elsewhere): the facilitator sees it by region.
    await t.owner.query(`UPDATE cases SET referred_to_riep_at = now() WHERE id = $1`, [c.id]);
    const readers = {
      officer: await newPerson(t, Role.ClearingHouseOfficer),
      manager: await newPerson(t, Role.ClearingHouseManager),
      facilitator: await newPerson(t, Role.RiepFacilitator, { region: c.authority.region as Region }),
      peer: await newPerson(t, Role.LeadPoliticalPeer),
    };
    const added = await request(t.http).post(`/cases/${c.id}/team`).set(manager.auth).send({ userId: readers.peer.id, teamRole: TeamRole.LeadPoliticalPeer });
    expect(added.status).toBe(201);
    return { c, readers };
  }

  it('ends access at once for every kind of reader: 404 like a missing case, gone from lists and counts, writes refused; others unaffected', async () => {
    const { c, readers } = await caseWithReaders();
    const missing = await get(logger, `/cases/${randomUUID()}`);
    for (const [kind, who] of Object.entries(readers)) {
      expect({ kind, status: (await get(who, `/cases/${c.id}`)).status }).toEqual({ kind, status: 200 });
      const before = await listed(who, c);
      expect(before.ids).toContain(c.id);

      const res = await recuse(who, c.reference);
      expect({ kind, status: res.status }).toEqual({ kind, status: 201 });
      expect(res.body).toEqual({ id: expect.any(String), caseId: c.id, caseReference: c.reference, recusedAt: expect.any(String), leftTeam: kind === 'peer' });

      // The very next request: as if the case did not exist.
      for (const path of [`/cases/${c.id}`, `/cases/${c.reference}`, `/cases/${c.id}/history`, `/cases/${c.id}/deadlines`]) {
        const hidden = await get(who, path);
        expectApiError(hidden, 404, 'NOT_FOUND');
        expect({ kind, path, message: hidden.body.message }).toEqual({ kind, path, message: missing.body.message });
      }
      expectApiError(await get(who, `/concerns/${c.concernId}`), 404, 'NOT_FOUND');
      const after = await listed(who, c);
      expect({ kind, ids: after.ids }).toEqual({ kind, ids: before.ids.filter((id) => id !== c.id) });
      expect({ kind, total: after.total }).toEqual({ kind, total: before.total - 1 });
      // Writes: refused exactly as on a missing case.
      expectApiError(await request(t.http).post(`/cases/${c.id}/moves`).set(who.auth).send({ move: 'start_triage', version: 1 }), 404, 'NOT_FOUND');
      expectApiError(await request(t.http).put(`/cases/${c.id}/government-trigger`).set(who.auth).send({ department: 'DfE', power: 'improvement_notice', version: 1 }), 404, 'NOT_FOUND');
      // Recusing again: the case is not there for them.
      expectApiError(await recuse(who, c.id), 404, 'NOT_FOUND');
      // The database itself shows them nothing of the case, with no application policy in the query.
      expect(await rowsInDatabase(who.id, c)).toEqual({ cases: 0, concerns: 0, history: 0, team: 0 });
    }

    // Everyone else is unaffected.
    expect((await get(logger, `/cases/${c.id}`)).status).toBe(200);
    expect((await listed(logger, c)).ids).toContain(c.id);
    expect(await rowsInDatabase(logger.id, c)).toEqual({ cases: 1, concerns: 1, history: 1, team: 1 });
    // The peer left the team.
    const kase = await get(manager, `/cases/${c.id}`);
    expect(kase.body.team).toEqual([]);

    // The auditor sees each recusal with its reason, and the refusals under rule `recused`.
    const trail = await events({ caseId: c.id });
    for (const who of Object.values(readers)) {
      expect(trail).toContainEqual(
        expect.objectContaining({ action: 'recuse', resourceType: 'recusal', outcome: 'allowed', actorId: who.id, justification: RECUSAL_REASON, rule: 'self_recusal' }),
      );
      expect(trail).toContainEqual(expect.objectContaining({ action: 'read', outcome: 'denied', actorId: who.id, rule: 'recused' }));
    }
    expect(trail).toContainEqual(expect.objectContaining({ action: 'remove_team_member', actorId: readers.peer.id, resourceId: readers.peer.id, rule: 'self_recusal' }));

    // Reminders and escalations go to whoever the policy lets see the case at the moment of sending
    // (src/deadlines): the deadline job's own view of the case carries the recusals, so nobody recused is told.
    const [seenByJob]: CaseRow[] = await t.ds.transaction(async (m) => {
      await actAsSystem(m, SystemContext.Deadlines);
      return m.query(`${CASE_SELECT} WHERE c.id = $1`, [c.id]);
    });
    expect([...seenByJob.recused_user_ids].sort()).toEqual(Object.values(readers).map((r) => r.id).sort());
    for (const who of Object.values(readers)) {
      const p = { userId: who.id, sessionId: '', email: who.email, displayName: '', role: who.role, region: who.region, partyId: who.partyId };
      expect(caseVisibility(p, accessFactsOf(seenByJob))).toEqual({ allowed: false, rule: AccessRule.Recused });
    }
  });

  it('refuses a recusal from a case the caller cannot see, exactly as a missing case (404): no recusal, the refusal audited', async () => {
    const c = await newCase(t, used, logger);
    const peer = await newPerson(t, Role.LeadPoliticalPeer);
    const elsewhere = (Object.values(Region) as Region[]).find((r) => r !== c.authority.region)!;
    const facilitator = await newPerson(t, Role.RiepFacilitator, { region: elsewhere });
    for (const who of [peer, facilitator]) {
      expectApiError(await recuse(who, c.id), 404, 'NOT_FOUND');
      expectApiError(await recuse(who, randomUUID()), 404, 'NOT_FOUND');
    }
    for (const role of [Role.Auditor, Role.Administrator]) expectApiError(await recuse(await newPerson(t, role), c.id), 403, 'FORBIDDEN');
    expect(await t.owner.query(`SELECT 1 FROM case_recusals WHERE case_id = $1`, [c.id])).toEqual([]);
    const refusals = await events({ caseId: c.id, action: 'recuse' });
    expect(refusals).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'denied', actorId: facilitator.id, rule: 'riep_other_region' }),
      expect.objectContaining({ outcome: 'denied', actorId: peer.id, rule: 'peer_not_on_team' }),
    ]));
    expect(refusals.filter((e) => e.outcome !== 'denied')).toEqual([]);
  });

  it('takes an optional reason, never an empty one or unknown fields', async () => {
    const c = await newCase(t, used, logger);
    const officer = await newPerson(t, Role.ClearingHouseOfficer);
    expect(fieldsOf(await recuse(officer, c.id, { reason: '   ' }))).toEqual(['reason']);
    expect(fieldsOf(await recuse(officer, c.id, { reason: 'x'.repeat(2001) }))).toEqual(['reason']);
    expect(fieldsOf(await recuse(officer, c.id, { userId: manager.id }))).toEqual(['userId']);
    const res = await recuse(officer, c.id, {});
    expect(res.status).toBe(201);
    expect(await events({ caseId: c.id, action: 'recuse', outcome: 'allowed' })).toEqual([expect.objectContaining({ actorId: officer.id, justification: null })]);
  });

  it('is withdrawn only by a clearing-house manager, with a reason; access is then back as the role gives it', async () => {
    const c = await newCase(t, used, logger);
    const officer = await newPerson(t, Role.ClearingHouseOfficer);
    const recusedManager = await newPerson(t, Role.ClearingHouseManager);
    expect((await recuse(officer, c.id)).status).toBe(201);
    expect((await recuse(recusedManager, c.id)).status).toBe(201);

    // Managers see who stepped away, and why; nobody else may.
    const list = await get(manager, `/cases/${c.id}/recusals`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual(expect.arrayContaining([
      expect.objectContaining({ userId: officer.id, reason: RECUSAL_REASON, withdrawnAt: null }),
      expect.objectContaining({ userId: recusedManager.id, reason: RECUSAL_REASON, withdrawnAt: null }),
    ]));
    expectApiError(await get(logger, `/cases/${c.id}/recusals`), 403, 'FORBIDDEN');

    const noReason = await withdraw(manager, c.id, { userId: officer.id });
    expectApiError(noReason, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(noReason)).toEqual(['reason']);
    expect(fieldsOf(await withdraw(manager, c.id, { userId: officer.id, reason: 'short' }))).toEqual(['reason']);
    expectApiError(await withdraw(logger, c.id, { userId: officer.id, reason: WITHDRAW_REASON }), 403, 'FORBIDDEN');
    // The recused manager cannot lift their own (or anyone's) recusal there: they cannot see the case.
    expectApiError(await withdraw(recusedManager, c.id, { userId: recusedManager.id, reason: WITHDRAW_REASON }), 404, 'NOT_FOUND');
    expectApiError(await withdraw(recusedManager, c.id, { userId: officer.id, reason: WITHDRAW_REASON }), 404, 'NOT_FOUND');
    expectApiError(await withdraw(manager, c.id, { userId: logger.id, reason: WITHDRAW_REASON }), 404, 'NOT_FOUND');
    expectApiError(await get(officer, `/cases/${c.id}`), 404, 'NOT_FOUND');

    const done = await withdraw(manager, c.id, { userId: officer.id, reason: WITHDRAW_REASON });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ userId: officer.id, withdrawnBy: manager.id, withdrawReason: WITHDRAW_REASON, withdrawnAt: expect.any(String) });
    expect((await get(officer, `/cases/${c.id}`)).status).toBe(200);
    expect((await listed(officer, c)).ids).toContain(c.id);
    expectApiError(await withdraw(manager, c.id, { userId: officer.id, reason: WITHDRAW_REASON }), 404, 'NOT_FOUND');
    // The other recusal stands.
    expectApiError(await get(recusedManager, `/cases/${c.id}`), 404, 'NOT_FOUND');

    expect(await events({ caseId: c.id, action: 'withdraw_recusal' })).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'allowed', actorId: manager.id, justification: WITHDRAW_REASON, rule: 'recusal_withdrawn' }),
      expect.objectContaining({ outcome: 'denied', actorId: logger.id }),
    ]));
    // The database refuses a second withdrawal, or any other change, even to its owner.
    await expect(t.owner.query(`UPDATE case_recusals SET withdraw_reason = 'rewritten history' WHERE case_id = $1 AND user_id = $2`, [c.id, officer.id])).rejects.toThrow(/withdrawn recusal/);
    await expect(t.owner.query(`DELETE FROM case_recusals WHERE case_id = $1`, [c.id])).rejects.toThrow(/never deleted/);
  });

  it('keeps a recused user off the team until the recusal is withdrawn (no override)', async () => {
    const c = await newCase(t, used, logger);
    const peer = await newPerson(t, Role.LeadPoliticalPeer);
    const add = (body: Record<string, unknown> = {}) =>
      request(t.http).post(`/cases/${c.id}/team`).set(manager.auth).send({ userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer, ...body });
    expect((await add()).status).toBe(201);
    expect((await recuse(peer, c.id)).body.leftTeam).toBe(true);
    const refused = await add();
    expect(expectApiError(refused, 409, 'CONFLICT').details).toEqual({
      conflict: { rule: 'conflict_candidate_recused', userId: peer.id, authority: c.authority.code, declarations: [] },
    });
    expectApiError(await add({ overrideConflict: true, overrideReason: WITHDRAW_REASON }), 409, 'CONFLICT');
    expect((await withdraw(manager, c.id, { userId: peer.id, reason: WITHDRAW_REASON })).status).toBe(200);
    // Withdrawal does not put them back on the team: a peer sees the case again only when added.
    expectApiError(await get(peer, `/cases/${c.id}`), 404, 'NOT_FOUND');
    expect((await add()).status).toBe(201);
    expect((await get(peer, `/cases/${c.id}`)).status).toBe(200);
  });

  it('beats break-glass: a manager reading a restricted case under a grant may recuse, and the grant then opens nothing', async () => {
    const c = await restrictedCase(t, used, logger);
    const reader = await newPerson(t, Role.ClearingHouseManager);
    const reason = 'Cover for the case lead: the council meets tonight and needs a briefing';
    expect((await request(t.http).post(`/cases/${c.id}/break-glass`).set(reader.auth).send({ reason, code: nextTotp(reader.email) })).status).toBe(201);
    expect((await get(reader, `/cases/${c.id}`)).status).toBe(200);
    const res = await recuse(reader, c.id);
    expect(res.status).toBe(201);
    expect(res.body.leftTeam).toBe(false);
    expectApiError(await get(reader, `/cases/${c.id}`), 404, 'NOT_FOUND');
    // The grant has not expired, yet it no longer opens anything, in lists either.
    expect(await t.owner.query(`SELECT 1 FROM break_glass_grants WHERE case_id = $1 AND user_id = $2 AND expires_at > now()`, [c.id, reader.id])).toHaveLength(1);
    expect((await listed(reader, { ...c, authority: { code: c.authority, id: '', region: '' }, concernId: c.concernId })).ids).not.toContain(c.id);
    // The team member still sees it; the case version moved on only for team changes.
    expect((await get(c.teamOfficer, `/cases/${c.id}`)).body.version).toBe(c.version);
    const member = await recuse(c.teamOfficer, c.id);
    expect(member.body.leftTeam).toBe(true);
    const after = await get(c.setter, `/cases/${c.id}`);
    expect(after.body).toMatchObject({ version: c.version + 1, team: [] });
  });

  it('guards every case table with row-level security against recused users', async () => {
    const rows: Array<{ table: string; guarded: boolean }> = await t.owner.query(`
      SELECT c.relname AS table, EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = 'rls_not_recused' AND p.permissive = 'RESTRICTIVE') AS guarded
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND c.relname <> 'case_recusals'
         AND (c.relname IN ('cases', 'concern_sources', 'support_progress_notes')
              OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'case_id' AND NOT a.attisdropped))`);
    expect(rows.map((r) => r.table)).toEqual(expect.arrayContaining(['cases', 'concerns', 'concern_sources', 'case_team_members', 'case_transitions', 'conversation_records']));
    expect(rows.filter((r) => !r.guarded)).toEqual([]);
  });
});
