import { randomUUID } from 'node:crypto';
import { Response } from 'supertest';
import { Role } from '../../src/access-control/role';
import { signedIn, TestApp, createTestApp } from '../support/app';
import {
  addToTeam, auditOf, buildCast, Cast, createSupport, dayOffset, expectAudited, expectStatus, http, logConcern, MISSING_CASE_ID, MISSING_REFERENCE, moveOk, Person,
  recordConversation, referToRiep, toPreInterventionWithMeeting, withoutRequestId,
} from './fixtures';

/*
 * Case visibility, for every role and relationship, on every read endpoint of the case file:
 * staff see every case; a RIEP facilitator sees a case on an authority in their own region once
 * it is referred to the RIEP or while they are on its team; a lead political peer sees the cases
 * whose current team they are on; auditors, administrators, Board members and government liaisons
 * read no case content (403; a liaison reads at most a pre-intervention pack, below).
 * A case the caller may not see answers exactly as a case that does not exist.
 *
 * Authorities of this file (nobody else uses them): Wyre Forest (WYE, West Midlands),
 * Hartlepool (HPL, North East), Cannock Chase (CAN, West Midlands) for paging.
 */
const WM = 'WYE';
const NE = 'HPL';
const PAGING = 'CAN';

type CaseName = 'wmReferred' | 'wmUnreferred' | 'neReferred' | 'neUnreferred';
const CASES: CaseName[] = ['wmReferred', 'wmUnreferred', 'neReferred', 'neUnreferred'];
const AUTHORITY_OF: Record<CaseName, string> = { wmReferred: WM, wmUnreferred: WM, neReferred: NE, neUnreferred: NE };

type Who = 'officer' | 'manager' | 'riepWM' | 'riepWM2' | 'riepNE' | 'peerLab' | 'peerOut' | 'auditor' | 'admin' | 'board' | 'liaison';

/**
 * Which cases each caller sees, and why (the relationship). riepWM is on the team of
 * wmUnreferred; riepNE is on its team too (put there behind the API's back) but it is not in
 * their region; peerLab is on the team of wmReferred only.
 */
const SEES: Record<Who, CaseName[] | 'forbidden'> = {
  officer: CASES, // staff: the whole register
  manager: CASES,
  riepWM: ['wmReferred', 'wmUnreferred'], // own region: referred; own region: on the team though not referred
  riepWM2: ['wmReferred'], // own region, referred; not the unreferred case (not on its team)
  riepNE: ['neReferred'], // own region referred; not another region's (referred, or on its team); not own region unreferred
  peerLab: ['wmReferred'], // the one team they are on
  peerOut: [], // on no team
  auditor: 'forbidden',
  admin: 'forbidden',
  board: 'forbidden', // statistics only
  liaison: 'forbidden', // a pack at most (below), never the case file, even while named for wmReferred's meeting
};
const WHO: Who[] = Object.keys(SEES) as Who[];

/**
 * GET /cases/:id/pack (src/stage-access): clearing-house staff read the pack of any case they
 * see (empty unless the case is at the pre-intervention stage); the government liaison reads
 * only the pack of wmReferred, the one case at that stage whose meeting they are named for;
 * every other case's pack is hidden from them exactly as a missing case. Nobody else has the route.
 */
const PACK_SEES: Record<Who, CaseName[] | 'forbidden'> = {
  officer: CASES, manager: CASES, liaison: ['wmReferred'],
  riepWM: 'forbidden', riepWM2: 'forbidden', riepNE: 'forbidden', peerLab: 'forbidden', peerOut: 'forbidden', auditor: 'forbidden', admin: 'forbidden', board: 'forbidden',
};

/** Every caller on every case, with the answer a matrix of who sees what gives them. */
function cellsOf(sees: Record<Who, CaseName[] | 'forbidden'>) {
  return WHO.flatMap((who) =>
    CASES.map((name) => {
      const seen = sees[who];
      const expected = seen === 'forbidden' ? 'forbidden (403)' : seen.includes(name) ? 'allowed' : 'hidden (404, as if missing)';
      return { who, name, expected };
    }),
  );
}

