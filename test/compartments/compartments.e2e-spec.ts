import { randomUUID } from 'node:crypto';
import { Region, Role } from '../../src/access-control/role';
import { Clock } from '../../src/deadlines/clock';
import { DeadlineReminders } from '../../src/deadlines/deadline-reminders';
import { ReminderKind } from '../../src/deadlines/deadline.types';
import { createTestApp, partyIdOf, signedIn, TestApp } from '../support/app';
import { addToTeam, expectStatus, http, logConcern, Person, recordConversation, referToRiep, withoutRequestId } from '../access-matrix/fixtures';

jest.setTimeout(90_000);

/*
 * Compartments inside a case (issue 8, point 2), through the HTTP API: a lead political peer's
 * records in their compartment are seen by the peer and the clearing-house staff they name, and
 * by nobody else of the case — not another peer, not the RIEP, not a manager who is not named —
 * for whom lists, counts, history, deadlines and single reads are exactly as if the records did
 * not exist.
 */
describe('compartments', () => {
  let t: TestApp;
  let owner: Person, peerSameParty: Person, peerOther: Person, namedOfficer: Person, namedManager: Person, otherOfficer: Person, otherManager: Person, riep: Person;
  let caseId: string;
  let compartmentId: string;
  let atCreation: string, placedLater: string, ordinary: string;
  let deadlineId: string;
  /** What outsiders saw before any compartment existed. */
  const before = new Map<string, unknown>();

  const conversations = (who: Person) => http(t).get(`/cases/${caseId}/conversations`).set(who.auth);
  const deadlines = (who: Person) => http(t).get(`/cases/${caseId}/deadlines`).set(who.auth);
  const history = (who: Person) => http(t).get(`/cases/${caseId}/history`).set(who.auth);
  const caseView = async (who: Person) => {
    const { version: _v, updatedAt: _u, ...rest } = (await http(t).get(`/cases/${caseId}`).set(who.auth)).body;
    return rest;
  };
  const snapshot = async (who: Person) => ({
    conversations: expectStatus(await conversations(who), 200).body,
    deadlines: expectStatus(await deadlines(who), 200).body,
    history: (await history(who)).body,
    compartments: (await http(t).get(`/cases/${caseId}/compartments`).set(who.auth)).body,
    case: await caseView(who),
  });
  const expectSameAsMissing = async (who: Person, path: (id: string) => string, id: string, method: 'get' | 'post' = 'get', body?: object) => {
    const send = (p: string) => (method === 'get' ? http(t).get(p) : http(t).post(p).send(body ?? {})).set(who.auth);
    const hidden = await send(path(id));
    const missing = await send(path(randomUUID()));
    expect(hidden.status).toBe(404);
    expect({ status: hidden.status, body: withoutRequestId(hidden.body) }).toEqual({ status: missing.status, body: withoutRequestId(missing.body) });
  };

  beforeAll(async () => {
    t = await createTestApp();
    const labour = await partyIdOf(t.ds, 'Labour');
    const conservative = await partyIdOf(t.ds, 'Conservative');
    [owner, peerSameParty, peerOther, namedOfficer, namedManager, otherOfficer, otherManager, riep] = await Promise.all([
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Compartment owner' }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Labour colleague' }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: conservative, name: 'Conservative peer' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Named officer' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Named manager' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Other officer' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Other manager' }),
      signedIn(t, Role.RiepFacilitator, { region: Region.NorthEast, name: 'North East RIEP' }),
    ]);
    caseId = (await logConcern(t, otherOfficer, { authority: 'GAT', description: 'Group in conflict' })).id;
    await referToRiep(t, otherOfficer, caseId);
    for (const p of [owner, peerSameParty, peerOther]) await addToTeam(t, otherManager, caseId, p, 'lead_political_peer');
    ordinary = await recordConversation(t, owner, caseId, { summary: 'An ordinary record everyone on the case reads' });
    for (const who of OUTSIDERS()) before.set(who.id, await snapshot(who));
  });
  afterAll(async () => {
    await t.close();
  });

  const OUTSIDERS = () => [peerSameParty, peerOther, otherOfficer, otherManager, riep];
  const INSIDERS = () => [owner, namedOfficer, namedManager];

  describe('opening a compartment and putting records in it', () => {
    it('only a lead political peer on the team opens one, naming clearing-house staff only', async () => {
      expect((await http(t).post(`/cases/${caseId}/compartments`).set(otherManager.auth).send({})).status).toBe(403);
      expect((await http(t).post(`/cases/${caseId}/compartments`).set(owner.auth).send({ staffIds: [riep.id] })).status).toBe(400);
      const res = expectStatus(await http(t).post(`/cases/${caseId}/compartments`).set(owner.auth).send({ staffIds: [namedOfficer.id, namedManager.id] }), 201);
      compartmentId = res.body.id;
      expect(res.body).toMatchObject({ caseId, peerId: owner.id, recordIds: [] });
      expect(res.body.staff.map((s: { userId: string }) => s.userId).sort()).toEqual([namedOfficer.id, namedManager.id].sort());
    });

    it('the peer records into it at creation, with an agreed action, repeatably under an Idempotency-Key', async () => {
      const key = randomUUID();
      const stamp = async () => {
        const { version, updatedAt } = expectStatus(await http(t).get(`/cases/${caseId}`).set(otherManager.auth), 200).body;
        return { version, updatedAt };
      };
      const caseBefore = await stamp();
      const body = {
        kind: 'sensitive_conversation', heldOn: '2026-11-20', summary: 'COMPARTMENT-SECRET at creation', handling: 'normal', compartmentId,
        agreedActions: [{ description: 'Leader to write to the group', owner: 'Leader', dueOn: '2027-01-15' }],
      };
      const first = expectStatus(await http(t).post(`/cases/${caseId}/conversations`).set(owner.auth).set('Idempotency-Key', key).send(body), 201);
      atCreation = first.body.recordId;
      const replay = expectStatus(await http(t).post(`/cases/${caseId}/conversations`).set(owner.auth).set('Idempotency-Key', key).send(body), 201);
      expect(replay.body).toEqual(first.body);
      // The case itself does not move: its version and time would tell outsiders something was recorded.
      expect(await stamp()).toEqual(caseBefore);
      const [d] = await t.owner.query(`SELECT id FROM case_deadlines WHERE kind = 'agreed_action' AND source_id = $1`, [atCreation]);
      deadlineId = d.id;
    });

    it('nobody else records into it', async () => {
      const body = { kind: 'call', heldOn: '2026-11-21', summary: 'x', handling: 'normal', compartmentId };
      for (const who of [peerSameParty, namedOfficer, otherManager]) {
        expect((await http(t).post(`/cases/${caseId}/conversations`).set(who.auth).send(body)).status).toBe(400);
      }
    });

    it('the peer places one of their own records in it later; not someone else’s', async () => {
      placedLater = await recordConversation(t, owner, caseId, { kind: 'call', summary: 'COMPARTMENT-SECRET placed later' });
      expectStatus(await http(t).post(`/compartments/${compartmentId}/records`).set(owner.auth).send({ recordId: placedLater }), 201);
      const staffRecord = await recordConversation(t, namedOfficer, caseId, { kind: 'call', summary: 'An officer’s record' });
      expect((await http(t).post(`/compartments/${compartmentId}/records`).set(owner.auth).send({ recordId: staffRecord })).status).toBe(400);
      expect((await http(t).post(`/compartments/${compartmentId}/records`).set(namedManager.auth).send({ recordId: placedLater })).status).toBe(403);
      // The officer's record is an ordinary one: everyone sees it, so it is part of every later snapshot.
      for (const who of OUTSIDERS()) {
        const seen = before.get(who.id) as { conversations: Array<{ recordId: string }> };
        seen.conversations = expectStatus(await conversations(who), 200).body;
        expect(seen.conversations.map((c) => c.recordId)).toContain(staffRecord);
      }
    });
  });

  describe('inside the compartment', () => {
    it('the peer and the named staff see its records, their deadlines and the compartment', async () => {
      for (const who of INSIDERS()) {
        const ids = (await conversations(who)).body.map((c: { recordId: string }) => c.recordId);
        expect(ids).toEqual(expect.arrayContaining([atCreation, placedLater, ordinary]));
        expectStatus(await http(t).get(`/conversations/${atCreation}`).set(who.auth), 200);
        expect((await deadlines(who)).body.map((d: { id: string }) => d.id)).toContain(deadlineId);
        const mine = (await http(t).get(`/cases/${caseId}/compartments`).set(who.auth)).body;
        expect(mine.map((k: { id: string }) => k.id)).toEqual([compartmentId]);
        expect(mine[0].recordIds).toEqual([atCreation, placedLater]);
      }
    });

    it('the peer or a named manager corrects a record; it stays in the compartment', async () => {
      const res = expectStatus(await http(t).post(`/conversations/${atCreation}/corrections`).set(namedManager.auth).send({
        version: 1, correctionReason: 'Date', kind: 'sensitive_conversation', heldOn: '2026-11-19', summary: 'COMPARTMENT-SECRET corrected',
        agreedActions: [{ description: 'Leader to write to the group', owner: 'Leader', dueOn: '2027-01-15' }],
      }), 201);
      expect(res.body.version).toBe(2);
      const [d] = await t.owner.query(`SELECT id FROM case_deadlines WHERE kind = 'agreed_action' AND source_id = $1 AND state = 'open'`, [atCreation]);
      deadlineId = d.id;
      await expectSameAsMissing(otherManager, (id) => `/conversations/${id}`, atCreation);
    });
  });

  describe('outside the compartment: as if it did not exist', () => {
    it('lists, counts, deadlines, history, the case and the list of compartments are exactly as before', async () => {
      for (const who of OUTSIDERS()) {
        expect({ who: who.email, ...(await snapshot(who)) }).toEqual({ who: who.email, ...(before.get(who.id) as object) });
      }
    });

    it('a record in it reads, and refuses a correction, exactly as a missing record', async () => {
      for (const who of OUTSIDERS()) {
        await expectSameAsMissing(who, (id) => `/conversations/${id}`, atCreation);
        await expectSameAsMissing(who, (id) => `/conversations/${id}`, placedLater);
      }
      const correction = { version: 2, correctionReason: 'x', kind: 'call', heldOn: '2026-11-19', summary: 'x' };
      for (const who of [otherManager, otherOfficer, peerSameParty]) {
        await expectSameAsMissing(who, (id) => `/conversations/${id}/corrections`, atCreation, 'post', correction);
      }
    });

    it('the compartment itself reads as a missing one, and its agreed action’s deadline as a missing deadline', async () => {
      for (const who of OUTSIDERS()) {
        await expectSameAsMissing(who, (id) => `/compartments/${id}`, compartmentId);
        await expectSameAsMissing(who, (id) => `/compartments/${id}/staff`, compartmentId, 'post', { userId: otherOfficer.id });
      }
      for (const who of [otherManager, otherOfficer, peerSameParty, riep]) {
        await expectSameAsMissing(who, (id) => `/deadlines/${id}/met`, deadlineId, 'post');
      }
    });

    it('the refusal is audited with the compartment rule', async () => {
      const res = await http(t).get(`/conversations/${atCreation}`).set(otherManager.auth);
      const rows = await t.ds.query(`SELECT outcome, rule FROM audit_events WHERE request_id = $1`, [res.headers['x-request-id']]);
      expect(rows).toEqual([{ outcome: 'denied', rule: 'item_in_compartment' }]);
    });

    it('the database itself keeps the records from an outsider (row-level security), not from an insider', async () => {
      const count = (who: Person) => t.ds.transaction(async (m) => {
        await m.query(`SELECT set_config('clearing_house.user_id', $1, true)`, [who.id]);
        const [row] = await m.query(`SELECT count(*)::int AS n FROM conversation_records WHERE record_id = ANY ($1::uuid[])`, [[atCreation, placedLater]]);
        return row.n;
      });
      expect(await count(otherManager)).toBe(0);
      expect(await count(peerSameParty)).toBe(0);
      expect(await count(namedManager)).toBe(3);
      expect(await count(owner)).toBe(3);
    });
  });

  describe('notifications', () => {
    it('a missed agreed action in the compartment is told only to those inside it (team and escalation alike)', async () => {
      // The reminder job, run as the worker would once the date has passed (the clock is the one thing stood in for).
      const clock = t.app.get(Clock, { strict: false });
      const now = jest.spyOn(clock, 'now').mockReturnValue(new Date('2027-01-25T12:00:00Z'));
      try {
        expect(await t.app.get(DeadlineReminders, { strict: false }).run(deadlineId, ReminderKind.Missed)).toBe('send');
      } finally {
        now.mockRestore();
      }
      const rows: Array<{ user_id: string }> = await t.owner.query(`SELECT user_id FROM notifications WHERE case_id = $1 AND dedupe_key LIKE $2`, [caseId, `deadline:${deadlineId}:%`]);
      // The peer (on the team) and the named manager (escalation); not the other peers on the team, not the other managers.
      expect(rows.map((r) => r.user_id).sort()).toEqual([owner.id, namedManager.id].sort());
    });
  });

  describe('membership changes take effect at once', () => {
    it('a colleague taken off the compartment no longer sees its records', async () => {
      expect((await http(t).post(`/compartments/${compartmentId}/staff/${namedOfficer.id}/removal`).set(namedManager.auth)).status).toBe(403);
      expectStatus(await http(t).post(`/compartments/${compartmentId}/staff/${namedOfficer.id}/removal`).set(owner.auth), 200);
      await expectSameAsMissing(namedOfficer, (id) => `/conversations/${id}`, atCreation);
      expect((await conversations(namedOfficer)).body.map((c: { recordId: string }) => c.recordId)).not.toContain(atCreation);
      expect((await http(t).get(`/cases/${caseId}/compartments`).set(namedOfficer.auth)).body).toEqual([]);
    });

    it('a colleague named later sees them at once', async () => {
      expectStatus(await http(t).post(`/compartments/${compartmentId}/staff`).set(owner.auth).send({ userId: otherOfficer.id }), 201);
      expectStatus(await http(t).get(`/conversations/${placedLater}`).set(otherOfficer.auth), 200);
    });

    it('the peer removed from the team loses the case, compartment included', async () => {
      expectStatus(await http(t).delete(`/cases/${caseId}/team/${owner.id}`).set(otherManager.auth), 200);
      await expectSameAsMissing(owner, (id) => `/conversations/${id}`, atCreation);
      await expectSameAsMissing(owner, (id) => `/compartments/${id}`, compartmentId);
    });
  });
});
