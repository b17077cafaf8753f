import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { DeadlineReminders } from '../../src/deadlines/deadline-reminders';
import { ReminderDecision } from '../../src/deadlines/deadline-rules';
import { ReminderKind } from '../../src/deadlines/deadline.types';
import { seedDemoDeadlines } from '../../src/deadlines/demo-deadlines';
import { addToTeam, expectAudited, expectStatus, Person, versionOf, withoutRequestId } from '../access-matrix/fixtures';
import { createTestApp, partyIdOf, signedIn, TestApp } from '../support/app';
import { notificationsAbout } from './support';

/*
 * A case's deadlines through the API (GET /cases/:id/deadlines, POST /deadlines/:id/met), from the
 * allowed and the denied side; and an agreed action of a party-confidential record, which only
 * those who may read the record hear about. Bath and North East Somerset and Peterborough:
 * this file's own authorities. Reminders are off in this application (the run's default): the
 * one reminder below is run directly.
 */
jest.setTimeout(60_000);

describe('deadlines through the API', () => {
  let t: TestApp;
  let officer: Person;
  let manager: Person;
  let peerLab: Person;
  let peerCon: Person;
  let peerOut: Person;
  let auditor: Person;
  let board: Person;
  let caseId: string;
  let confidentialActionId: string;
  let normalActionId: string;
  let triageId: string;
  const dueOn = '2026-02-02';

  beforeAll(async () => {
    t = await createTestApp();
    const labour = await partyIdOf(t.ds, 'Labour');
    const conservative = await partyIdOf(t.ds, 'Conservative');
    [officer, manager, peerLab, peerCon, peerOut, auditor, board] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer),
      signedIn(t, Role.ClearingHouseManager),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Labour peer on the team' }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: conservative, name: 'Conservative peer on the team' }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Labour peer off the team' }),
      signedIn(t, Role.Auditor),
      signedIn(t, Role.BoardMember),
    ]);
    const logged = expectStatus(
      await request(t.http).post('/concerns').set(officer.auth).send({ authority: 'BAS', receivedOn: '2026-01-05', channel: 'sector_intelligence', area: 'finance', description: 'A gap' }),
      201,
    );
    caseId = logged.body.case.id;
    await addToTeam(t, manager, caseId, officer, 'case_officer');
    await addToTeam(t, manager, caseId, peerLab, 'lead_political_peer');
    await addToTeam(t, manager, caseId, peerCon, 'lead_political_peer');
    // Restricted, so that its escalations reach only this file's manager (the run shares one database).
    expectStatus(await request(t.http).put(`/cases/${caseId}/restriction`).set(manager.auth).send({ restricted: true, version: await versionOf(t, caseId) }), 200);
    const confidential = expectStatus(
      await request(t.http).post(`/cases/${caseId}/conversations`).set(peerLab.auth).send({
        kind: 'confidential_discussion', heldOn: '2026-01-20', summary: 'Labour group only', handling: 'party_confidential',
        agreedActions: [{ description: 'Group whip to speak to the leader', owner: 'Group whip', dueOn }],
      }),
      201,
    ).body;
    const normal = expectStatus(
      await request(t.http).post(`/cases/${caseId}/conversations`).set(officer.auth).send({
        kind: 'call', heldOn: '2026-01-21', summary: 'Call', handling: 'normal', agreedActions: [{ description: 'Send the plan', owner: 'Chief executive', dueOn }],
      }),
      201,
    ).body;
    const rows: Array<{ id: string; kind: string; source_id: string | null }> = await t.owner.query(`SELECT id, kind, source_id FROM case_deadlines WHERE case_id = $1`, [caseId]);
    confidentialActionId = rows.find((r) => r.source_id === confidential.recordId)!.id;
    normalActionId = rows.find((r) => r.source_id === normal.recordId)!.id;
    triageId = rows.find((r) => r.kind === 'triage')!.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const list = (who: Person, id = caseId) => request(t.http).get(`/cases/${id}/deadlines`).set(who.auth);
  const markMet = (who: Person, id: string) => request(t.http).post(`/deadlines/${id}/met`).set(who.auth);

  describe('GET /cases/:id/deadlines', () => {
    it('lists the deadlines to the case team, and the party-confidential record\'s action only to peers of its party and managers; audited', async () => {
      const ids = async (who: Person) => {
        const res = await list(who);
        expect(res.status).toBe(200);
        await expectAudited(t, res, who.id, 'allowed');
        return res.body.map((d: { id: string }) => d.id).sort();
      };
      expect(await ids(peerLab)).toEqual([triageId, confidentialActionId, normalActionId].sort());
      expect(await ids(manager)).toEqual([triageId, confidentialActionId, normalActionId].sort());
      expect(await ids(officer)).toEqual([triageId, normalActionId].sort());
      expect(await ids(peerCon)).toEqual([triageId, normalActionId].sort());
      const triage = (await list(officer)).body.find((d: { id: string }) => d.id === triageId);
      // 5 January 2026 plus five working days; the concern it came from is not named.
      expect(triage).toMatchObject({ kind: 'triage', dueOn: '2026-01-12', warnOn: '2026-01-08', state: 'open', sourceId: null, reminders: [] });
    });

    it('answers a caller who may not see the case exactly as for a missing case (404), and refuses roles without case content (403)', async () => {
      const hidden = await list(peerOut);
      const missing = await list(peerOut, randomUUID());
      expect(hidden.status).toBe(404);
      expect(withoutRequestId(hidden.body)).toEqual(withoutRequestId(missing.body));
      await expectAudited(t, hidden, peerOut.id, 'denied');
      for (const who of [auditor, board]) {
        const res = await list(who);
        expect(res.status).toBe(403);
        expect(JSON.stringify(res.body)).not.toContain(caseId);
      }
    });
  });

  describe('POST /deadlines/:id/met', () => {
    it('a peer of another party cannot tell that the party-confidential action exists: 404 as for a missing deadline', async () => {
      const hidden = await markMet(peerCon, confidentialActionId);
      const missing = await markMet(peerCon, randomUUID());
      expect(hidden.status).toBe(404);
      expect(withoutRequestId(hidden.body)).toEqual(withoutRequestId(missing.body));
      await expectAudited(t, hidden, peerCon.id, 'denied');
      expect((await markMet(peerOut, normalActionId)).status).toBe(404);
      for (const who of [auditor, board]) expect((await markMet(who, normalActionId)).status).toBe(403);
      const [row] = await t.owner.query(`SELECT state FROM case_deadlines WHERE id = $1`, [confidentialActionId]);
      expect(row.state).toBe('open');
    });

    it('a deadline met by its own step (triage) cannot be marked by hand', async () => {
      const res = await markMet(officer, triageId);
      expect(res.status).toBe(422);
      expect(res.body.details).toMatchObject({ precondition: 'deadline_marked_by_hand' });
    });

    it('the team marks an agreed action done, once; audited; no reminder for it afterwards', async () => {
      const res = await markMet(officer, normalActionId);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: normalActionId, state: 'met', closedReason: 'met' });
      await expectAudited(t, res, officer.id, 'allowed');
      const again = await markMet(peerLab, normalActionId);
      expect(again.status).toBe(422);
      expect(again.body.details).toMatchObject({ precondition: 'deadline_open' });
      expect(await t.app.get(DeadlineReminders).run(normalActionId, ReminderKind.Missed)).toBe(ReminderDecision.Closed);
    });
  });

  it('the demo\'s cases, written straight to the database, get the deadlines the API would have set', async () => {
    const [authority] = await t.ds.query(`SELECT id FROM authorities WHERE code = 'PTE'`);
    const [c] = await t.owner.query(
      `INSERT INTO cases (reference, authority_id, state, handling, opened_by) VALUES ('CH-2099-0777', $1, 'concern_raised', 'official_sensitive', $2) RETURNING id`,
      [authority.id, officer.id],
    );
    await t.owner.query(`INSERT INTO concerns (case_id, received_on, channel, area, description, logged_by) VALUES ($1, '2026-12-21', 'sector_intelligence', 'finance', 'd', $2)`, [c.id, officer.id]);
    await t.owner.transaction((m) => seedDemoDeadlines(m, c.id, 'concern_raised'));
    // Christmas 2026: 25 and 28 December (Boxing Day's substitute) are not working days.
    expect(await t.owner.query(`SELECT kind, to_char(due_on, 'YYYY-MM-DD') AS due_on, to_char(warn_on, 'YYYY-MM-DD') AS warn_on FROM case_deadlines WHERE case_id = $1`, [c.id])).toEqual([
      { kind: 'triage', due_on: '2026-12-30', warn_on: '2026-12-24' },
    ]);
  });

  it('a missed action of a party-confidential record is told only to those who may read the record', async () => {
    // Due on 2 February 2026: long missed by the real clock.
    expect(await t.app.get(DeadlineReminders).run(confidentialActionId, ReminderKind.Missed)).toBe(ReminderDecision.Send);
    const sent = (await notificationsAbout(t.owner, caseId)).filter((n) => n.dedupe_key.startsWith(`deadline:${confidentialActionId}:`));
    expect(sent.filter((n) => n.kind === 'deadline_missed').map((n) => n.user_id)).toEqual([peerLab.id]);
    expect(sent.filter((n) => n.kind === 'escalation').map((n) => n.user_id)).toEqual([manager.id]);
    const listed = (await list(peerLab)).body.find((d: { id: string }) => d.id === confidentialActionId);
    expect(listed.reminders).toEqual([{ kind: 'missed', sentAt: expect.any(String) }]);
  });
});
