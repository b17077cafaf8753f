import { randomUUID } from 'node:crypto';
import { Response } from 'supertest';
import { createTestApp, TestApp } from '../support/app';
import {
  addToTeam, auditOf, buildCast, Cast, expectAudited, expectStatus, http, logConcern, Person, recordConversation, referToRiep, withoutRequestId,
} from './fixtures';

/*
 * Items inside a case the caller can see: concerns and conversation records, and their
 * markings. normal: everyone who sees the case; named_only: the named users and clearing-house
 * managers; party_confidential (conversation records only): lead political peers of the
 * recording peer's party and clearing-house managers; a record in a lead political peer's
 * compartment (src/compartments): only that peer and the staff they named, whatever its marking
 * also requires, and not the manager unless named. The source of a concern: never in a
 * concern read, for anyone (the field is absent, hasSource and the channel are shown); a
 * clearing-house manager reveals it with a reason, a colleague reads it under a release approved
 * by a second manager (the two-person release itself: test/source-identity).
 *
 * Authority of this file (nobody else uses it): Malvern Hills (MAV, West Midlands). The case is
 * referred to the RIEP, so both West Midlands RIEP facilitators see it; the North East one does not.
 */
const AUTHORITY = 'MAV';

type Who = 'officer' | 'officer2' | 'manager' | 'riepWM' | 'riepWM2' | 'riepNE' | 'peerLab' | 'peerLabB' | 'peerCon' | 'peerOut' | 'auditor' | 'admin' | 'board' | 'liaison';
const WHO: Who[] = ['officer', 'officer2', 'manager', 'riepWM', 'riepWM2', 'riepNE', 'peerLab', 'peerLabB', 'peerCon', 'peerOut', 'auditor', 'admin', 'board', 'liaison'];
const STAFF: Who[] = ['officer', 'officer2', 'manager'];
/** Who sees the case at all (referred West Midlands case; the three peers are on its team). */
const SEES_CASE: Who[] = ['officer', 'officer2', 'manager', 'riepWM', 'riepWM2', 'peerLab', 'peerLabB', 'peerCon'];
const FORBIDDEN: Who[] = ['auditor', 'admin', 'board', 'liaison'];
/** Inside peerLab's compartment on the case: peerLab and the one colleague they named (officer2); not the manager. */
const COMPARTMENT_INSIDE: Who[] = ['peerLab', 'officer2'];

type ConcernName = 'normalWithSource' | 'namedOnly' | 'normalNoSource';
type RecordName = 'normal' | 'labourConfidential' | 'namedOnly' | 'conservativeConfidential' | 'compartment' | 'compartmentConfidential';

/** Who may see each item, among those who see the case. */
const CONCERN_READERS: Record<ConcernName, Who[]> = {
  normalWithSource: SEES_CASE,
  // named: officer, riepWM, peerLab (+ managers always); peerOut is named too but cannot see the case
  namedOnly: ['officer', 'manager', 'riepWM', 'peerLab'],
  normalNoSource: SEES_CASE,
};
const RECORD_READERS: Record<RecordName, Who[]> = {
  normal: SEES_CASE,
  // recorded by peerLab (Labour): Labour peers and managers
  labourConfidential: ['manager', 'peerLab', 'peerLabB'],
  // named: officer (its recorder), riepWM, peerCon (+ managers); riepNE is named too but cannot see the case
  namedOnly: ['officer', 'manager', 'riepWM', 'peerCon'],
  // recorded by peerCon (Conservative)
  conservativeConfidential: ['manager', 'peerCon'],
  // in peerLab's compartment (src/compartments): peerLab and officer2, named on it; not the manager, not peerLabB
  compartment: ['officer2', 'peerLab'],
  // party-confidential and in the compartment: both rules apply, so officer2 (not a peer) is out too
  compartmentConfidential: ['peerLab'],
};
const CONCERNS = Object.keys(CONCERN_READERS) as ConcernName[];
const RECORDS = Object.keys(RECORD_READERS) as RecordName[];

/** The rule an audit record names when an item is hidden from someone who sees the case. */
function hiddenItemRule(who: Who, kind: 'named' | 'party'): string {
  if (kind === 'named') return 'item_not_named';
  return who.startsWith('peer') ? 'item_other_party' : 'item_party_confidential_not_peer';
}

/** The rule for a conversation record hidden from someone who sees the case. */
function hiddenRecordRule(who: Who, name: RecordName): string {
  if (name.startsWith('compartment') && !COMPARTMENT_INSIDE.includes(who)) return 'item_in_compartment';
  return hiddenItemRule(who, name === 'namedOnly' ? 'named' : 'party');
}

