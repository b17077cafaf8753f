import { randomUUID } from 'node:crypto';
import { Response } from 'supertest';
import { CaseMove } from '../../src/workflow/case-state';
import { createTestApp, TestApp } from '../support/app';
import {
  addToTeam, auditOf, buildCast, Cast, createSupport, expectAudited, expectStatus, http, logConcern, MISSING_CASE_ID, move, moveOk, Person, recordConversation,
  referToRiep, snapshotOf, toSensitiveConversation, versionOf, withoutRequestId,
} from './fixtures';

/*
 * Every write endpoint of the case file, for every role and relationship, on both sides:
 * allowed writes succeed; refused ones answer 403 (may see, may not do) or 404 (may not see,
 * identical to a missing record), are audited as denied, and change nothing. Government
 * liaisons are refused every one (403 by route); naming them and releasing pack items at the
 * pre-intervention stage, and opening compartments, are here too (src/stage-access, src/compartments).
 *
 * Authorities of this file (nobody else uses them), all West Midlands: Redditch (RED) for the
 * main referred case, Tamworth (TAW) for a case whose RIEP facilitator is on the team before
 * referral, Lichfield (LIF) for close and reopen, North Warwickshire (NWA) for the
 * pre-intervention meeting, Warwick (WAW) for concerns that open new cases.
 */
type Who = 'officer' | 'officer2' | 'manager' | 'riepWM' | 'riepWM2' | 'riepNE' | 'peerLab' | 'peerLabB' | 'peerCon' | 'peerOut' | 'auditor' | 'admin' | 'board' | 'liaison';

interface Cell {
  who: Who;
  status: number;
  why: string;
  /** Refused by the route's permission, before any record is looked at (so not a record-level audit). */
  byRoute?: boolean;
}
const cell = (who: Who, status: number, why: string, byRoute = false): Cell => ({ who, status, why, byRoute });

/** The relationships to the main case (referred West Midlands case; the three peers are on its team). */
const RELATION: Record<Who, string> = {
  officer: 'clearing-house officer',
  officer2: 'another clearing-house officer',
  manager: 'clearing-house manager',
  riepWM: 'RIEP facilitator of the region (case referred)',
  riepWM2: 'another RIEP facilitator of the region (case referred)',
  riepNE: 'RIEP facilitator of another region',
  peerLab: 'peer on the team',
  peerLabB: 'another peer on the team (same party)',
  peerCon: 'peer of another party on the team',
  peerOut: 'peer not on the team',
  auditor: 'auditor',
  admin: 'administrator',
  board: 'Board member',
  liaison: 'government liaison',
};
const NO_CASE_CONTENT: Cell[] = [
  cell('auditor', 403, 'reads no case content', true), cell('admin', 403, 'reads no case content', true), cell('board', 403, 'statistics only, no case data', true),
  cell('liaison', 403, 'a pre-intervention pack at most, never the case file', true),
];
const CANNOT_SEE: Cell[] = [cell('riepNE', 404, 'cannot see the case'), cell('peerOut', 404, 'cannot see the case')];

// Fixtures are built once per file through the API; under a loaded machine that takes longer than jest's default 5 s.
jest.setTimeout(60_000);