interface Built {
  id: string;
  reference: string;
  concernId: string;
  recordId: string;
  supportId: string;
  noteId: string;
  meetingId: string | null;
}

interface Endpoint {
  name: string;
  path: (c: Built) => string;
  missing: string;
  /** What an allowed answer must contain. */
  check: (body: any, c: Built) => void;
}

const ENDPOINTS: Endpoint[] = [
  { name: 'GET /cases/:id', path: (c) => `/cases/${c.id}`, missing: `/cases/${MISSING_CASE_ID}`, check: (b, c) => expect(b).toMatchObject({ id: c.id, reference: c.reference }) },
  { name: 'GET /cases/:reference', path: (c) => `/cases/${c.reference}`, missing: `/cases/${MISSING_REFERENCE}`, check: (b, c) => expect(b.id).toBe(c.id) },
  { name: 'GET /cases/:id/history', path: (c) => `/cases/${c.id}/history`, missing: `/cases/${MISSING_CASE_ID}/history`, check: (b) => expect(b[0]).toMatchObject({ sequence: 1, move: 'open' }) },
  { name: 'GET /cases/:reference/history', path: (c) => `/cases/${c.reference}/history`, missing: `/cases/${MISSING_REFERENCE}/history`, check: (b) => expect(b[0].move).toBe('open') },
  {
    name: 'GET /cases/:id/conversations', path: (c) => `/cases/${c.id}/conversations`, missing: `/cases/${MISSING_CASE_ID}/conversations`,
    check: (b, c) => expect(b.map((r: { recordId: string }) => r.recordId)).toContain(c.recordId),
  },
  {
    name: 'GET /cases/:id/support', path: (c) => `/cases/${c.id}/support`, missing: `/cases/${MISSING_CASE_ID}/support`,
    check: (b, c) => expect(b.map((s: { id: string }) => s.id)).toEqual([c.supportId]),
  },
  {
    name: 'GET /cases/:id/pre-intervention-meetings', path: (c) => `/cases/${c.id}/pre-intervention-meetings`, missing: `/cases/${MISSING_CASE_ID}/pre-intervention-meetings`,
    check: (b, c) => expect(b.map((m: { id: string }) => m.id)).toEqual(c.meetingId ? [c.meetingId] : []),
  },
  {
    name: 'GET /cases/:id/deadlines', path: (c) => `/cases/${c.id}/deadlines`, missing: `/cases/${MISSING_CASE_ID}/deadlines`,
    check: (b, c) => expect(b).toEqual(expect.arrayContaining([expect.objectContaining({ caseId: c.id, kind: 'triage' })])),
  },
  { name: 'GET /concerns/:id', path: (c) => `/concerns/${c.concernId}`, missing: `/concerns/${randomUUID()}`, check: (b, c) => expect(b).toMatchObject({ id: c.concernId, caseId: c.id }) },
  {
    name: 'GET /conversations/:recordId', path: (c) => `/conversations/${c.recordId}`, missing: `/conversations/${randomUUID()}`,
    check: (b, c) => expect(b).toMatchObject({ recordId: c.recordId, caseId: c.id, earlierVersions: [] }),
  },
  {
    name: 'GET /support/:id/progress-notes', path: (c) => `/support/${c.supportId}/progress-notes`, missing: `/support/${randomUUID()}/progress-notes`,
    check: (b, c) => expect(b.map((n: { id: string }) => n.id)).toEqual([c.noteId]),
  },
];

// Fixtures are built once per file through the API; under a loaded machine that takes longer than jest's default 5 s.
jest.setTimeout(60_000);

