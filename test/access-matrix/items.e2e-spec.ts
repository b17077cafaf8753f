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
 * recording peer's party and clearing-house managers. The source of a concern: clearing-house
 * staff only; for anyone else the field is absent, while hasSource is shown.
 *
 * Authority of this file (nobody else uses it): Malvern Hills (MAV, West Midlands). The case is
 * referred to the RIEP, so both West Midlands RIEP facilitators see it; the North East one does not.
 */
const AUTHORITY = 'MAV';

type Who = 'officer' | 'officer2' | 'manager' | 'riepWM' | 'riepWM2' | 'riepNE' | 'peerLab' | 'peerLabB' | 'peerCon' | 'peerOut' | 'auditor' | 'admin';
const WHO: Who[] = ['officer', 'officer2', 'manager', 'riepWM', 'riepWM2', 'riepNE', 'peerLab', 'peerLabB', 'peerCon', 'peerOut', 'auditor', 'admin'];
const STAFF: Who[] = ['officer', 'officer2', 'manager'];
/** Who sees the case at all (referred West Midlands case; the three peers are on its team). */
const SEES_CASE: Who[] = ['officer', 'officer2', 'manager', 'riepWM', 'riepWM2', 'peerLab', 'peerLabB', 'peerCon'];
const FORBIDDEN: Who[] = ['auditor', 'admin'];

type ConcernName = 'normalWithSource' | 'namedOnly' | 'normalNoSource';
type RecordName = 'normal' | 'labourConfidential' | 'namedOnly' | 'conservativeConfidential';

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
};
const CONCERNS = Object.keys(CONCERN_READERS) as ConcernName[];
const RECORDS = Object.keys(RECORD_READERS) as RecordName[];

/** The rule an audit record names when an item is hidden from someone who sees the case. */
function hiddenItemRule(who: Who, kind: 'named' | 'party'): string {
  if (kind === 'named') return 'item_not_named';
  return who.startsWith('peer') ? 'item_other_party' : 'item_party_confidential_not_peer';
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
        if (STAFF.includes(who)) {
          expect('source' in res.body).toBe(true);
          if (name === 'normalNoSource') expect(res.body.source).toBeNull();
          else expect(res.body.source.name).toEqual(expect.any(String));
        } else {
          expect('source' in res.body).toBe(false);
          expect(JSON.stringify(res.body)).not.toMatch(/Jo Whistle|Sam Insider|jo@example\.org/);
        }
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

  describe("the source's identity: clearing-house staff only; for everyone else the field is absent", () => {
    it.each(STAFF)('%s sees who raised it (GET /cases/:id and GET /concerns/:id), and its reading is audited', async (who) => {
      const res = await http(t).get(`/cases/${reference}`).set(person(who).auth);
      const first = res.body.concerns.find((c: { id: string }) => c.id === concern.normalWithSource);
      expect(first.source).toEqual({ name: 'Jo Whistle', role: 'Section 151 officer', organisation: 'The council', contact: 'jo@example.org' });
      expect(first.hasSource).toBe(true);
      const anonymous = res.body.concerns.find((c: { id: string }) => c.id === concern.normalNoSource);
      expect(anonymous.source).toBeNull();
      expect(anonymous.hasSource).toBe(false);
      const audit = await auditOf(t, res, person(who).id);
      expect(audit).toContainEqual(expect.objectContaining({ outcome: 'allowed', resource_type: 'concern_source' }));
      const one = await http(t).get(`/concerns/${concern.normalWithSource}`).set(person(who).auth);
      expect(one.body.source.name).toBe('Jo Whistle');
      expect(await auditOf(t, one, person(who).id)).toContainEqual(expect.objectContaining({ outcome: 'allowed', resource_type: 'concern_source' }));
    });

    it.each(SEES_CASE.filter((w) => !STAFF.includes(w)))('%s: no source field on any concern; hasSource is shown; no source read audited', async (who) => {
      const res = await http(t).get(`/cases/${caseId}`).set(person(who).auth);
      expect(res.status).toBe(200);
      expect(res.body.concerns.length).toBeGreaterThan(0);
      for (const c of res.body.concerns) {
        expect('source' in c).toBe(false);
        expect(c.hasSource).toBe(c.id !== concern.normalNoSource);
      }
      expect(JSON.stringify(res.body)).not.toMatch(/Jo Whistle|Sam Insider|jo@example\.org|Section 151/);
      const one = await http(t).get(`/concerns/${concern.normalWithSource}`).set(person(who).auth);
      expect(one.status).toBe(200);
      expect('source' in one.body).toBe(false);
      expect(one.body.hasSource).toBe(true);
      for (const r of [res, one]) {
        expect((await auditOf(t, r, person(who).id)).map((a) => a.resource_type)).not.toContain('concern_source');
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
          expect(audit[0].rule).toBe(hiddenItemRule(who, name === 'namedOnly' ? 'named' : 'party'));
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
