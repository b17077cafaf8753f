import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { TeamRole } from '../../src/access-control/handling';
import { Role } from '../../src/access-control/role';
import { expectApiError, fieldsOf } from '../support/api-error';
import { TestApp } from '../support/app';
import { newCase, newPerson, OVERRIDE_REASON, Person } from './fixtures';
import { ConflictsApp, openConflictsApp } from './support';

/*
 * Conflicts of interest (issue 8, point 4): users declare their own ties; adding someone with a
 * tie to a case's authority to its team is refused unless a clearing-house manager overrides it
 * with a reason. Every rule from the allowed and the refused side, through the API.
 */
describe('declared ties and case teams', () => {
  let t: TestApp, logger: Person, manager: Person, events: ConflictsApp['events'];
  const used = new Set<string>();

  beforeAll(async () => { ({ t, logger, manager, events } = await openConflictsApp('Team manager')); });
  afterAll(() => t.close());

  const declare = (who: Person, body: Record<string, unknown>) => request(t.http).post('/conflicts/declarations').set(who.auth).send(body);
  const addToTeam = (who: Person, caseId: string, body: Record<string, unknown>) => request(t.http).post(`/cases/${caseId}/team`).set(who.auth).send(body);
  const teamOf = async (caseId: string) =>
    (await t.owner.query(`SELECT user_id FROM case_team_members WHERE case_id = $1 AND removed_at IS NULL`, [caseId])).map((r: { user_id: string }) => r.user_id);

  describe('declaring your own ties', () => {
    it('declares, lists and ends your own ties; nobody else sees them in their own list', async () => {
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      const other = await newPerson(t, Role.ClearingHouseOfficer);
      const c = await newCase(t, used, logger);
      const councillor = await declare(peer, { kind: 'authority_representation', authority: c.authority.code });
      expect(councillor.status).toBe(201);
      expect(councillor.body).toEqual({
        id: expect.any(String), userId: peer.id, kind: 'authority_representation',
        authority: { id: c.authority.id, code: c.authority.code, name: expect.any(String) }, party: null, detail: null,
        declaredAt: expect.any(String), endedAt: null,
      });
      const personal = await declare(peer, { kind: 'personal_tie', detail: '  Married to the deputy leader of a neighbouring council  ' });
      expect(personal.status).toBe(201);
      expect(personal.body).toMatchObject({ kind: 'personal_tie', authority: null, detail: 'Married to the deputy leader of a neighbouring council' });

      const mine = await request(t.http).get('/conflicts/declarations').set(peer.auth);
      expect(mine.status).toBe(200);
      expect(mine.body.map((d: { id: string }) => d.id).sort()).toEqual([councillor.body.id, personal.body.id].sort());
      const theirs = await request(t.http).get('/conflicts/declarations').set(other.auth);
      expect(theirs.body).toEqual([]);

      // Ending: someone else's declaration reads as missing; your own ends once.
      expectApiError(await request(t.http).post('/conflicts/declarations/end').set(other.auth).send({ declarationId: personal.body.id }), 404, 'NOT_FOUND');
      expectApiError(await request(t.http).post('/conflicts/declarations/end').set(peer.auth).send({ declarationId: randomUUID() }), 404, 'NOT_FOUND');
      const ended = await request(t.http).post('/conflicts/declarations/end').set(peer.auth).send({ declarationId: personal.body.id });
      expect(ended.status).toBe(200);
      expect(ended.body.endedAt).toEqual(expect.any(String));
      expectApiError(await request(t.http).post('/conflicts/declarations/end').set(peer.auth).send({ declarationId: personal.body.id }), 409, 'CONFLICT');

      // Every change audited, never the detail.
      const trail = await events({ actorId: peer.id });
      expect(trail).toEqual(expect.arrayContaining([
        expect.objectContaining({ action: 'declare_conflict', resourceType: 'conflict_declaration', resourceId: councillor.body.id, rule: 'authority_representation', outcome: 'allowed' }),
        expect.objectContaining({ action: 'declare_conflict', resourceId: personal.body.id, rule: 'personal_tie' }),
        expect.objectContaining({ action: 'end_conflict_declaration', resourceId: personal.body.id, outcome: 'allowed' }),
      ]));
      expect(JSON.stringify(trail)).not.toContain('deputy leader');
    });

    it('asks each kind for what it must say, and refuses unknown councils and parties', async () => {
      const officer = await newPerson(t, Role.ClearingHouseOfficer);
      const missingAuthority = await declare(officer, { kind: 'authority_employment' });
      expectApiError(missingAuthority, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(missingAuthority)).toEqual(['authority']);
      expect(fieldsOf(await declare(officer, { kind: 'personal_tie' }))).toEqual(['detail']);
      expect(fieldsOf(await declare(officer, { kind: 'employer', detail: '' }))).toEqual(['detail']);
      expect(fieldsOf(await declare(officer, { kind: 'authority_employment', authority: 'ZZZZ' }))).toEqual(['authority']);
      expect(fieldsOf(await declare(officer, { kind: 'party_role', detail: 'Treasurer', partyId: randomUUID() }))).toEqual(['partyId']);
      expect(fieldsOf(await declare(officer, { kind: 'cousin', detail: 'x' }))).toEqual(['kind']);
      expect(fieldsOf(await declare(officer, { kind: 'employer', detail: 'A firm', userId: randomUUID() }))).toEqual(['userId']);
      expect((await request(t.http).get('/conflicts/declarations').set(officer.auth)).body).toEqual([]);
    });

    it("shows a user's ties to managers and administrators only", async () => {
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      const c = await newCase(t, used, logger);
      const declared = await declare(peer, { kind: 'authority_employment', authority: c.authority.code });
      expect(declared.status).toBe(201);
      const administrator = await newPerson(t, Role.Administrator);
      for (const who of [manager, administrator]) {
        const res = await request(t.http).get(`/users/${peer.id}/conflict-declarations`).set(who.auth);
        expect(res.status).toBe(200);
        expect(res.body).toEqual([expect.objectContaining({ id: declared.body.id, userId: peer.id, kind: 'authority_employment' })]);
      }
      for (const role of [Role.ClearingHouseOfficer, Role.LeadPoliticalPeer, Role.RiepFacilitator, Role.Auditor]) {
        const who = await newPerson(t, role);
        expectApiError(await request(t.http).get(`/users/${peer.id}/conflict-declarations`).set(who.auth), 403, 'FORBIDDEN');
      }
      expectApiError(await request(t.http).get(`/users/${randomUUID()}/conflict-declarations`).set(manager.auth), 404, 'NOT_FOUND');
      expect(await events({ actorId: administrator.id, action: 'list' })).toContainEqual(
        expect.objectContaining({ resourceType: 'conflict_declaration', resourceId: peer.id, outcome: 'allowed' }),
      );
    });
  });

  describe('adding someone with a declared tie to a case team', () => {
    it('refuses a tie to the case authority with 409 naming the conflict, audited; nothing changes', async () => {
      const c = await newCase(t, used, logger);
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      const tie = await declare(peer, { kind: 'authority_representation', authority: c.authority.code });
      const res = await addToTeam(manager, c.id, { userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer });
      const body = expectApiError(res, 409, 'CONFLICT');
      expect(body.details).toEqual({
        conflict: { rule: 'conflict_of_interest', userId: peer.id, authority: c.authority.code, declarations: [{ id: tie.body.id, kind: 'authority_representation' }] },
      });
      expect(await teamOf(c.id)).toEqual([]);
      expect(await events({ caseId: c.id, action: 'add_team_member' })).toContainEqual(
        expect.objectContaining({ outcome: 'denied', rule: 'conflict_of_interest', resourceId: peer.id }),
      );
      // The peer still cannot see the case.
      expectApiError(await request(t.http).get(`/cases/${c.id}`).set(peer.auth), 404, 'NOT_FOUND');
    });

    it('lets a tie to another authority, or an ended tie, through', async () => {
      const c = await newCase(t, used, logger);
      const elsewhere = await newCase(t, used, logger);
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      expect((await declare(peer, { kind: 'authority_employment', authority: elsewhere.authority.code })).status).toBe(201);
      expect((await addToTeam(manager, c.id, { userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer })).status).toBe(201);
      expect((await request(t.http).get(`/cases/${c.id}`).set(peer.auth)).status).toBe(200);

      const officer = await newPerson(t, Role.ClearingHouseOfficer);
      const old = await declare(officer, { kind: 'authority_employment', authority: c.authority.code });
      expectApiError(await addToTeam(manager, c.id, { userId: officer.id, teamRole: TeamRole.CaseOfficer }), 409, 'CONFLICT');
      expect((await request(t.http).post('/conflicts/declarations/end').set(officer.auth).send({ declarationId: old.body.id })).status).toBe(200);
      expect((await addToTeam(manager, c.id, { userId: officer.id, teamRole: TeamRole.CaseOfficer })).status).toBe(201);
      expect((await teamOf(c.id)).sort()).toEqual([peer.id, officer.id].sort());
    });

    it('needs overrideReason (at least 20 characters) with overrideConflict, and overrideConflict with overrideReason', async () => {
      const c = await newCase(t, used, logger);
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      await declare(peer, { kind: 'authority_representation', authority: c.authority.code });
      const base = { userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer };
      const noReason = await addToTeam(manager, c.id, { ...base, overrideConflict: true });
      expectApiError(noReason, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(noReason)).toEqual(['overrideReason']);
      expect(fieldsOf(await addToTeam(manager, c.id, { ...base, overrideConflict: true, overrideReason: 'too short' }))).toEqual(['overrideReason']);
      expect(fieldsOf(await addToTeam(manager, c.id, { ...base, overrideConflict: true, overrideReason: `   ${'x'.repeat(10)}         ` }))).toEqual(['overrideReason']);
      expect(fieldsOf(await addToTeam(manager, c.id, { ...base, overrideReason: OVERRIDE_REASON }))).toEqual(['overrideConflict']);
      expect(fieldsOf(await addToTeam(manager, c.id, { ...base, overrideConflict: 'yes', overrideReason: OVERRIDE_REASON }))).toEqual(['overrideConflict']);
      expect(await teamOf(c.id)).toEqual([]);
    });

    it("allows a manager's override with a reason, audited with the reason as its justification", async () => {
      const c = await newCase(t, used, logger);
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      await declare(peer, { kind: 'authority_representation', authority: c.authority.code });
      const res = await addToTeam(manager, c.id, { userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer, overrideConflict: true, overrideReason: OVERRIDE_REASON });
      expect(res.status).toBe(201);
      expect(res.body.team).toContainEqual(expect.objectContaining({ userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer }));
      expect((await request(t.http).get(`/cases/${c.id}`).set(peer.auth)).status).toBe(200);
      const trail = await events({ caseId: c.id });
      expect(trail).toContainEqual(
        expect.objectContaining({ action: 'override_conflict', outcome: 'allowed', rule: 'conflict_overridden', justification: OVERRIDE_REASON, resourceId: peer.id, actorId: manager.id }),
      );
      expect(trail).toContainEqual(expect.objectContaining({ action: 'add_team_member', outcome: 'allowed', resourceId: peer.id }));
    });

    it('refuses an override by anyone but a clearing-house manager (403), and a manager overriding a tie of their own (403)', async () => {
      const c = await newCase(t, used, logger);
      const peer = await newPerson(t, Role.LeadPoliticalPeer);
      await declare(peer, { kind: 'authority_representation', authority: c.authority.code });
      const body = { userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer, overrideConflict: true, overrideReason: OVERRIDE_REASON };
      for (const role of [Role.ClearingHouseOfficer, Role.RiepFacilitator]) {
        const who = await newPerson(t, role, role === Role.RiepFacilitator ? { region: c.authority.region as never } : {});
        expectApiError(await addToTeam(who, c.id, body), role === Role.RiepFacilitator ? 404 : 403, role === Role.RiepFacilitator ? 'NOT_FOUND' : 'FORBIDDEN');
      }
      expectApiError(await addToTeam(logger, c.id, body), 403, 'FORBIDDEN');

      const tied = await newPerson(t, Role.ClearingHouseManager);
      await declare(tied, { kind: 'authority_employment', authority: c.authority.code });
      const self = await addToTeam(tied, c.id, { userId: tied.id, teamRole: TeamRole.CaseLead, overrideConflict: true, overrideReason: OVERRIDE_REASON });
      expectApiError(self, 403, 'FORBIDDEN');
      expect(await events({ caseId: c.id, actorId: tied.id })).toContainEqual(
        expect.objectContaining({ action: 'override_conflict', outcome: 'denied', rule: 'conflict_override_not_for_yourself', justification: OVERRIDE_REASON }),
      );
      // Another manager may.
      expect((await addToTeam(manager, c.id, { userId: tied.id, teamRole: TeamRole.CaseLead, overrideConflict: true, overrideReason: OVERRIDE_REASON })).status).toBe(201);
      expect(await teamOf(c.id)).toEqual([tied.id]);
    });
  });
});