describe('access matrix: case visibility on every read endpoint, lists and counts', () => {
  let t: TestApp;
  let cast: Cast;
  const built = {} as Record<CaseName, Built>;
  const person = (who: Who): Person => cast[who];
  /** The answer for a record that does not exist, once per caller and path. */
  const baselines = new Map<string, Promise<Response>>();
  const missingFor = (who: Who, path: string): Promise<Response> => {
    const key = `${who} ${path}`;
    if (!baselines.has(key)) baselines.set(key, Promise.resolve(http(t).get(path).set(person(who).auth)));
    return baselines.get(key)!;
  };
  /** A case the caller may not see answers exactly as `missingPath`, a record that does not exist, and the refusal is audited. */
  const expectHiddenAsMissing = async (who: Who, res: Response, missingPath: string) => {
    const missing = await missingFor(who, missingPath);
    expect(missing.status).toBe(404);
    expect(res.status).toBe(404);
    expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    await expectAudited(t, res, person(who).id, 'denied');
  };

  beforeAll(async () => {
    t = await createTestApp();
    cast = await buildCast(t);
    const { officer, manager } = cast;

    const open = async (name: CaseName, description: string): Promise<Built> => {
      const c = await logConcern(t, officer, { authority: AUTHORITY_OF[name], description, source: { name: 'Pat Source', contact: '0100 000' } });
      return { id: c.id, reference: c.reference, concernId: c.concernId, recordId: '', supportId: '', noteId: '', meetingId: null };
    };
    built.wmReferred = await open('wmReferred', 'Referred West Midlands case');
    built.wmUnreferred = await open('wmUnreferred', 'Unreferred West Midlands case');
    built.neReferred = await open('neReferred', 'Referred North East case');
    built.neUnreferred = await open('neUnreferred', 'Unreferred North East case');

    built.wmReferred.recordId = await referToRiep(t, officer, built.wmReferred.id);
    built.neReferred.recordId = await referToRiep(t, officer, built.neReferred.id);
    await moveOk(t, officer, built.wmUnreferred.id, 'start_triage');
    built.wmUnreferred.recordId = await recordConversation(t, officer, built.wmUnreferred.id, { kind: 'call', summary: 'Call with the monitoring officer' });
    built.neUnreferred.recordId = await recordConversation(t, officer, built.neUnreferred.id, { kind: 'call', summary: 'Call with the leader' });

    await addToTeam(t, manager, built.wmReferred.id, cast.peerLab, 'lead_political_peer');
    await addToTeam(t, manager, built.wmUnreferred.id, cast.riepWM, 'riep_facilitator');
    // The API refuses a RIEP facilitator on another region's case; put one there directly, to show
    // that being on the team never overrides the region.
    await t.owner.query(`INSERT INTO case_team_members (case_id, user_id, team_role, added_by) VALUES ($1, $2, 'riep_facilitator', $3)`, [
      built.wmUnreferred.id, cast.riepNE.id, manager.id,
    ]);

    for (const name of CASES) {
      built[name].supportId = (await createSupport(t, officer, built[name].id)).id;
      const note = expectStatus(await http(t).post(`/support/${built[name].supportId}/progress-notes`).set(officer.auth).send({ note: 'First review held' }), 201);
      built[name].noteId = note.body.id;
    }
    built.wmReferred.meetingId = await toPreInterventionWithMeeting(t, officer, built.wmReferred.id);
    // The liaison is named for wmReferred's meeting, which is released into its pack.
    expectStatus(await http(t).post(`/cases/${built.wmReferred.id}/liaisons`).set(manager.auth).send({ userId: cast.liaison.id, reason: 'Department for Education lead' }), 201);
    expectStatus(await http(t).post(`/cases/${built.wmReferred.id}/pack/items`).set(officer.auth).send({ kind: 'meeting', meetingId: built.wmReferred.meetingId }), 201);
  });
  afterAll(async () => {
    await t.close();
  });

  describe.each(ENDPOINTS)('$name', (endpoint) => {
    it.each(cellsOf(SEES))('$who on $name: $expected', async ({ who, name, expected }) => {
      const actor = person(who);
      const res = await http(t).get(endpoint.path(built[name])).set(actor.auth);
      if (expected === 'allowed') {
        expect(res.status).toBe(200);
        endpoint.check(res.body, built[name]);
        await expectAudited(t, res, actor.id, 'allowed');
      } else if (expected.startsWith('hidden')) {
        await expectHiddenAsMissing(who, res, endpoint.missing);
      } else {
        expect(res.status).toBe(403);
        expect(res.body.error).toBe('FORBIDDEN');
        // Nothing of the case leaks into the refusal.
        expect(JSON.stringify(res.body)).not.toContain(built[name].reference);
      }
    });
  });

  describe('GET /cases/:id/pack', () => {
    it.each(cellsOf(PACK_SEES))('$who on $name: $expected', async ({ who, name, expected }) => {
      const actor = person(who);
      const res = await http(t).get(`/cases/${built[name].id}/pack`).set(actor.auth);
      if (expected === 'allowed') {
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ caseId: built[name].id, reference: built[name].reference });
        // Only the released meeting, and only at the stage.
        expect(res.body.items.map((i: { meeting?: { id: string } }) => i.meeting?.id)).toEqual(name === 'wmReferred' ? [built.wmReferred.meetingId] : []);
        await expectAudited(t, res, actor.id, 'allowed');
      } else if (expected.startsWith('hidden')) {
        await expectHiddenAsMissing(who, res, `/cases/${MISSING_CASE_ID}/pack`);
      } else {
        expect(res.status).toBe(403);
        expect(JSON.stringify(res.body)).not.toContain(built[name].reference);
      }
    });

    it('the liaison’s own list of open packs is that one case', async () => {
      const res = expectStatus(await http(t).get('/stage-access/packs').set(cast.liaison.auth), 200);
      expect(res.body.map((p: { caseId: string }) => p.caseId)).toEqual([built.wmReferred.id]);
    });
  });

  describe('the answer for a case you may not see', () => {
    it('is the same for a hidden case and a missing one, by id and by reference, and names no reference', async () => {
      const { peerOut } = cast;
      const hiddenById = await http(t).get(`/cases/${built.wmReferred.id}`).set(peerOut.auth);
      const hiddenByRef = await http(t).get(`/cases/${built.wmReferred.reference}`).set(peerOut.auth);
      const missingById = await http(t).get(`/cases/${randomUUID()}`).set(peerOut.auth);
      const missingByRef = await http(t).get(`/cases/${MISSING_REFERENCE}`).set(peerOut.auth);
      for (const res of [hiddenById, hiddenByRef, missingById, missingByRef]) {
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('NOT_FOUND');
        expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missingById.body));
        expect(JSON.stringify(res.body)).not.toContain(built.wmReferred.reference);
      }
      expect(hiddenById.headers['content-type']).toBe(missingById.headers['content-type']);
    });

    it('records the refusal with the rule that decided it, and a read that is allowed as allowed', async () => {
      const { riepNE, riepWM2, peerOut, officer } = cast;
      const otherRegion = await http(t).get(`/cases/${built.wmReferred.id}`).set(riepNE.auth);
      expect((await auditOf(t, otherRegion, riepNE.id))).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'riep_other_region', resource_type: 'case' })]);
      const notReferred = await http(t).get(`/cases/${built.wmUnreferred.id}`).set(riepWM2.auth);
      expect((await auditOf(t, notReferred, riepWM2.id))).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'riep_not_referred' })]);
      const teamButOtherRegion = await http(t).get(`/cases/${built.wmUnreferred.id}`).set(riepNE.auth);
      expect((await auditOf(t, teamButOtherRegion, riepNE.id))).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'riep_other_region' })]);
      const notOnTeam = await http(t).get(`/cases/${built.wmReferred.id}`).set(peerOut.auth);
      expect((await auditOf(t, notOnTeam, peerOut.id))).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'peer_not_on_team' })]);
      const missing = await http(t).get(`/cases/${MISSING_REFERENCE}`).set(peerOut.auth);
      expect((await auditOf(t, missing, peerOut.id))).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'case_not_found' })]);
      const allowed = await http(t).get(`/cases/${built.neUnreferred.id}`).set(officer.auth);
      expect((await auditOf(t, allowed, officer.id))).toContainEqual(expect.objectContaining({ outcome: 'allowed', action: 'read', resource_type: 'case' }));
      const denied = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND outcome = 'denied' AND case_id = $2`, [riepNE.id, built.wmReferred.id]);
      expect(denied[0].n).toBeGreaterThan(0);
    });
  });

  describe('GET /cases: lists and counts hold only what the caller may see', () => {
    const list = async (who: Who, query: Record<string, string | number>) => {
      const res = await http(t).get('/cases').query(query).set(person(who).auth);
      expect(res.status).toBe(200);
      return res;
    };
    const idsOf = (res: Response) => res.body.items.map((c: { id: string }) => c.id).sort();
    const expected = (who: Who, filter: (n: CaseName) => boolean = () => true) => {
      const sees = SEES[who];
      return (sees === 'forbidden' ? [] : sees.filter(filter)).map((n) => built[n].id).sort();
    };
    const seeing = WHO.filter((w) => SEES[w] !== 'forbidden');

    it.each(seeing)('%s: authority filter (West Midlands authority) lists and counts only visible cases', async (who) => {
      const res = await list(who, { authority: WM });
      expect(idsOf(res)).toEqual(expected(who, (n) => AUTHORITY_OF[n] === WM));
      expect(res.body.total).toBe(expected(who, (n) => AUTHORITY_OF[n] === WM).length);
    });

    it.each(seeing)('%s: authority filter (North East authority) lists and counts only visible cases', async (who) => {
      const res = await list(who, { authority: NE });
      expect(idsOf(res)).toEqual(expected(who, (n) => AUTHORITY_OF[n] === NE));
      expect(res.body.total).toBe(expected(who, (n) => AUTHORITY_OF[n] === NE).length);
    });

    it.each(seeing)('%s: region filter with the authority by GSS code agrees', async (who) => {
      const [{ gss_code }] = await t.ds.query(`SELECT gss_code FROM authorities WHERE code = $1`, [WM]);
      const res = await list(who, { region: 'West Midlands', authority: gss_code });
      expect(idsOf(res)).toEqual(expected(who, (n) => AUTHORITY_OF[n] === WM));
      expect(res.body.total).toBe(expected(who, (n) => AUTHORITY_OF[n] === WM).length);
    });

    it('a RIEP facilitator never counts another region: region filter for the other region totals 0', async () => {
      expect((await list('riepWM', { region: 'North East' })).body).toMatchObject({ total: 0, items: [] });
      expect((await list('riepWM2', { region: 'North East' })).body).toMatchObject({ total: 0, items: [] });
      const ne = await list('riepNE', { region: 'West Midlands' });
      expect(ne.body).toMatchObject({ total: 0, items: [] });
      // Everything a RIEP facilitator sees at all is in their own region.
      const all = await list('riepNE', { limit: 100 });
      expect(all.body.items.every((c: { authority: { region: string } }) => c.authority.region === 'North East')).toBe(true);
      expect(idsOf(all)).toContain(built.neReferred.id);
      expect(idsOf(all)).not.toContain(built.wmUnreferred.id);
      expect(idsOf(all)).not.toContain(built.neUnreferred.id);
    });

    it('a RIEP facilitator\'s region total equals the referred and team cases of that region (this file\'s authority)', async () => {
      const res = await list('riepWM', { region: 'West Midlands', authority: WM });
      expect(res.body.total).toBe(2);
      const res2 = await list('riepWM2', { region: 'West Midlands', authority: WM });
      expect(res2.body.total).toBe(1);
      expect(idsOf(res2)).toEqual([built.wmReferred.id]);
    });

    it.each(['peerLab', 'peerOut'] as Who[])('%s: the unfiltered list is exactly the cases whose team they are on', async (who) => {
      const res = await list(who, { limit: 100 });
      expect(idsOf(res)).toEqual(expected(who));
      expect(res.body.total).toBe(expected(who).length);
    });

    it.each(['auditor', 'admin', 'board', 'liaison'] as Who[])('%s: the case register is refused (403)', async (who) => {
      const res = await http(t).get('/cases').set(person(who).auth);
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('FORBIDDEN');
      expect(res.body.items).toBeUndefined();
    });

    describe('state filter', () => {
      it.each(seeing)('%s: state=triage on this file\'s authorities', async (who) => {
        const wm = await list(who, { authority: WM, state: 'triage' });
        const ne = await list(who, { authority: NE, state: 'triage' });
        expect([...idsOf(wm), ...idsOf(ne)].sort()).toEqual(expected(who, (n) => n === 'wmUnreferred'));
        expect(wm.body.total + ne.body.total).toBe(expected(who, (n) => n === 'wmUnreferred').length);
      });
      it.each(seeing)('%s: state=pre_intervention on the West Midlands authority', async (who) => {
        const res = await list(who, { authority: WM, state: 'pre_intervention' });
        expect(idsOf(res)).toEqual(expected(who, (n) => n === 'wmReferred'));
        expect(res.body.total).toBe(expected(who, (n) => n === 'wmReferred').length);
      });
    });

    describe('teamMember filter never reveals a case the caller may not see', () => {
      it.each(seeing)('%s: teamMember = the West Midlands RIEP facilitator', async (who) => {
        const res = await list(who, { teamMember: cast.riepWM.id });
        expect(idsOf(res)).toEqual(expected(who, (n) => n === 'wmUnreferred'));
        expect(res.body.total).toBe(expected(who, (n) => n === 'wmUnreferred').length);
      });
      it.each(seeing)('%s: teamMember = the North East RIEP facilitator (on a West Midlands team)', async (who) => {
        const res = await list(who, { teamMember: cast.riepNE.id });
        expect(idsOf(res)).toEqual(expected(who, (n) => n === 'wmUnreferred'));
        expect(res.body.total).toBe(expected(who, (n) => n === 'wmUnreferred').length);
      });
      it.each(seeing)('%s: teamMember = the peer on the referred case', async (who) => {
        const res = await list(who, { teamMember: cast.peerLab.id });
        expect(idsOf(res)).toEqual(expected(who, (n) => n === 'wmReferred'));
        expect(res.body.total).toBe(expected(who, (n) => n === 'wmReferred').length);
      });
    });

    describe('openedFrom / openedTo filters', () => {
      it.each(seeing)('%s: opened between yesterday and tomorrow, on this file\'s authorities', async (who) => {
        const range = { openedFrom: dayOffset(-1), openedTo: dayOffset(1) };
        const wm = await list(who, { ...range, authority: WM });
        const ne = await list(who, { ...range, authority: NE });
        expect([...idsOf(wm), ...idsOf(ne)].sort()).toEqual(expected(who));
        expect(wm.body.total + ne.body.total).toBe(expected(who).length);
      });
      it.each(seeing)('%s: opened from the day after tomorrow, or up to the day before yesterday: none', async (who) => {
        expect((await list(who, { openedFrom: dayOffset(2), authority: WM })).body).toMatchObject({ total: 0, items: [] });
        expect((await list(who, { openedTo: dayOffset(-2), authority: WM })).body).toMatchObject({ total: 0, items: [] });
      });
      it('a peer\'s date-filtered list without any other filter is exactly their cases', async () => {
        const res = await list('peerLab', { openedFrom: dayOffset(-1), openedTo: dayOffset(1) });
        expect(idsOf(res)).toEqual([built.wmReferred.id]);
        expect(res.body.total).toBe(1);
      });
    });
  });

  describe('paging: stable, disjoint pages covering exactly the visible total', () => {
    let pager: Person;
    const onTeam: string[] = [];
    const offTeam: string[] = [];

    beforeAll(async () => {
      pager = await signedIn(t, Role.LeadPoliticalPeer, { partyId: cast.labour, name: 'Peer pager' });
      for (let i = 0; i < 7; i++) {
        const c = await logConcern(t, cast.officer, { authority: PAGING, description: `Paging case ${i}` });
        if (i % 3 === 2) {
          offTeam.push(c.id);
        } else {
          await addToTeam(t, cast.manager, c.id, pager, 'lead_political_peer');
          onTeam.push(c.id);
        }
      }
    });

    const pageThrough = async (who: Person, limit: number, query: Record<string, string> = {}) => {
      const pages: Array<{ items: Array<{ id: string; openedAt: string }>; total: number }> = [];
      for (let offset = 0; ; offset += limit) {
        const res = await http(t).get('/cases').query({ ...query, limit, offset }).set(who.auth);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ limit, offset });
        if (res.body.items.length === 0) {
          pages.push(res.body);
          break;
        }
        pages.push(res.body);
      }
      return pages;
    };

    it('a peer pages through exactly the cases they are on; the total never counts the others', async () => {
      expect(onTeam).toHaveLength(5);
      const pages = await pageThrough(pager, 2);
      expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1, 0]);
      for (const p of pages) expect(p.total).toBe(5);
      const ids = pages.flatMap((p) => p.items.map((c) => c.id));
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual([...onTeam].sort());
      for (const id of offTeam) expect(ids).not.toContain(id);
      const items = pages.flatMap((p) => p.items);
      const ordered = [...items].sort((a, b) => b.openedAt.localeCompare(a.openedAt) || b.id.localeCompare(a.id));
      expect(items.map((c) => c.id)).toEqual(ordered.map((c) => c.id));
      // Asking again gives the same pages.
      const again = await pageThrough(pager, 2);
      expect(again.flatMap((p) => p.items.map((c) => c.id))).toEqual(ids);
    });

    it('past the last page: no items, and the total is still the visible count', async () => {
      const res = await http(t).get('/cases').query({ limit: 3, offset: 50 }).set(pager.auth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], total: 5, offset: 50 });
      const officer = await http(t).get('/cases').query({ authority: PAGING, limit: 3, offset: 50 }).set(cast.officer.auth);
      expect(officer.body).toMatchObject({ items: [], total: 7 });
    });

    it('staff page through every case of the authority', async () => {
      const pages = await pageThrough(cast.officer, 3, { authority: PAGING });
      expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1, 0]);
      for (const p of pages) expect(p.total).toBe(7);
      const ids = pages.flatMap((p) => p.items.map((c) => c.id));
      expect([...ids].sort()).toEqual([...onTeam, ...offTeam].sort());
    });

    it('other callers see none of them (a RIEP facilitator of the region: none is referred)', async () => {
      for (const who of [cast.riepWM, cast.riepWM2, cast.peerOut, cast.peerLab]) {
        const res = await http(t).get('/cases').query({ authority: PAGING }).set(who.auth);
        expect(res.body).toMatchObject({ items: [], total: 0 });
      }
    });
  });

  describe('removing a peer from the team ends their access at once', () => {
    let gone: Person;
    let caseId: string;
    beforeAll(async () => {
      gone = await signedIn(t, Role.LeadPoliticalPeer, { partyId: cast.conservative, name: 'Peer to be removed' });
      caseId = built.neUnreferred.id;
      await addToTeam(t, cast.manager, caseId, gone, 'lead_political_peer');
    });

    it('sees the case, its conversations and the list entry while on the team; not one request later', async () => {
      expect((await http(t).get(`/cases/${caseId}`).set(gone.auth)).status).toBe(200);
      expect((await http(t).get(`/cases/${caseId}/conversations`).set(gone.auth)).status).toBe(200);
      const before = await http(t).get('/cases').set(gone.auth);
      expect(before.body.total).toBe(1);
      expect(before.body.items[0].id).toBe(caseId);

      const removed = await http(t).delete(`/cases/${caseId}/team/${gone.id}`).set(cast.manager.auth);
      expect(removed.status).toBe(200);
      expect(removed.body.team.map((m: { userId: string }) => m.userId)).not.toContain(gone.id);

      const next = await http(t).get(`/cases/${caseId}`).set(gone.auth);
      const missing = await http(t).get(`/cases/${MISSING_CASE_ID}`).set(gone.auth);
      expect(next.status).toBe(404);
      expect(withoutRequestId(next.body)).toEqual(withoutRequestId(missing.body));
      await expectAudited(t, next, gone.id, 'denied');
      expect((await http(t).get(`/cases/${caseId}/conversations`).set(gone.auth)).status).toBe(404);
      expect((await http(t).get(`/conversations/${built.neUnreferred.recordId}`).set(gone.auth)).status).toBe(404);
      expect((await http(t).post(`/cases/${caseId}/conversations`).set(gone.auth).send({ kind: 'call', heldOn: '2026-01-21', summary: 'x', handling: 'normal' })).status).toBe(404);
      const after = await http(t).get('/cases').set(gone.auth);
      expect(after.body).toMatchObject({ items: [], total: 0 });
      // ...and the team filter no longer finds the case by them, for anyone.
      const byTeam = await http(t).get('/cases').query({ teamMember: gone.id }).set(cast.officer.auth);
      expect(byTeam.body).toMatchObject({ items: [], total: 0 });
    });
  });
});