function expectation(who: Who, readers: Who[]): 'allowed' | 'hidden item' | 'hidden case' | 'forbidden' {
  if (FORBIDDEN.includes(who)) return 'forbidden';
  if (!SEES_CASE.includes(who)) return 'hidden case';
  return readers.includes(who) ? 'allowed' : 'hidden item';
}

// Fixtures are built once per file through the API; under a loaded machine that takes longer than jest's default 5 s.
jest.setTimeout(60_000);

describe('access matrix: items inside a case (markings, source identity)', () => {
  let t: TestApp;
  let cast: Cast;
  let caseId: string;
  let reference: string;
  const concern = {} as Record<ConcernName, string>;
  const record = {} as Record<RecordName, string>;
  const person = (who: Who): Person => cast[who];
  /** The answer for a record that does not exist, once per caller and kind. */
  const baselines = new Map<string, Promise<Response>>();
  const missingFor = (who: Who, kind: 'concerns' | 'conversations'): Promise<Response> => {
    const key = `${who} ${kind}`;
    if (!baselines.has(key)) baselines.set(key, Promise.resolve(http(t).get(`/${kind}/${randomUUID()}`).set(person(who).auth)));
    return baselines.get(key)!;
  };

  beforeAll(async () => {
    t = await createTestApp();
    cast = await buildCast(t);
    const { officer, manager, riepWM, peerLab, peerLabB, peerCon } = cast;
    const first = await logConcern(t, officer, {
      authority: AUTHORITY, area: 'finance', description: 'Budget gap', source: { name: 'Jo Whistle', role: 'Section 151 officer', organisation: 'The council', contact: 'jo@example.org' },
    });
    caseId = first.id;
    reference = first.reference;
    concern.normalWithSource = first.concernId;
    concern.namedOnly = (await logConcern(t, officer, {
      authority: AUTHORITY, caseId, area: 'serious_adverse_incident', description: 'A child died; the review is being held back',
      handling: 'named_only', namedUserIds: [officer.id, riepWM.id, peerLab.id, cast.peerOut.id], source: { name: 'Sam Insider' },
    })).concernId;
    concern.normalNoSource = (await logConcern(t, officer, { authority: AUTHORITY, caseId, area: 'other', description: 'Anonymous letter' })).concernId;

    record.normal = await referToRiep(t, officer, caseId);
    for (const peer of [peerLab, peerLabB, peerCon]) await addToTeam(t, manager, caseId, peer, 'lead_political_peer');
    record.labourConfidential = await recordConversation(t, peerLab, caseId, { summary: 'Labour group is split over the leader', handling: 'party_confidential' });
    record.namedOnly = await recordConversation(t, officer, caseId, {
      kind: 'confidential_discussion', summary: 'Chief executive health', handling: 'named_only', namedUserIds: [officer.id, riepWM.id, peerCon.id, cast.riepNE.id],
    });
    record.conservativeConfidential = await recordConversation(t, peerCon, caseId, { summary: 'Conservative group whip problems', handling: 'party_confidential' });
    const compartment = expectStatus(await http(t).post(`/cases/${caseId}/compartments`).set(peerLab.auth).send({ staffIds: [cast.officer2.id] }), 201).body.id;
    record.compartment = await recordConversation(t, peerLab, caseId, { summary: 'Leader may resign', compartmentId: compartment });
    record.compartmentConfidential = await recordConversation(t, peerLab, caseId, { summary: 'Group meeting on a no-confidence vote', handling: 'party_confidential' });
    expectStatus(await http(t).post(`/compartments/${compartment}/records`).set(peerLab.auth).send({ recordId: record.compartmentConfidential }), 201);
  });
  afterAll(async () => {
    await t.close();
  });

  describe('GET /concerns/:id', () => {
    const cells = WHO.flatMap((who) => CONCERNS.map((name) => ({ who, name, expected: expectation(who, CONCERN_READERS[name]) })));

    it.each(cells)('$who on the $name concern: $expected', async ({ who, name, expected }) => {
      const actor = person(who);
      const res = await http(t).get(`/concerns/${concern[name]}`).set(actor.auth);
      if (expected === 'allowed') {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ id: concern[name], caseId, hasSource: name !== 'normalNoSource' });
        expect('source' in res.body).toBe(false);
        expect(JSON.stringify(res.body)).not.toMatch(/Jo Whistle|Sam Insider|jo@example\.org/);
        await expectAudited(t, res, actor.id, 'allowed');
      } else if (expected === 'forbidden') {
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('FORBIDDEN');
      } else {
        const missing = await missingFor(who, 'concerns');
        expect(missing.status).toBe(404);
        expect(res.status).toBe(404);
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
        const audit = await auditOf(t, res, actor.id);
        expect(audit).toEqual([expect.objectContaining({ outcome: 'denied', resource_type: 'concern' })]);
        if (expected === 'hidden item') expect(audit[0].rule).toBe('item_not_named');
      }
    });
  });

  describe('GET /cases/:id: the concerns listed, and their count, are the ones the caller may see', () => {
    it.each(SEES_CASE)('%s', async (who) => {
      const res = await http(t).get(`/cases/${caseId}`).set(person(who).auth);
      expect(res.status).toBe(200);
      const visible = CONCERNS.filter((n) => CONCERN_READERS[n].includes(who));
      expect(res.body.concerns.map((c: { id: string }) => c.id).sort()).toEqual(visible.map((n) => concern[n]).sort());
      expect(res.body.concerns).toHaveLength(visible.length);
    });
  });

  describe("the source's identity: never in a concern read; a manager reveals it with a reason", () => {
    const SECRET = /Jo Whistle|Sam Insider|jo@example\.org|Section 151/;

    it.each(SEES_CASE)('%s: no source field on any concern (GET /cases/:id, GET /concerns/:id); hasSource and the channel are shown; no source read audited', async (who) => {
      const res = await http(t).get(`/cases/${reference}`).set(person(who).auth);
      expect(res.status).toBe(200);
      expect(res.body.concerns.length).toBeGreaterThan(0);
      for (const c of res.body.concerns) {
        expect('source' in c).toBe(false);
        expect(c.hasSource).toBe(c.id !== concern.normalNoSource);
        expect(c.channel).toEqual(expect.any(String));
      }
      expect(JSON.stringify(res.body)).not.toMatch(SECRET);
      const one = await http(t).get(`/concerns/${concern.normalWithSource}`).set(person(who).auth);
      expect(one.status).toBe(200);
      expect('source' in one.body).toBe(false);
      expect(one.body.hasSource).toBe(true);
      for (const r of [res, one]) {
        expect((await auditOf(t, r, person(who).id)).map((a) => a.resource_type)).not.toContain('concern_source');
      }
    });

    // POST /concerns/:id/source-identity/reveal {reason}: managers only (403 by route for every
    // other role); a concern without a source answers 422; the reveal is audited.
    const revealCells = WHO.flatMap((who) => CONCERNS.map((name) => ({
      who, name,
      expected: who === 'manager' ? (name === 'normalNoSource' ? 'no source' : 'revealed') : 'forbidden',
    })));
    it.each(revealCells)('reveal: $who on the $name concern: $expected', async ({ who, name, expected }) => {
      const actor = person(who);
      const res = await http(t).post(`/concerns/${concern[name]}/source-identity/reveal`).set(actor.auth).send({ reason: 'Calling the source back about the budget papers' });
      if (expected === 'revealed') {
        expect(res.status).toBe(200);
        expect(res.body.source.name).toBe(name === 'normalWithSource' ? 'Jo Whistle' : 'Sam Insider');
        expect(await auditOf(t, res, actor.id)).toEqual(expect.arrayContaining([
          expect.objectContaining({ outcome: 'allowed', action: 'source_identity_reveal', resource_type: 'concern_source', rule: 'source_revealed_with_reason' }),
        ]));
      } else if (expected === 'no source') {
        expect(res.status).toBe(422);
        expect(res.body.details).toEqual({ precondition: 'concern_has_source' });
      } else {
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('FORBIDDEN');
        expect(JSON.stringify(res.body)).not.toMatch(SECRET);
      }
    });

    // GET /concerns/:id/source-identity: only under a release to the caller; nobody in the cast has
    // one, so staff who see the concern are refused (403, audited), staff who do not see it get
    // the 404 of a missing concern, and every other role is refused by route (403).
    const readCells = WHO.flatMap((who) => CONCERNS.map((name) => ({
      who, name,
      expected: !STAFF.includes(who) ? 'forbidden by route' : CONCERN_READERS[name].includes(who) ? 'no release' : 'hidden',
    })));
    it.each(readCells)('read without a release: $who on the $name concern: $expected', async ({ who, name, expected }) => {
      const actor = person(who);
      const res = await http(t).get(`/concerns/${concern[name]}/source-identity`).set(actor.auth);
      expect(JSON.stringify(res.body)).not.toMatch(SECRET);
      if (expected === 'hidden') {
        const missing = await http(t).get(`/concerns/${randomUUID()}/source-identity`).set(actor.auth);
        expect(res.status).toBe(404);
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
      } else {
        expect(res.status).toBe(403);
        if (expected === 'no release') {
          expect(await auditOf(t, res, actor.id)).toEqual([expect.objectContaining({ outcome: 'denied', resource_type: 'concern_source', rule: 'source_no_active_release' })]);
        }
      }
    });
  });

  describe('GET /conversations/:recordId', () => {
    const cells = WHO.flatMap((who) => RECORDS.map((name) => ({ who, name, expected: expectation(who, RECORD_READERS[name]) })));

    it.each(cells)('$who on the $name record: $expected', async ({ who, name, expected }) => {
      const actor = person(who);
      const res = await http(t).get(`/conversations/${record[name]}`).set(actor.auth);
      if (expected === 'allowed') {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ recordId: record[name], caseId, version: 1, earlierVersions: [] });
        await expectAudited(t, res, actor.id, 'allowed');
      } else if (expected === 'forbidden') {
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('FORBIDDEN');
      } else {
        const missing = await missingFor(who, 'conversations');
        expect(missing.status).toBe(404);
        expect(res.status).toBe(404);
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
        const audit = await auditOf(t, res, actor.id);
        expect(audit).toEqual([expect.objectContaining({ outcome: 'denied', resource_type: 'conversation' })]);
        if (expected === 'hidden item') {
          expect(audit[0].rule).toBe(hiddenRecordRule(who, name));
        }
      }
    });
  });

  describe('GET /cases/:id/conversations: the records listed, and their count, are the ones the caller may see', () => {
    it.each(WHO)('%s', async (who) => {
      const actor = person(who);
      const res = await http(t).get(`/cases/${caseId}/conversations`).set(actor.auth);
      const expected = expectation(who, []);
      if (expected === 'forbidden') {
        expect(res.status).toBe(403);
      } else if (expected === 'hidden case') {
        expect(res.status).toBe(404);
        await expectAudited(t, res, actor.id, 'denied');
      } else {
        expect(res.status).toBe(200);
        const visible = RECORDS.filter((n) => RECORD_READERS[n].includes(who)).map((n) => record[n]);
        expect(res.body.map((r: { recordId: string }) => r.recordId).sort()).toEqual([...visible].sort());
        expect(res.body).toHaveLength(visible.length);
        await expectAudited(t, res, actor.id, 'allowed');
      }
    });
  });

  describe('GET /cases?area=…: a case counts for an area only through a concern the caller may see', () => {
    const cells = WHO.filter((w) => !FORBIDDEN.includes(w)).flatMap((who) =>
      (['serious_adverse_incident', 'finance', 'other'] as const).map((area) => {
        const name: ConcernName = area === 'serious_adverse_incident' ? 'namedOnly' : area === 'finance' ? 'normalWithSource' : 'normalNoSource';
        return { who, area, counted: SEES_CASE.includes(who) && CONCERN_READERS[name].includes(who) };
      }),
    );
    it.each(cells)('$who, area $area: counted $counted', async ({ who, area, counted }) => {
      const res = await http(t).get('/cases').query({ authority: AUTHORITY, area }).set(person(who).auth);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(counted ? 1 : 0);
      expect(res.body.items.map((c: { id: string }) => c.id)).toEqual(counted ? [caseId] : []);
    });
  });

  describe('a correction keeps the marking, and earlier versions stay readable only to those allowed', () => {
    beforeAll(async () => {
      expectStatus(
        await http(t).post(`/conversations/${record.namedOnly}/corrections`).set(cast.officer.auth).send({
          version: 1, correctionReason: 'Wrong date', kind: 'confidential_discussion', heldOn: '2026-01-22', summary: 'Chief executive health (corrected)',
        }),
        201,
      );
    });

    it.each(SEES_CASE)('%s', async (who) => {
      const res = await http(t).get(`/conversations/${record.namedOnly}`).set(person(who).auth);
      if (RECORD_READERS.namedOnly.includes(who)) {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ version: 2, handling: 'named_only', summary: 'Chief executive health (corrected)', correctionReason: 'Wrong date' });
        expect(res.body.earlierVersions).toEqual([expect.objectContaining({ version: 1, summary: 'Chief executive health', handling: 'named_only' })]);
        const list = await http(t).get(`/cases/${caseId}/conversations`).set(person(who).auth);
        const entries = list.body.filter((r: { recordId: string }) => r.recordId === record.namedOnly);
        expect(entries).toEqual([expect.objectContaining({ version: 2 })]);
      } else {
        expect(res.status).toBe(404);
        const list = await http(t).get(`/cases/${caseId}/conversations`).set(person(who).auth);
        expect(JSON.stringify(list.body)).not.toContain('Chief executive health');
      }
    });
  });
});
