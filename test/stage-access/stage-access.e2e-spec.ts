import { randomUUID } from 'node:crypto';
import { Region, Role } from '../../src/access-control/role';
import { createTestApp, partyIdOf, signedIn, TestApp } from '../support/app';
import {
  addToTeam, createSupport, expectStatus, http, logConcern, MISSING_CASE_ID, move, moveOk, Person, recordConversation, referToRiep, toSensitiveConversation,
  versionOf, withoutRequestId,
} from '../access-matrix/fixtures';

jest.setTimeout(90_000);

/*
 * Access that follows the workflow stage (issue 8, point 1), through the HTTP API: a government
 * liaison sees nothing before the pre-intervention meeting stage, only the released pack while
 * the case is at that stage and they are named for it, and nothing again once the stage ends;
 * RIEP facilitators from referral; a peer removed from the team at once; and the auditors' list.
 */
describe('stage access', () => {
  let t: TestApp;
  let officer: Person, manager: Person, manager2: Person, auditor: Person, riep: Person, peer: Person;
  let liaison: Person, liaison2: Person, liaison3: Person;
  let caseId: string, reference: string;
  let otherCaseId: string;
  let supportId: string, proposedSupportId: string, meetingId: string;
  let recordId: string;
  let concernId: string;

  const pack = (who: Person, id = caseId) => http(t).get(`/cases/${id}/pack`).set(who.auth);
  const packs = (who: Person) => http(t).get('/stage-access/packs').set(who.auth);
  const name = (who: Person, liaisonUser: Person, id = caseId) =>
    http(t).post(`/cases/${id}/liaisons`).set(who.auth).send({ userId: liaisonUser.id, reason: 'Named by the Department for the meeting' });
  const release = (who: Person, body: Record<string, unknown>, id = caseId) => http(t).post(`/cases/${id}/pack/items`).set(who.auth).send(body);
  /** The answer for a case that does not exist, for this caller: a hidden pack must read exactly the same. */
  const expectAsMissing = async (who: Person, id = caseId) => {
    const hidden = await pack(who, id);
    const missing = await pack(who, MISSING_CASE_ID);
    expect(hidden.status).toBe(404);
    expect({ status: hidden.status, body: withoutRequestId(hidden.body) }).toEqual({ status: missing.status, body: withoutRequestId(missing.body) });
  };
  const toPreIntervention = async (id: string) => {
    expectStatus(await http(t).put(`/cases/${id}/government-trigger`).set(officer.auth).send({ department: 'Department for Education', power: 'improvement_notice', version: await versionOf(t, id) }), 200);
    await moveOk(t, officer, id, 'call_pre_intervention_meeting');
  };

  beforeAll(async () => {
    t = await createTestApp();
    const labour = await partyIdOf(t.ds, 'Labour');
    [officer, manager, manager2, auditor, riep, peer, liaison, liaison2, liaison3] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Stage officer' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Stage manager' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Stage manager 2' }),
      signedIn(t, Role.Auditor, { name: 'Stage auditor' }),
      signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands, name: 'Stage RIEP' }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Stage peer' }),
      signedIn(t, Role.GovernmentLiaison, { name: 'DfE official' }),
      signedIn(t, Role.GovernmentLiaison, { name: 'DLUHC official' }),
      signedIn(t, Role.GovernmentLiaison, { name: 'Cabinet Office official' }),
    ]);
    const c = await logConcern(t, officer, { authority: 'COV', description: 'CONCERN-TEXT-NEVER-IN-PACK', source: { name: 'SOURCE-NAME-NEVER-IN-PACK', contact: '0100 000' } });
    caseId = c.id;
    reference = c.reference;
    concernId = c.concernId;
    await toSensitiveConversation(t, officer, caseId);
    recordId = await recordConversation(t, officer, caseId, { summary: 'CONVERSATION-NEVER-IN-PACK' });
    supportId = (await createSupport(t, officer, caseId, { status: 'agreed', description: 'Peer mentoring for the leader' })).id;
    proposedSupportId = (await createSupport(t, officer, caseId, { description: 'A proposal not yet agreed' })).id;
    otherCaseId = (await logConcern(t, officer, { authority: 'SAW', description: 'Another council' })).id;
    await toPreIntervention(otherCaseId);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('before the pre-intervention meeting stage', () => {
    it('the liaison sees nothing: the pack answers as for a missing case, and no packs are open', async () => {
      await expectAsMissing(liaison);
      expect((await packs(liaison)).body).toEqual([]);
    });

    it('nobody may be named yet', async () => {
      expect((await name(manager, liaison)).status).toBe(422);
    });
  });

  describe('at the stage', () => {
    beforeAll(async () => {
      await toPreIntervention(caseId);
      const meeting = expectStatus(await http(t).post(`/cases/${caseId}/pre-intervention-meetings`).set(officer.auth).send({
        meetingOn: '2026-12-10', interventionContemplated: 'improvement_notice', agenda: 'AGENDA: the sector-led alternative',
        attendees: [{ organisationType: 'government_department', organisation: 'Department for Education' }],
      }), 201);
      meetingId = meeting.body.id;
    });

    it('a liaison not yet named still sees nothing', async () => {
      await expectAsMissing(liaison);
    });

    it('only a manager names a liaison, only a government liaison can be named, and the naming is audited with its reason', async () => {
      expect((await name(officer, liaison)).status).toBe(403);
      expect((await name(liaison, liaison)).status).toBe(403);
      expect((await name(manager, officer)).status).toBe(400);
      const res = expectStatus(await name(manager, liaison), 201);
      expect(res.body).toMatchObject({ caseId, userId: liaison.id, namedBy: manager.id, removedAt: null, current: true });
      expect((await name(manager, liaison)).status).toBe(422);
      const [audit] = await t.ds.query(`SELECT outcome, justification FROM audit_events WHERE action = 'name_liaison' AND case_id = $1 AND resource_id = $2`, [caseId, res.body.id]);
      expect(audit).toEqual({ outcome: 'allowed', justification: 'Named by the Department for the meeting' });
    });

    it('the named liaison reads the pack, empty until the clearing house releases items', async () => {
      const res = expectStatus(await pack(liaison), 200);
      expect(res.body).toEqual({ caseId, reference, authorityName: expect.stringContaining('Coventry'), stageEnteredAt: expect.any(String), items: [] });
      expect((await packs(liaison)).body).toEqual([{ caseId, reference, authorityName: expect.any(String), stageEnteredAt: expect.any(String) }]);
    });

    it('staff release a summary, agreed support and the meeting; never a proposal; not a liaison or a peer', async () => {
      expectStatus(await release(officer, { kind: 'summary', title: 'Where things stand', summary: 'A summary written for the meeting' }), 201);
      expectStatus(await release(manager, { kind: 'support', supportId }), 201);
      expectStatus(await release(officer, { kind: 'meeting', meetingId }), 201);
      expect((await release(officer, { kind: 'support', supportId: proposedSupportId })).status).toBe(400);
      expect((await release(officer, { kind: 'support', supportId })).status).toBe(422);
      expect((await release(liaison, { kind: 'summary', summary: 'x' })).status).toBe(403);
      await addToTeam(t, manager, caseId, peer, 'lead_political_peer');
      expect((await release(peer, { kind: 'summary', summary: 'x' })).status).toBe(403);
    });

    it('the liaison sees exactly the released items: never concerns, sources, conversations, team or history', async () => {
      const res = expectStatus(await pack(liaison), 200);
      expect(res.body.items.map((i: { kind: string }) => i.kind)).toEqual(['summary', 'support', 'meeting']);
      expect(res.body.items[1].support).toMatchObject({ id: supportId, status: 'agreed', description: 'Peer mentoring for the leader' });
      expect(res.body.items[2].meeting).toMatchObject({ id: meetingId, agenda: 'AGENDA: the sector-led alternative' });
      const text = JSON.stringify(res.body);
      for (const secret of ['CONCERN-TEXT-NEVER-IN-PACK', 'SOURCE-NAME-NEVER-IN-PACK', 'CONVERSATION-NEVER-IN-PACK', 'A proposal not yet agreed', peer.id, officer.id]) {
        expect(text).not.toContain(secret);
      }
    });

    it('the liaison is refused every case-file route, and the database shows them no case data', async () => {
      for (const path of ['/cases', `/cases/${caseId}`, `/cases/${caseId}/history`, `/cases/${caseId}/conversations`, `/conversations/${recordId}`,
        `/cases/${caseId}/support`, `/support/${supportId}/progress-notes`, `/concerns/${concernId}`, `/cases/${caseId}/compartments`, `/cases/${caseId}/pre-intervention-meetings`, `/cases/${caseId}/liaisons`, `/cases/${caseId}/deadlines`]) {
        expect({ path, status: (await http(t).get(path).set(liaison.auth)).status }).toEqual({ path, status: 403 });
      }
      const seen = await t.ds.transaction(async (m) => {
        await m.query(`SELECT set_config('clearing_house.user_id', $1, true)`, [liaison.id]);
        const [row] = await m.query(`SELECT
            (SELECT count(*)::int FROM cases WHERE id = $1) AS cases,
            (SELECT count(*)::int FROM concerns WHERE case_id = $1) AS concerns,
            (SELECT count(*)::int FROM conversation_records WHERE case_id = $1) AS conversations,
            (SELECT count(*)::int FROM case_transitions WHERE case_id = $1) AS transitions,
            (SELECT count(*)::int FROM case_team_members WHERE case_id = $1) AS team,
            (SELECT count(*)::int FROM improvement_support WHERE case_id = $1) AS support,
            (SELECT count(*)::int FROM pre_intervention_meetings WHERE case_id = $1) AS meetings,
            (SELECT count(*)::int FROM stage_pack_items WHERE case_id = $1) AS pack_items`, [caseId]);
        return row;
      });
      // Only the released support item (not the proposal) and the released meeting.
      expect(seen).toEqual({ cases: 0, concerns: 0, conversations: 0, transitions: 0, team: 0, support: 1, meetings: 1, pack_items: 3 });
    });

    it('a liaison not named, or named on another case, sees nothing', async () => {
      await expectAsMissing(liaison2);
      await expectAsMissing(liaison, otherCaseId);
      expect((await packs(liaison2)).body).toEqual([]);
    });

    it('a withdrawn item leaves the pack at once', async () => {
      const [summary] = (await pack(officer)).body.items;
      expectStatus(await http(t).post(`/pack-items/${summary.id}/withdrawal`).set(officer.auth), 204);
      expect((await pack(liaison)).body.items.map((i: { kind: string }) => i.kind)).toEqual(['support', 'meeting']);
    });

    it('a liaison removed by a manager loses access at once', async () => {
      const named = expectStatus(await name(manager, liaison3), 201);
      expectStatus(await pack(liaison3), 200);
      expect((await http(t).post(`/liaisons/${named.body.id}/removal`).set(officer.auth)).status).toBe(403);
      expectStatus(await http(t).post(`/liaisons/${named.body.id}/removal`).set(manager2.auth), 200);
      await expectAsMissing(liaison3);
    });

    it('RIEP facilitators and peers have no pack route; auditors none either', async () => {
      for (const who of [riep, peer, auditor]) expect((await pack(who)).status).toBe(403);
    });

    it('refusals are audited with the rule that decided them', async () => {
      const res = await pack(liaison2);
      const rows = await t.ds.query(`SELECT outcome, rule FROM audit_events WHERE request_id = $1`, [res.headers['x-request-id']]);
      expect(rows).toEqual([{ outcome: 'denied', rule: 'liaison_not_named' }]);
    });
  });

  describe('after the stage ends', () => {
    beforeAll(async () => {
      const meetings = expectStatus(await http(t).get(`/cases/${caseId}/pre-intervention-meetings`).set(officer.auth), 200);
      const version = meetings.body.find((m: { id: string }) => m.id === meetingId).version;
      const outcome = await http(t).post(`/pre-intervention-meetings/${meetingId}/outcome`).set(officer.auth).send({ outcome: 'sector_led_alternative_agreed', version });
      expect([200, 201]).toContain(outcome.status);
      const [{ state }] = await t.owner.query(`SELECT state FROM cases WHERE id = $1`, [caseId]);
      if (state === 'pre_intervention') await moveOk(t, officer, caseId, 'return_to_sector_led_support');
    });

    it('the liaison sees nothing again, with no job having run', async () => {
      await expectAsMissing(liaison);
      expect((await packs(liaison)).body).toEqual([]);
      const res = await pack(liaison);
      const rows = await t.ds.query(`SELECT rule FROM audit_events WHERE request_id = $1`, [res.headers['x-request-id']]);
      expect(rows).toEqual([{ rule: 'liaison_case_not_at_stage' }]);
    });

    it('staff see an empty pack, and nothing can be released or named', async () => {
      expect((await pack(officer)).body).toMatchObject({ caseId, stageEnteredAt: null, items: [] });
      expect((await release(officer, { kind: 'summary', summary: 'late' })).status).toBe(422);
      expect((await name(manager, liaison2)).status).toBe(422);
    });

    it('a later pre-intervention stage starts with nobody named and an empty pack', async () => {
      await toPreIntervention(caseId);
      await expectAsMissing(liaison);
      expect((await pack(officer)).body).toMatchObject({ stageEnteredAt: expect.any(String), items: [] });
      expectStatus(await name(manager, liaison), 201);
      expect((await pack(liaison)).body.items).toEqual([]);
    });
  });

  describe('the auditors’ listing of stage-driven access', () => {
    it('shows who got stage access when, and when and why it ended', async () => {
      const res = expectStatus(await http(t).get('/stage-access/grants').query({ caseId }).set(auditor.auth), 200);
      const liaisons = res.body.filter((g: { kind: string }) => g.kind === 'government_liaison');
      expect(liaisons).toEqual([
        expect.objectContaining({ caseId, reference, userId: liaison.id, grantedBy: manager.id, endedBecause: 'stage_ended', endedByMove: expect.any(String), until: expect.any(String) }),
        expect.objectContaining({ userId: liaison3.id, endedBecause: 'removed', until: expect.any(String) }),
        expect.objectContaining({ userId: liaison.id, endedBecause: null, until: null }),
      ]);
      const first = liaisons[0];
      expect(new Date(first.until).getTime()).toBeGreaterThanOrEqual(new Date(first.from).getTime());
      expect(JSON.stringify(res.body)).not.toContain('CONCERN-TEXT-NEVER-IN-PACK');
    });

    it('is for auditors only', async () => {
      for (const who of [officer, manager, liaison, riep]) expect((await http(t).get('/stage-access/grants').set(who.auth)).status).toBe(403);
    });
  });

  describe('retention', () => {
    it('destroying a closed case’s content destroys the texts written for its packs too', async () => {
      const c = await logConcern(t, officer, { authority: 'NTY', description: 'North Tyneside' });
      await toPreIntervention(c.id);
      expectStatus(await release(officer, { kind: 'summary', title: 'A heading', summary: 'PACK-TEXT-TO-DESTROY' }, c.id), 201);
      await moveOk(t, manager, c.id, 'close', { outcome: 'withdrawn', reason: 'Withdrawn by the department' });
      const [review] = await t.owner.query(`INSERT INTO retention_reviews (case_id, due_on, rule, status) VALUES ($1, current_date, 'test', 'pending') RETURNING id`, [c.id]);
      await t.owner.query(`SELECT destroy_case_content($1, $2, $3)`, [c.id, review.id, manager.id]);
      const rows = await t.owner.query(`SELECT title, summary FROM stage_pack_items WHERE case_id = $1`, [c.id]);
      expect(rows).toEqual([{ title: null, summary: '[destroyed under the retention schedule]' }]);
    });
  });

  describe('the other stage-driven rules, decided at request time', () => {
    it('a RIEP facilitator of the region sees a case from its referral to the RIEP, and the auditors see when', async () => {
      const c = await logConcern(t, officer, { authority: 'SOL', description: 'Solihull' });
      expect((await http(t).get(`/cases/${c.id}`).set(riep.auth)).status).toBe(404);
      await referToRiep(t, officer, c.id);
      expect((await http(t).get(`/cases/${c.id}`).set(riep.auth)).status).toBe(200);
      const grants = expectStatus(await http(t).get('/stage-access/grants').query({ caseId: c.id }).set(auditor.auth), 200);
      expect(grants.body).toEqual([expect.objectContaining({ kind: 'riep_referral', region: 'West Midlands', from: expect.any(String), until: null })]);
    });

    it('a peer removed from the team loses access at once', async () => {
      const c = await logConcern(t, officer, { authority: 'STE', description: 'Stoke' });
      await addToTeam(t, manager, c.id, peer, 'lead_political_peer');
      expect((await http(t).get(`/cases/${c.id}`).set(peer.auth)).status).toBe(200);
      expectStatus(await http(t).delete(`/cases/${c.id}/team/${peer.id}`).set(manager.auth), 200);
      const hidden = await http(t).get(`/cases/${c.id}`).set(peer.auth);
      const missing = await http(t).get(`/cases/${randomUUID()}`).set(peer.auth);
      expect({ status: hidden.status, body: withoutRequestId(hidden.body) }).toEqual({ status: missing.status, body: withoutRequestId(missing.body) });
      expect((await move(t, peer, c.id, 'start_triage')).status).toBe(404);
    });
  });
});