describe('access matrix: writes', () => {
  let t: TestApp;
  let cast: Cast;
  /** Redditch: referred; peers peerLab, peerLabB, peerCon on the team. */
  let main: string;
  const person = (who: Who): Person => cast[who];

  /**
   * Sends a write; on a refusal checks the answer (a 404 identical to the missing record's, via
   * `missing`), the denied audit record, and that nothing changed on the case.
   */
  async function attempt(c: Cell, caseId: string, send: (actor: Person) => Promise<Response>, missing?: (actor: Person) => Promise<Response>): Promise<Response> {
    const actor = person(c.who);
    const before = await snapshotOf(t, caseId);
    const res = await send(actor);
    if (res.status !== c.status) throw new Error(`${c.who}: expected ${c.status}, got ${res.status}: ${JSON.stringify(res.body)}`);
    if (c.status >= 400) {
      expect(await snapshotOf(t, caseId)).toEqual(before);
      if (c.status === 404) {
        expect(missing).toBeDefined();
        const baseline = await missing!(actor);
        expect(baseline.status).toBe(404);
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(baseline.body));
      }
      if (c.status === 403) expect(res.body.error).toBe('FORBIDDEN');
      // Refusals decided on the record are audited.
      if (!c.byRoute) await expectAudited(t, res, actor.id, 'denied');
    } else {
      await expectAudited(t, res, actor.id, 'allowed');
    }
    return res;
  }

  beforeAll(async () => {
    t = await createTestApp();
    cast = await buildCast(t);
    const c = await logConcern(t, cast.officer, { authority: 'RED', description: 'Leader and chief executive no longer speak' });
    main = c.id;
    await referToRiep(t, cast.officer, main);
    for (const p of [cast.peerLab, cast.peerLabB, cast.peerCon]) await addToTeam(t, cast.manager, main, p, 'lead_political_peer');
  });
  afterAll(async () => {
    await t.close();
  });

  describe('POST /concerns (clearing-house staff only)', () => {
    const body = { authority: 'WAW', receivedOn: '2026-01-10', channel: 'peer', area: 'finance', description: 'A new worry' };
    const casesOnWarwick = async () => Number((await t.owner.query(`SELECT count(*) AS n FROM cases c JOIN authorities a ON a.id = c.authority_id WHERE a.code = 'WAW'`))[0].n);
    const cells: Cell[] = [
      cell('officer', 201, 'staff'), cell('manager', 201, 'staff'),
      cell('riepWM', 403, 'RIEP facilitators do not log concerns', true), cell('peerLab', 403, 'peers do not log concerns', true), ...NO_CASE_CONTENT,
    ];

    it.each(cells)('$who opening a new case: $status ($why)', async (c) => {
      const before = await casesOnWarwick();
      const res = await http(t).post('/concerns').set(person(c.who).auth).send(body);
      expect(res.status).toBe(c.status);
      expect(await casesOnWarwick()).toBe(before + (c.status === 201 ? 1 : 0));
    });

    it.each(cells)('$who attaching to a case they can see: $status ($why)', async (c) => {
      await attempt(c, main, (a) => http(t).post('/concerns').set(a.auth).send({ ...body, authority: 'RED', caseId: main }));
    });
  });

  describe('POST /cases/:id/conversations', () => {
    const record = (a: Person, caseId = main, extra: Record<string, unknown> = {}) =>
      http(t).post(`/cases/${caseId}/conversations`).set(a.auth).send({ kind: 'call', heldOn: '2026-01-25', summary: 'A call', handling: 'normal', ...extra });
    const cells: Cell[] = [
      cell('officer', 201, 'staff'), cell('manager', 201, 'staff'),
      cell('riepWM', 201, 'RIEP facilitator who sees the case'), cell('riepWM2', 201, 'RIEP facilitator who sees the case'),
      cell('peerLab', 201, 'peer on the team'), cell('peerCon', 201, 'peer on the team'),
      ...CANNOT_SEE, ...NO_CASE_CONTENT,
    ];
    it.each(cells)('$who: $status ($why)', async (c) => {
      const res = await attempt(c, main, (a) => record(a), (a) => record(a, MISSING_CASE_ID));
      if (c.status === 201) expect(res.body).toMatchObject({ caseId: main, recordedBy: person(c.who).id, handling: 'normal', partyId: null });
    });

    describe('only a lead political peer may mark a record party_confidential (others: 400 naming handling)', () => {
      it.each(['officer', 'manager', 'riepWM'] as Who[])('%s: 400, and nothing recorded', async (who) => {
        const before = await snapshotOf(t, main);
        const res = await record(person(who), main, { handling: 'party_confidential' });
        expect(res.status).toBe(400);
        expect(res.body.fieldErrors.map((f: { field: string }) => f.field)).toContain('handling');
        expect(await snapshotOf(t, main)).toEqual(before);
      });
      it.each([['peerLab', 'labour'], ['peerCon', 'conservative']] as Array<[Who, 'labour' | 'conservative']>)('%s: 201, marked for their own party', async (who, party) => {
        const res = await record(person(who), main, { handling: 'party_confidential' });
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ handling: 'party_confidential', partyId: cast[party] });
      });
    });
  });

  describe('POST /conversations/:recordId/corrections (the recorder or a manager; others who see it 403; others 404)', () => {
    const latest = async (recordId: string) => (await t.owner.query(`SELECT max(version)::int AS v FROM conversation_records WHERE record_id = $1`, [recordId]))[0].v as number;
    const correct = async (a: Person, recordId: string) =>
      http(t).post(`/conversations/${recordId}/corrections`).set(a.auth).send({
        version: await latest(recordId), correctionReason: `Corrected by ${a.role}`, kind: 'sensitive_conversation', heldOn: '2026-01-26', summary: `Text as corrected by ${a.id}`,
      });
    const missing = (a: Person) => http(t).post(`/conversations/${randomUUID()}/corrections`).set(a.auth).send({ version: 1, correctionReason: 'x', kind: 'call', heldOn: '2026-01-26', summary: 'x' });

    describe('a normal record made by the officer', () => {
      let recordId: string;
      beforeAll(async () => {
        recordId = await recordConversation(t, cast.officer, main, { summary: 'Original text' });
      });
      const cells: Cell[] = [
        cell('officer', 201, 'its recorder'), cell('manager', 201, 'a manager'),
        cell('officer2', 403, 'another officer'), cell('riepWM', 403, 'sees it, did not record it'), cell('peerLab', 403, 'sees it, did not record it'),
        ...CANNOT_SEE, ...NO_CASE_CONTENT,
      ];
      it.each(cells)('$who: $status ($why)', async (c) => {
        const before = await latest(recordId);
        const res = await attempt(c, main, (a) => correct(a, recordId), missing);
        expect(await latest(recordId)).toBe(before + (c.status === 201 ? 1 : 0));
        if (c.status === 201) expect(res.body).toMatchObject({ recordId, version: before + 1, recordedBy: person(c.who).id, handling: 'normal' });
      });
      it('every earlier version stays readable through GET /conversations/:recordId', async () => {
        const res = await http(t).get(`/conversations/${recordId}`).set(cast.riepWM.auth);
        expect(res.status).toBe(200);
        expect(res.body.version).toBe(3);
        expect(res.body.earlierVersions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
        expect(res.body.earlierVersions[1]).toMatchObject({ summary: 'Original text', recordedBy: cast.officer.id, correctionReason: null });
        expect(res.body.earlierVersions[0].recordedBy).toBe(cast.officer.id);
        expect(res.body.recordedBy).toBe(cast.manager.id);
      });
    });

    describe('a named_only record naming only the officer who made it', () => {
      let recordId: string;
      beforeAll(async () => {
        recordId = await recordConversation(t, cast.officer, main, { summary: 'Named only', handling: 'named_only', namedUserIds: [cast.officer.id] });
      });
      const cells: Cell[] = [
        cell('officer2', 404, 'another officer, not named: cannot see it'), cell('riepWM', 404, 'not named'), cell('peerLab', 404, 'not named'),
        cell('officer', 201, 'its recorder'), cell('manager', 201, 'a manager'),
      ];
      it.each(cells)('$who: $status ($why)', async (c) => {
        const before = await latest(recordId);
        await attempt(c, main, (a) => correct(a, recordId), missing);
        expect(await latest(recordId)).toBe(before + (c.status === 201 ? 1 : 0));
      });
    });

    describe("a Labour peer's party_confidential record", () => {
      let recordId: string;
      beforeAll(async () => {
        recordId = await recordConversation(t, cast.peerLab, main, { summary: 'Group politics', handling: 'party_confidential' });
      });
      const cells: Cell[] = [
        cell('peerLabB', 403, 'same party: sees it, did not record it'), cell('peerCon', 404, 'another party: cannot see it'),
        cell('officer', 404, 'officers cannot see it'), cell('riepWM', 404, 'RIEP facilitators cannot see it'),
        cell('peerLab', 201, 'its recorder'), cell('manager', 201, 'a manager'),
      ];
      it.each(cells)('$who: $status ($why)', async (c) => {
        const before = await latest(recordId);
        const res = await attempt(c, main, (a) => correct(a, recordId), missing);
        expect(await latest(recordId)).toBe(before + (c.status === 201 ? 1 : 0));
        if (c.status === 201) expect(res.body).toMatchObject({ handling: 'party_confidential', partyId: cast.labour });
      });
    });
  });

  describe('POST /cases/:id/team and DELETE /cases/:id/team/:userId (managers only)', () => {
    const add = (a: Person, caseId = main) => http(t).post(`/cases/${caseId}/team`).set(a.auth).send({ userId: cast.officer2.id, teamRole: 'case_officer' });
    const remove = (a: Person, caseId = main, userId = cast.peerCon.id) => http(t).delete(`/cases/${caseId}/team/${userId}`).set(a.auth);
    const refused: Cell[] = [
      cell('officer', 403, 'officers do not manage teams'), cell('riepWM', 403, 'sees the case, may not manage its team'),
      cell('peerLab', 403, 'on the team, may not manage it'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
    ];

    it.each(refused)('add, $who: $status ($why)', async (c) => {
      await attempt(c, main, (a) => add(a), (a) => add(a, MISSING_CASE_ID));
    });
    it.each(refused)('remove, $who: $status ($why)', async (c) => {
      await attempt(c, main, (a) => remove(a), (a) => remove(a, MISSING_CASE_ID));
    });
    it('manager: adds (201) and removes (200)', async () => {
      const added = await attempt(cell('manager', 201, 'manager'), main, (a) => add(a));
      expect(added.body.team.map((m: { userId: string }) => m.userId)).toContain(cast.officer2.id);
      const removed = await attempt(cell('manager', 200, 'manager'), main, (a) => remove(a, main, cast.officer2.id));
      expect(removed.body.team.map((m: { userId: string }) => m.userId)).not.toContain(cast.officer2.id);
    });
  });

  describe('PUT /cases/:id/government-trigger (clearing-house staff only)', () => {
    const put = async (a: Person, caseId = main) =>
      http(t).put(`/cases/${caseId}/government-trigger`).set(a.auth).send({ department: `Department ${a.role}`, power: 'statutory_direction', version: await versionOf(t, main) });
    const cells: Cell[] = [
      cell('riepWM', 403, 'RIEP facilitator who sees the case'), cell('peerLab', 403, 'peer on the team'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
      cell('officer', 200, 'staff'), cell('manager', 200, 'staff'),
    ];
    it.each(cells)('$who: $status ($why)', async (c) => {
      const res = await attempt(c, main, (a) => put(a), (a) => put(a, MISSING_CASE_ID));
      if (c.status === 200) expect(res.body.governmentTrigger).toMatchObject({ department: `Department ${person(c.who).role}`, power: 'statutory_direction' });
    });
  });

  describe('POST /cases/:id/support and PATCH /support/:id (staff and a RIEP facilitator who sees the case)', () => {
    let supportId: string;
    const create = (a: Person, caseId = main) => http(t).post(`/cases/${caseId}/support`).set(a.auth).send({ kind: 'peer_challenge', description: `Proposed by ${a.role}` });
    const patch = async (a: Person, id = supportId) => {
      const [row] = await t.owner.query(`SELECT version FROM improvement_support WHERE id = $1`, [id]);
      return http(t).patch(`/support/${id}`).set(a.auth).send({ version: row?.version ?? 1, description: `Revised by ${a.id}` });
    };
    beforeAll(async () => {
      supportId = (await createSupport(t, cast.officer, main)).id;
    });
    const cells: Cell[] = [
      cell('officer', 201, 'staff'), cell('manager', 201, 'staff'), cell('riepWM', 201, 'RIEP facilitator who sees the case'),
      cell('riepWM2', 201, 'RIEP facilitator who sees the case'),
      cell('peerLab', 403, 'peer on the team'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
    ];
    it.each(cells)('create, $who: $status ($why)', async (c) => {
      const res = await attempt(c, main, (a) => create(a), (a) => create(a, MISSING_CASE_ID));
      if (c.status === 201) expect(res.body).toMatchObject({ caseId: main, recordedBy: person(c.who).id });
    });
    it.each(cells.map((c) => ({ ...c, status: c.status === 201 ? 200 : c.status })))('update, $who: $status ($why)', async (c) => {
      const res = await attempt(c, main, (a) => patch(a), (a) => patch(a, randomUUID()));
      if (c.status === 200) expect(res.body.description).toBe(`Revised by ${person(c.who).id}`);
    });
  });

  describe('POST /deadlines/:id/met (who may record progress on the case)', () => {
    const allowed: Cell[] = [
      cell('officer', 200, 'staff'), cell('manager', 200, 'staff'), cell('riepWM', 200, 'RIEP facilitator who sees the case'),
      cell('peerLab', 200, 'peer on the team'), cell('peerCon', 200, 'peer on the team'),
    ];
    const cells: Cell[] = [...allowed, ...CANNOT_SEE, ...NO_CASE_CONTENT];
    /** One agreed action's deadline per allowed caller (each can be met once); refusals aim at the first. */
    let deadlineIds: string[] = [];
    const met = (a: Person, id: string) => http(t).post(`/deadlines/${id}/met`).set(a.auth);
    beforeAll(async () => {
      const recordId = await recordConversation(t, cast.officer, main, {
        kind: 'call', summary: 'Actions agreed', agreedActions: allowed.map((c, i) => ({ description: `Action ${i}`, owner: 'Chief executive', dueOn: '2027-03-01' })),
      });
      const rows: Array<{ id: string }> = await t.owner.query(`SELECT id FROM case_deadlines WHERE source_id = $1 ORDER BY source_item`, [recordId]);
      deadlineIds = rows.map((r) => r.id);
    });
    it.each(cells)('$who: $status ($why)', async (c) => {
      const index = Math.max(0, allowed.findIndex((x) => x.who === c.who));
      const res = await attempt(c, main, (a) => met(a, deadlineIds[index]), (a) => met(a, randomUUID()));
      if (c.status === 200) expect(res.body).toMatchObject({ id: deadlineIds[index], state: 'met' });
    });
  });

  describe('POST /support/:id/progress-notes (staff, a RIEP facilitator and a peer who see the case)', () => {
    let supportId: string;
    const note = (a: Person, id = supportId) => http(t).post(`/support/${id}/progress-notes`).set(a.auth).send({ note: `Progress seen by ${a.role}` });
    beforeAll(async () => {
      supportId = (await createSupport(t, cast.officer, main, { kind: 'improvement_plan' })).id;
    });
    const cells: Cell[] = [
      cell('officer', 201, 'staff'), cell('manager', 201, 'staff'), cell('riepWM', 201, 'RIEP facilitator who sees the case'),
      cell('peerLab', 201, 'peer on the team'), cell('peerCon', 201, 'peer on the team'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
    ];
    it.each(cells)('$who: $status ($why)', async (c) => {
      const res = await attempt(c, main, (a) => note(a), (a) => note(a, randomUUID()));
      if (c.status === 201) expect(res.body).toMatchObject({ supportId, recordedBy: person(c.who).id });
    });
    it('the notes are listed for those who see the case, and for no one else', async () => {
      const ok = await http(t).get(`/support/${supportId}/progress-notes`).set(cast.peerCon.auth);
      expect(ok.status).toBe(200);
      expect(ok.body).toHaveLength(5);
      const hidden = await http(t).get(`/support/${supportId}/progress-notes`).set(cast.peerOut.auth);
      const missing = await http(t).get(`/support/${randomUUID()}/progress-notes`).set(cast.peerOut.auth);
      expect(hidden.status).toBe(404);
      expect(withoutRequestId(hidden.body)).toEqual(withoutRequestId(missing.body));
    });
  });

  describe('pre-intervention meetings: POST (clearing-house staff only) and the outcome', () => {
    let pre: string;
    const record = (a: Person, caseId = pre) =>
      http(t).post(`/cases/${caseId}/pre-intervention-meetings`).set(a.auth).send({
        meetingOn: '2026-03-01', interventionContemplated: 'improvement_notice', attendees: [{ organisationType: 'riep', organisation: 'West Midlands RIEP' }],
      });
    beforeAll(async () => {
      const c = await logConcern(t, cast.officer, { authority: 'NWA', description: 'Inspection found children at risk' });
      pre = c.id;
      await referToRiep(t, cast.officer, pre);
      await addToTeam(t, cast.manager, pre, cast.peerLab, 'lead_political_peer');
      expectStatus(await http(t).put(`/cases/${pre}/government-trigger`).set(cast.officer.auth).send({ department: 'DfE', power: 'improvement_notice', version: await versionOf(t, pre) }), 200);
      await moveOk(t, cast.officer, pre, 'call_pre_intervention_meeting');
    });
    const cells: Cell[] = [
      cell('riepWM', 403, 'RIEP facilitator who sees the case'), cell('peerLab', 403, 'peer on the team'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
      cell('officer', 201, 'staff'), cell('manager', 201, 'staff'),
    ];
    it.each(cells)('record, $who: $status ($why)', async (c) => {
      await attempt(c, pre, (a) => record(a), (a) => record(a, MISSING_CASE_ID));
    });
    const nameLiaison = (a: Person, caseId = pre) => http(t).post(`/cases/${caseId}/liaisons`).set(a.auth).send({ userId: cast.liaison.id, reason: 'DfE lead official' });
    const liaisonCells: Cell[] = [
      cell('officer', 403, 'officers do not name liaisons'), cell('riepWM', 403, 'RIEP facilitator who sees the case'), cell('peerLab', 403, 'peer on the team'),
      ...CANNOT_SEE, ...NO_CASE_CONTENT, cell('manager', 201, 'manager, case at the stage'),
    ];
    it.each(liaisonCells)('name a government liaison, $who: $status ($why)', async (c) => {
      await attempt(c, pre, (a) => nameLiaison(a), (a) => nameLiaison(a, MISSING_CASE_ID));
    });
    const release = (a: Person, caseId = pre) => http(t).post(`/cases/${caseId}/pack/items`).set(a.auth).send({ kind: 'summary', summary: 'For the meeting' });
    const packCells: Cell[] = [
      cell('riepWM', 403, 'RIEP facilitator who sees the case'), cell('peerLab', 403, 'peer on the team'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
      cell('officer', 201, 'staff'), cell('manager', 201, 'staff'),
    ];
    it.each(packCells)('release a pack item, $who: $status ($why)', async (c) => {
      await attempt(c, pre, (a) => release(a), (a) => release(a, MISSING_CASE_ID));
    });
    it('the named liaison reads exactly the two released summaries', async () => {
      const res = expectStatus(await http(t).get(`/cases/${pre}/pack`).set(cast.liaison.auth), 200);
      expect(res.body.items.map((i: { summary: string }) => i.summary)).toEqual(['For the meeting', 'For the meeting']);
    });
    it.each(['officer', 'riepWM', 'peerLab'] as Who[])('GET by %s, who sees the case, lists both meetings', async (who) => {
      const res = await http(t).get(`/cases/${pre}/pre-intervention-meetings`).set(person(who).auth);
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(2);
    });

    const outcomeCells: Cell[] = [
      cell('riepWM', 403, 'RIEP facilitator who sees the case'), cell('peerLab', 403, 'peer on the team'), ...CANNOT_SEE, ...NO_CASE_CONTENT,
      cell('officer', 200, 'staff'),
    ];
    it.each(outcomeCells)('outcome, $who: $status ($why)', async (c) => {
      const [meeting] = await t.owner.query(`SELECT id, version FROM pre_intervention_meetings WHERE case_id = $1 ORDER BY recorded_at LIMIT 1`, [pre]);
      const send = (a: Person, id: string = meeting.id) =>
        http(t).post(`/pre-intervention-meetings/${id}/outcome`).set(a.auth).send({ outcome: 'deferred', deferredUntil: '2026-04-01', version: meeting.version });
      const res = await attempt(c, pre, (a) => send(a), (a) => send(a, randomUUID()));
      if (c.status === 200) expect(res.body).toMatchObject({ outcome: 'deferred', deferredUntil: '2026-04-01' });
    });
  });

  describe('POST /cases/:id/compartments (a lead political peer on the team, for their own compartment)', () => {
    const open = (a: Person, caseId = main) => http(t).post(`/cases/${caseId}/compartments`).set(a.auth).send({ staffIds: [cast.officer.id] });
    const cells: Cell[] = [
      cell('officer', 403, 'staff do not open compartments'), cell('manager', 403, 'staff do not open compartments'), cell('riepWM', 403, 'RIEP facilitator who sees the case'),
      ...CANNOT_SEE, ...NO_CASE_CONTENT, cell('peerLab', 201, 'peer on the team'), cell('peerCon', 201, 'peer on the team'),
    ];
    it.each(cells)('$who: $status ($why)', async (c) => {
      const res = await attempt(c, main, (a) => open(a), (a) => open(a, MISSING_CASE_ID));
      if (c.status === 201) expect(res.body).toMatchObject({ caseId: main, peerId: person(c.who).id });
    });
    it('naming staff on a compartment: its peer only; anyone else who is not inside gets the missing answer', async () => {
      const [k] = await t.owner.query(`SELECT id FROM case_compartments WHERE case_id = $1 AND peer_id = $2`, [main, cast.peerLab.id]);
      const name = (a: Person, id = k.id) => http(t).post(`/compartments/${id}/staff`).set(a.auth).send({ userId: cast.officer2.id });
      await attempt(cell('officer', 403, 'named staff, not its peer'), main, (a) => name(a));
      for (const who of ['manager', 'peerCon', 'peerLabB', 'riepWM'] as Who[]) {
        await attempt(cell(who, 404, 'not inside the compartment'), main, (a) => name(a), (a) => name(a, randomUUID()));
      }
      await attempt(cell('peerLab', 201, 'its peer'), main, (a) => name(a));
    });
  });

  describe('POST /cases/:id/moves (roles of the workflow table)', () => {
    const ALL_MOVES = Object.values(CaseMove);
    const body = (m: string) => ({ reason: 'Because', ...(m === 'close' ? { outcome: 'no_further_action' } : {}) });

    it.each(ALL_MOVES)('a peer on the team: 403 on %s, and nothing moves', async (m) => {
      await attempt(cell('peerLab', 403, 'peers make no moves'), main, (a) => move(t, a, main, m, body(m)));
    });
    it.each(ALL_MOVES)('a peer not on the team: 404 on %s', async (m) => {
      await attempt(cell('peerOut', 404, 'cannot see the case'), main, (a) => move(t, a, main, m, body(m)), (a) => move(t, a, MISSING_CASE_ID, m, body(m)));
    });
    it.each(['riepNE', 'auditor', 'admin', 'board', 'liaison'] as Who[])('%s: refused on start_support', async (who) => {
      const status = who === 'riepNE' ? 404 : 403;
      await attempt(cell(who, status, RELATION[who], who !== 'riepNE'), main, (a) => move(t, a, main, 'start_support', body('start_support')), (a) => move(t, a, MISSING_CASE_ID, 'start_support', {}));
    });
    it.each(['close', 'call_pre_intervention_meeting'])('a RIEP facilitator who sees the case: 403 on %s', async (m) => {
      await attempt(cell('riepWM', 403, RELATION.riepWM), main, (a) => move(t, a, main, m, body(m)));
    });

    describe('refer_to_riep: staff only, even for the RIEP facilitator on the team', () => {
      let early: string;
      beforeAll(async () => {
        early = (await logConcern(t, cast.officer, { authority: 'TAW', description: 'Early RIEP involvement' })).id;
        await toSensitiveConversation(t, cast.officer, early);
        await addToTeam(t, cast.manager, early, cast.riepWM, 'riep_facilitator');
        await recordConversation(t, cast.riepWM, early, { summary: 'Sensitive conversation the RIEP facilitator sat in on' });
      });
      it('riepWM (on the team, case not yet referred): 403', async () => {
        await attempt(cell('riepWM', 403, 'RIEP facilitators do not refer'), early, (a) => move(t, a, early, 'refer_to_riep'));
      });
      it('riepWM2 (same region, not on the team, not referred): 404', async () => {
        await attempt(cell('riepWM2', 404, 'cannot see the case'), early, (a) => move(t, a, early, 'refer_to_riep'), (a) => move(t, a, MISSING_CASE_ID, 'refer_to_riep'));
      });
      it('officer: 200; then riepWM2 sees the case (referred)', async () => {
        const res = await attempt(cell('officer', 200, 'staff'), early, (a) => move(t, a, early, 'refer_to_riep'));
        expect(res.body.state).toBe('riep_discussion');
        expect((await http(t).get(`/cases/${early}`).set(cast.riepWM2.auth)).status).toBe(200);
      });
      it('start_support: a RIEP facilitator who sees the case may (200)', async () => {
        expectStatus(await http(t).post(`/cases/${early}/support`).set(cast.riepWM.auth).send({ kind: 'mentoring', description: 'Agreed', status: 'agreed' }), 201);
        const res = await attempt(cell('riepWM2', 200, 'RIEP facilitator of the region'), early, (a) => move(t, a, early, 'start_support'));
        expect(res.body.state).toBe('improvement_support');
      });
    });

    describe('close and reopen: managers only', () => {
      let closing: string;
      beforeAll(async () => {
        closing = (await logConcern(t, cast.officer, { authority: 'LIF', description: 'Dealt with by the authority' })).id;
      });
      const close = (a: Person, id = closing) => move(t, a, id, 'close', { outcome: 'resolved_by_authority', reason: 'The authority dealt with it' });
      const reopen = (a: Person, id = closing) => move(t, a, id, 'reopen', { reason: 'It came back' });
      it('officer: start_triage 200 (staff move)', async () => {
        await attempt(cell('officer', 200, 'staff'), closing, (a) => move(t, a, closing, 'start_triage'));
      });
      it.each([cell('officer', 403, 'officers do not close'), cell('riepWM', 404, 'not referred, not on the team')])('close, $who: $status ($why)', async (c) => {
        await attempt(c, closing, (a) => close(a), (a) => close(a, MISSING_CASE_ID));
      });
      it('close, manager: 200', async () => {
        const res = await attempt(cell('manager', 200, 'manager'), closing, (a) => close(a));
        expect(res.body).toMatchObject({ state: 'closed', outcome: 'resolved_by_authority' });
      });
      it.each([cell('officer', 403, 'officers do not reopen'), cell('riepWM', 404, 'not referred, not on the team')])('reopen, $who: $status ($why)', async (c) => {
        await attempt(c, closing, (a) => reopen(a), (a) => reopen(a, MISSING_CASE_ID));
      });
      it('reopen, manager: 200', async () => {
        const res = await attempt(cell('manager', 200, 'manager'), closing, (a) => reopen(a));
        expect(res.body.state).toBe('triage');
      });
    });
  });

  it('refusals of writes are found in the audit trail by actor', async () => {
    const rows = await t.ds.query(`SELECT DISTINCT rule FROM audit_events WHERE actor_id = $1 AND outcome = 'denied'`, [cast.peerOut.id]);
    expect(rows.map((r: { rule: string }) => r.rule)).toContain('peer_not_on_team');
    const officer2 = await t.ds.query(`SELECT rule FROM audit_events WHERE actor_id = $1 AND outcome = 'denied'`, [cast.officer2.id]);
    expect(officer2.map((r: { rule: string }) => r.rule)).toEqual(expect.arrayContaining(['correct_own_record_or_manager', 'item_not_named']));
    const viaRequest = await auditOf(t, await http(t).get(`/cases/${main}`).set(cast.riepNE.auth), cast.riepNE.id);
    expect(viaRequest).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'riep_other_region' })]);
  });
});
