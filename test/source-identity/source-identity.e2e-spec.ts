import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { EntityManager } from 'typeorm';
import { TeamRole } from '../../src/access-control/handling';
import { Region, Role } from '../../src/access-control/role';
import { inUserContext } from '../../src/database/row-security';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, nextTotp, ownerDataSource, partyIdOf, signedIn, TestApp } from '../support/app';
import { Person, restrictedCase } from '../break-glass/fixtures';
import { auditOf } from '../mfa/mfa-helpers';

/*
 * A source's identity, released by two people (issue 5, point 3). Ordinary reads show only that a
 * source exists and how the concern arrived; a manager reveals the identity with a reason; a
 * colleague reads it only under a release asked for by one manager and approved by a second,
 * until it expires or is revoked; never under break-glass; every step audited; auditors list
 * releases and reveals without the identity. Each rule from the allowed and the refused side.
 */

const SOURCE = { name: 'Robin Whistleblower', role: 'Monitoring officer', organisation: 'The council', contact: 'robin@example.org' };
const SECRETS = /Robin Whistleblower|robin@example\.org|Monitoring officer/;
const REASON = 'Need to call the source back about the safeguarding referral before Friday';
const RELEASE_REASON = 'The case officer must interview the source in person next week';

jest.setTimeout(60_000);

describe('source identity: reveal with a reason, release by two managers', () => {
  let t: TestApp;
  let logger: Person;
  let colleague: Person;
  let otherOfficer: Person;
  let m1: Person;
  let m2: Person;
  let m3: Person;
  let auditor: Person;
  const used = new Set<string>();

  beforeAll(async () => {
    t = await createTestApp();
    [logger, colleague, otherOfficer, m1, m2, m3, auditor] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Logging officer' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Colleague officer' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Other officer' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Manager One' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Manager Two' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Manager Three' }),
      signedIn(t, Role.Auditor, { name: 'Auditor' }),
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  const http = () => request(t.http);
  const get = (path: string, who: Person) => http().get(path).set(who.auth);
  const post = (path: string, who: Person, body: Record<string, unknown> = {}) => http().post(path).set(who.auth).send(body);
  const reveal = (who: Person, concernId: string, body: Record<string, unknown> = { reason: REASON }) => post(`/concerns/${concernId}/source-identity/reveal`, who, body);
  const askRelease = (who: Person, concernId: string, to: Person | string, reason = RELEASE_REASON) =>
    post(`/concerns/${concernId}/source-identity/releases`, who, { releasedToUserId: typeof to === 'string' ? to : to.id, reason });
  const decide = (who: Person, releaseId: string, verb: 'approve' | 'refuse' | 'revoke', body: Record<string, unknown> = verb === 'approve' ? {} : { reason: 'Not needed any more' }) =>
    post(`/source-identity/releases/${releaseId}/${verb}`, who, body);
  const readReleased = (who: Person, concernId: string) => get(`/concerns/${concernId}/source-identity`, who);
  const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
  const auditOfRequest = (res: Response): Promise<Array<{ action: string; outcome: string; rule: string | null; resource_type: string; justification: string | null }>> =>
    t.ds.query(`SELECT action, outcome, rule, resource_type, justification FROM audit_events WHERE request_id = $1 ORDER BY occurred_at, id`, [res.headers['x-request-id']]);
  /** The service's role bound to a user, as in their own request (row-level security). */
  const asUser = <T>(userId: string, work: (m: EntityManager) => Promise<T>): Promise<T> => inUserContext(t.ds, userId, work);

  /** A concern with a source, on a new case (a current authority; lists here are filtered by concern). */
  async function concernWithSource(extra: Record<string, unknown> = {}): Promise<{ caseId: string; concernId: string; reference: string; logged: Response }> {
    const logged = await post('/concerns', logger, {
      authority: 'E08000025', receivedOn: '2026-11-01', channel: 'inspectorate_or_audit', area: 'childrens_services_and_safeguarding', description: 'Referrals are not being followed up',
      source: SOURCE, ...extra,
    });
    expect(logged.status).toBe(201);
    return { caseId: logged.body.case.id, concernId: logged.body.concern.id, reference: logged.body.case.reference, logged };
  }

  async function approvedRelease(to: Person = colleague): Promise<{ concernId: string; caseId: string; releaseId: string }> {
    const c = await concernWithSource();
    const asked = await askRelease(m1, c.concernId, to);
    expect(asked.status).toBe(201);
    const approved = await decide(m2, asked.body.id, 'approve', { note: 'Agreed: interview needed' });
    expect(approved.status).toBe(200);
    return { concernId: c.concernId, caseId: c.caseId, releaseId: asked.body.id };
  }

  describe('ordinary reads', () => {
    it('never carry the identity, for officers or managers: only hasSource and the channel; no source read audited', async () => {
      const c = await concernWithSource();
      expect(c.logged.body.concern).toMatchObject({ hasSource: true, channel: 'inspectorate_or_audit' });
      expect(c.logged.body.concern).not.toHaveProperty('source');
      expect(JSON.stringify(c.logged.body)).not.toMatch(SECRETS);
      for (const who of [logger, otherOfficer, m1]) {
        const kase = await get(`/cases/${c.caseId}`, who);
        expect(kase.status).toBe(200);
        expect(kase.body.concerns[0]).toMatchObject({ hasSource: true, channel: 'inspectorate_or_audit' });
        expect(kase.body.concerns[0]).not.toHaveProperty('source');
        const one = await get(`/concerns/${c.concernId}`, who);
        expect(one.status).toBe(200);
        expect(one.body).not.toHaveProperty('source');
        for (const res of [kase, one]) {
          expect(JSON.stringify(res.body)).not.toMatch(SECRETS);
          expect((await auditOfRequest(res)).map((a) => a.resource_type)).not.toContain('concern_source');
        }
      }
    });
  });

  describe('a manager reveals it with a reason', () => {
    it('an officer is refused (403, audited), whether revealing or reading without a release', async () => {
      const c = await concernWithSource();
      const refused = await reveal(logger, c.concernId);
      expectApiError(refused, 403, 'FORBIDDEN');
      expect(JSON.stringify(refused.body)).not.toMatch(SECRETS);
      const read = await readReleased(logger, c.concernId);
      expectApiError(read, 403, 'FORBIDDEN');
      expect(JSON.stringify(read.body)).not.toMatch(SECRETS);
      expect(await auditOfRequest(read)).toEqual([expect.objectContaining({ action: 'read', outcome: 'denied', resource_type: 'concern_source', rule: 'source_no_active_release' })]);
    });

    it('without a reason (or too short a one) is refused with 400 naming the field, and reveals nothing', async () => {
      const c = await concernWithSource();
      for (const body of [{}, { reason: '' }, { reason: 'too short' }, { reason: `   ${'x'.repeat(10)}            ` }, { reason: 42 }]) {
        const res = await reveal(m1, c.concernId, body);
        expectApiError(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['reason']);
        expect(JSON.stringify(res.body)).not.toMatch(SECRETS);
      }
      expect((await auditOf(t, { actorId: m1.id, caseId: c.caseId })).filter((a) => a.action === 'source_identity_reveal')).toEqual([]);
    });

    it('with a reason gets the identity, audited with the reason as justification, each time', async () => {
      const c = await concernWithSource();
      const res = await reveal(m1, c.concernId);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ concernId: c.concernId, caseId: c.caseId, source: SOURCE, basis: 'revealed_with_reason', releaseId: null, releaseExpiresAt: null });
      expect(await auditOfRequest(res)).toEqual([
        expect.objectContaining({ action: 'source_identity_reveal', outcome: 'allowed', resource_type: 'concern_source', rule: 'source_revealed_with_reason', justification: REASON }),
      ]);
      // Per reveal: a second one is a second record.
      expect((await reveal(m1, c.concernId, { reason: `${REASON} (again)` })).status).toBe(200);
      const reveals = (await auditOf(t, { actorId: m1.id, caseId: c.caseId })).filter((a) => a.action === 'source_identity_reveal');
      expect(reveals.map((a) => a.justification)).toEqual([REASON, `${REASON} (again)`]);
    });

    it('a concern without a source answers 422 concern_has_source', async () => {
      const c = await concernWithSource({ source: undefined });
      const res = await reveal(m1, c.concernId);
      expectApiError(res, 422, 'PRECONDITION_FAILED');
      expect(res.body.details).toEqual({ precondition: 'concern_has_source' });
    });

    it('other roles never reach it (403 by route), and the hasSource flag is all they see', async () => {
      const c = await concernWithSource();
      const peer = await signedIn(t, Role.LeadPoliticalPeer, { partyId: await partyIdOf(t.ds, 'Labour') });
      const riep = await signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands });
      const admin = await signedIn(t, Role.Administrator);
      for (const who of [peer, riep, auditor, admin]) {
        expectApiError(await reveal(who, c.concernId), 403, 'FORBIDDEN');
        expectApiError(await readReleased(who, c.concernId), 403, 'FORBIDDEN');
        expectApiError(await askRelease(who, c.concernId, colleague), 403, 'FORBIDDEN');
      }
    });
  });

  describe('someone who cannot see the case or the concern', () => {
    it('gets 404 identical to a concern (or release) that does not exist, audited', async () => {
      const c = await restrictedCase(t, used, logger);
      const outsider = m3; // a manager not on the team who did not restrict it
      const outsideOfficer = otherOfficer;
      const missingConcern = randomUUID();
      const calls: Array<(id: string) => Promise<Response>> = [
        (id) => reveal(outsider, id),
        (id) => readReleased(outsideOfficer, id),
        (id) => askRelease(outsider, id, colleague),
        (id) => get(`/concerns/${id}/source-identity/releases`, outsider),
      ];
      for (const call of calls) {
        const hidden = await call(c.concernId);
        const missing = await call(missingConcern);
        expectApiError(hidden, 404, 'NOT_FOUND');
        expect(withoutRequestId(hidden.body)).toEqual(withoutRequestId(missing.body));
        expect(JSON.stringify(hidden.body)).not.toMatch(SECRETS);
        expect((await auditOfRequest(hidden))[0]).toMatchObject({ outcome: 'denied', rule: 'restricted_to_team' });
      }
      // A release on it, asked for by the manager who restricted it for the team officer: invisible to the outsider too.
      const asked = await askRelease(c.setter, c.concernId, c.teamOfficer);
      expect(asked.status).toBe(201);
      for (const verb of ['approve', 'refuse', 'revoke'] as const) {
        const hidden = await decide(outsider, asked.body.id, verb);
        const missing = await decide(outsider, randomUUID(), verb);
        expectApiError(hidden, 404, 'NOT_FOUND');
        expect(withoutRequestId(hidden.body)).toEqual(withoutRequestId(missing.body));
      }
      expect((await get(`/source-identity/releases?concernId=${c.concernId}`, outsider)).body).toMatchObject({ total: 0, items: [] });
      // A manager who may see it approves: the team officer reads it.
      const approver = await signedIn(t, Role.ClearingHouseManager);
      await http().post(`/cases/${c.id}/team`).set(c.setter.auth).send({ userId: approver.id, teamRole: TeamRole.CaseLead }).expect(201);
      expect((await decide(approver, asked.body.id, 'approve')).status).toBe(200);
      expect((await readReleased(c.teamOfficer, c.concernId)).body.source).toEqual({ name: 'Alex Whistleblower', role: 'Officer', organisation: null, contact: 'alex@example.org' });
    });

    it('a named-only concern the officer is not named on reads as missing, even with a release asked for', async () => {
      const c = await concernWithSource({ handling: 'named_only', namedUserIds: [colleague.id] });
      const hidden = await readReleased(otherOfficer, c.concernId);
      const missing = await readReleased(otherOfficer, randomUUID());
      expectApiError(hidden, 404, 'NOT_FOUND');
      expect(withoutRequestId(hidden.body)).toEqual(withoutRequestId(missing.body));
      // And nobody may release it to someone who cannot read it.
      const refused = await askRelease(m1, c.concernId, otherOfficer);
      expectApiError(refused, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(refused)).toEqual(['releasedToUserId']);
      expect((await askRelease(m1, c.concernId, colleague)).status).toBe(201);
    });
  });

  describe('release to a named colleague: asked by one manager, approved by a second', () => {
    it('the colleague is refused before approval and reads it after a second manager approves; approvers are told without the identity', async () => {
      const c = await concernWithSource();
      const asked = await askRelease(m1, c.concernId, colleague);
      expect(asked.status).toBe(201);
      expect(asked.body).toMatchObject({
        concernId: c.concernId, caseId: c.caseId, caseReference: c.reference, requestedBy: m1.id, releasedTo: colleague.id, releasedToName: 'Colleague officer',
        reason: RELEASE_REASON, state: 'requested', approvedBy: null, expiresAt: null,
      });
      expect(JSON.stringify(asked.body)).not.toMatch(SECRETS);
      expect(await auditOfRequest(asked)).toContainEqual(
        expect.objectContaining({ action: 'source_identity_request', outcome: 'allowed', resource_type: 'source_identity_release', justification: RELEASE_REASON }),
      );

      // Before approval: refused.
      expectApiError(await readReleased(colleague, c.concernId), 403, 'FORBIDDEN');

      // The other managers are told (not the one who asked, not the colleague); no identity, no reason in the text.
      const inboxItem = async (who: Person) => (await get('/inbox', who)).body.items.find((i: { kind: string; body: string }) => i.kind === 'source_identity_release' && i.body.includes(asked.body.id));
      for (const who of [m2, m3]) {
        const item = await inboxItem(who);
        expect(item).toMatchObject({ title: `Source identity release to decide: ${c.reference}` });
        expect(JSON.stringify(item)).not.toMatch(SECRETS);
        expect(JSON.stringify(item)).not.toContain(RELEASE_REASON);
      }
      expect(await inboxItem(m1)).toBeUndefined();
      expect(await inboxItem(colleague)).toBeUndefined();

      // The manager who asked may not approve it.
      const selfApproved = await decide(m1, asked.body.id, 'approve');
      expectApiError(selfApproved, 403, 'FORBIDDEN');
      expect(await auditOfRequest(selfApproved)).toEqual([expect.objectContaining({ action: 'source_identity_approve', outcome: 'denied', rule: 'source_release_requester_may_not_decide' })]);
      // An officer may not approve anything (route permission).
      expectApiError(await decide(colleague, asked.body.id, 'approve'), 403, 'FORBIDDEN');
      expectApiError(await readReleased(colleague, c.concernId), 403, 'FORBIDDEN');

      // A second manager approves.
      const approved = await decide(m2, asked.body.id, 'approve', { note: 'Interview agreed' });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ state: 'approved', approvedBy: m2.id, decisionNote: 'Interview agreed', decidedAt: expect.any(String), expiresAt: expect.any(String) });
      expect((new Date(approved.body.expiresAt).getTime() - new Date(approved.body.decidedAt).getTime()) / 3_600_000).toBe(168);
      expect(await auditOfRequest(approved)).toContainEqual(
        expect.objectContaining({ action: 'source_identity_approve', outcome: 'allowed', rule: 'source_release_second_manager', justification: 'Interview agreed' }),
      );
      const told = (await get('/inbox', colleague)).body.items.find((i: { kind: string; title: string }) => i.kind === 'source_identity_release' && i.title.includes(c.reference));
      expect(told).toBeDefined();
      expect(JSON.stringify(told)).not.toMatch(SECRETS);

      const read = await readReleased(colleague, c.concernId);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ concernId: c.concernId, caseId: c.caseId, source: SOURCE, basis: 'released', releaseId: asked.body.id, releaseExpiresAt: approved.body.expiresAt });
      expect(await auditOfRequest(read)).toEqual([
        expect.objectContaining({ action: 'read', outcome: 'allowed', resource_type: 'concern_source', rule: 'source_released_to_you', justification: `release ${asked.body.id}` }),
      ]);
      // Only to that colleague: another officer is still refused; ordinary reads still carry no identity.
      expectApiError(await readReleased(otherOfficer, c.concernId), 403, 'FORBIDDEN');
      expect((await get(`/concerns/${c.concernId}`, colleague)).body).not.toHaveProperty('source');
      // Decided once.
      expectApiError(await decide(m3, asked.body.id, 'approve'), 409, 'CONFLICT');
      expectApiError(await decide(m3, asked.body.id, 'refuse'), 409, 'CONFLICT');
    });

    it('nobody approves a release to themselves', async () => {
      const c = await concernWithSource();
      const asked = await askRelease(m1, c.concernId, m2);
      expect(asked.status).toBe(201);
      const res = await decide(m2, asked.body.id, 'approve');
      expectApiError(res, 403, 'FORBIDDEN');
      expect(await auditOfRequest(res)).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'source_release_recipient_may_not_decide' })]);
      expectApiError(await readReleased(m2, c.concernId), 403, 'FORBIDDEN');
      // The database holds the same line.
      await expect(asUser(m1.id, (m) => m.query(`UPDATE source_identity_releases SET state = 'approved', approved_by = released_to, decided_at = now(), expires_at = now() + interval '1 hour' WHERE id = $1`, [asked.body.id])))
        .rejects.toThrow(/source_release_second_person/);
      // A third manager may.
      expect((await decide(m3, asked.body.id, 'approve')).status).toBe(200);
      expect((await readReleased(m2, c.concernId)).body.source).toEqual(SOURCE);
    });

    it('refused: the colleague stays refused, and a refusal needs a reason', async () => {
      const c = await concernWithSource();
      const asked = await askRelease(m1, c.concernId, colleague);
      const noReason = await decide(m2, asked.body.id, 'refuse', {});
      expectApiError(noReason, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(noReason)).toEqual(['reason']);
      const refused = await decide(m2, asked.body.id, 'refuse', { reason: 'The source asked not to be contacted' });
      expect(refused.status).toBe(200);
      expect(refused.body).toMatchObject({ state: 'refused', refusedBy: m2.id, approvedBy: null, decisionNote: 'The source asked not to be contacted', expiresAt: null });
      expect(await auditOfRequest(refused)).toContainEqual(expect.objectContaining({ action: 'source_identity_refuse', outcome: 'allowed', justification: 'The source asked not to be contacted' }));
      expectApiError(await readReleased(colleague, c.concernId), 403, 'FORBIDDEN');
      expectApiError(await decide(m3, asked.body.id, 'approve'), 409, 'CONFLICT');
      // A new request may be made after a refusal.
      expect((await askRelease(m1, c.concernId, colleague)).status).toBe(201);
    });

    it('revoked: the colleague is refused from then on; revoked once', async () => {
      const r = await approvedRelease();
      expect((await readReleased(colleague, r.concernId)).status).toBe(200);
      const revoked = await decide(m3, r.releaseId, 'revoke', { reason: 'Interview done' });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ state: 'revoked', revokedBy: m3.id, revokeReason: 'Interview done', revokedAt: expect.any(String) });
      expect(await auditOfRequest(revoked)).toContainEqual(expect.objectContaining({ action: 'source_identity_revoke', outcome: 'allowed', justification: 'Interview done' }));
      const after = await readReleased(colleague, r.concernId);
      expectApiError(after, 403, 'FORBIDDEN');
      expect(JSON.stringify(after.body)).not.toMatch(SECRETS);
      expectApiError(await decide(m1, r.releaseId, 'revoke'), 409, 'CONFLICT');
      // A pending request can be withdrawn by the manager who asked.
      const c = await concernWithSource();
      const asked = await askRelease(m1, c.concernId, colleague);
      expect((await decide(m1, asked.body.id, 'revoke', { reason: 'Asked by mistake' })).body.state).toBe('revoked');
      expectApiError(await decide(m2, asked.body.id, 'approve'), 409, 'CONFLICT');
    });

    it('expired: the colleague is refused once its time is up; the release reads as expired and a new one may be asked', async () => {
      const r = await approvedRelease();
      expect((await readReleased(colleague, r.concernId)).status).toBe(200);
      const owner = await ownerDataSource();
      try {
        await owner.query(`UPDATE source_identity_releases SET expires_at = now() - interval '1 second' WHERE id = $1`, [r.releaseId]);
      } finally {
        await owner.destroy();
      }
      expectApiError(await readReleased(colleague, r.concernId), 403, 'FORBIDDEN');
      const listed = await get(`/concerns/${r.concernId}/source-identity/releases`, m1);
      expect(listed.body.items).toEqual([expect.objectContaining({ id: r.releaseId, state: 'expired' })]);
      expectApiError(await decide(m3, r.releaseId, 'revoke'), 409, 'CONFLICT');
      const again = await askRelease(m1, r.concernId, colleague);
      expect(again.status).toBe(201);
      expect((await t.owner.query(`SELECT state FROM source_identity_releases WHERE id = $1`, [r.releaseId]))[0].state).toBe('expired');
    });

    it('only clearing-house officers and managers who may read the concern receive a release; one open release per colleague', async () => {
      const c = await concernWithSource();
      const peer = await signedIn(t, Role.LeadPoliticalPeer, { partyId: await partyIdOf(t.ds, 'Labour') });
      await http().post(`/cases/${c.caseId}/team`).set(m1.auth).send({ userId: peer.id, teamRole: TeamRole.LeadPoliticalPeer }).expect(201);
      const riep = await signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands });
      const admin = await signedIn(t, Role.Administrator);
      const disabled = await signedIn(t, Role.ClearingHouseOfficer);
      await t.ds.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [disabled.id]);
      for (const to of [peer.id, riep.id, auditor.id, admin.id, disabled.id, randomUUID()]) {
        const res = await askRelease(m1, c.concernId, to);
        expectApiError(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['releasedToUserId']);
      }
      expect(await t.owner.query(`SELECT 1 FROM source_identity_releases WHERE concern_id = $1`, [c.concernId])).toEqual([]);
      const first = await askRelease(m1, c.concernId, colleague);
      expect(first.status).toBe(201);
      const dup = await askRelease(m2, c.concernId, colleague);
      expectApiError(dup, 409, 'CONFLICT');
      expect(dup.body.details).toEqual({ releaseId: first.body.id });
      expectApiError(await askRelease(m1, c.concernId, colleague, 'short'), 400, 'VALIDATION_FAILED');
    });

    it('lists: managers see every release (e.g. those to decide), officers only those to them; never the identity', async () => {
      const r = await approvedRelease();
      const c = await concernWithSource();
      const pending = await askRelease(m1, c.concernId, otherOfficer);
      const managerList = await get('/source-identity/releases?state=requested&limit=200', m2);
      expect(managerList.status).toBe(200);
      expect(managerList.body.items.map((i: { id: string }) => i.id)).toContain(pending.body.id);
      expect(managerList.body.items.every((i: { state: string }) => i.state === 'requested')).toBe(true);
      const mine = await get('/source-identity/releases?limit=200', colleague);
      expect(mine.body.items.length).toBeGreaterThan(0);
      expect(mine.body.items.every((i: { releasedTo: string }) => i.releasedTo === colleague.id)).toBe(true);
      expect(mine.body.items.map((i: { id: string }) => i.id)).toContain(r.releaseId);
      expect(mine.body.items.map((i: { id: string }) => i.id)).not.toContain(pending.body.id);
      const forConcern = await get(`/concerns/${c.concernId}/source-identity/releases`, m3);
      expect(forConcern.body).toMatchObject({ total: 1, items: [expect.objectContaining({ id: pending.body.id })] });
      for (const res of [managerList, mine, forConcern]) {
        expect(JSON.stringify(res.body)).not.toMatch(SECRETS);
        expect(await auditOfRequest(res)).toContainEqual(expect.objectContaining({ action: 'list', resource_type: 'source_identity_release', outcome: 'allowed' }));
      }
      expectApiError(await get('/source-identity/releases?state=nonsense', m1), 400, 'VALIDATION_FAILED');
    });

    it('the release rules hold in the database too: no deleting, no re-purposing, no extending, no going back', async () => {
      const r = await approvedRelease();
      await expect(t.ds.query(`DELETE FROM source_identity_releases WHERE id = $1`, [r.releaseId])).rejects.toThrow(/permission denied/);
      await expect(t.ds.query(`UPDATE source_identity_releases SET reason = 'a different reason of enough length' WHERE id = $1`, [r.releaseId])).rejects.toThrow(/permission denied/);
      // As a manager who may change the case: row-level security would let the update through, the guards do not.
      await expect(asUser(m1.id, (m) => m.query(`UPDATE source_identity_releases SET expires_at = expires_at + interval '1 day' WHERE id = $1`, [r.releaseId]))).rejects.toThrow(/cannot be extended/);
      await expect(asUser(m1.id, (m) => m.query(`UPDATE source_identity_releases SET state = 'requested', approved_by = NULL, decided_at = NULL, expires_at = NULL WHERE id = $1`, [r.releaseId]))).rejects.toThrow(/cannot move|decided once/);
      await expect(asUser(m1.id, (m) => m.query(`UPDATE source_identity_releases SET state = 'expired' WHERE id = $1`, [r.releaseId]))).rejects.toThrow(/expires only once/);
      const owner = await ownerDataSource();
      try {
        await expect(owner.query(`DELETE FROM source_identity_releases WHERE id = $1`, [r.releaseId])).rejects.toThrow(/immutable/);
        await expect(owner.query(`UPDATE source_identity_releases SET released_to = $2 WHERE id = $1`, [r.releaseId, otherOfficer.id])).rejects.toThrow(/re-purposed/);
      } finally {
        await owner.destroy();
      }
    });
  });

  describe('break-glass never shows the identity', () => {
    it('a manager under break-glass is refused reveal, release and read (403, audited); lists leave the case out', async () => {
      const c = await restrictedCase(t, used, logger);
      const glass = await signedIn(t, Role.ClearingHouseManager, { name: 'Break-glass manager' });
      const granted = await post(`/cases/${c.id}/break-glass`, glass, { reason: 'Covering for the case lead this week: council meeting tonight', code: nextTotp(glass.email) });
      expect(granted.status).toBe(201);
      expect((await get(`/concerns/${c.concernId}`, glass)).status).toBe(200);
      for (const res of [await reveal(glass, c.concernId), await readReleased(glass, c.concernId), await askRelease(glass, c.concernId, c.teamOfficer)]) {
        expectApiError(res, 403, 'FORBIDDEN');
        expect(JSON.stringify(res.body)).not.toMatch(/Alex Whistleblower|alex@example\.org/);
        expect(await auditOfRequest(res)).toEqual([expect.objectContaining({ outcome: 'denied', rule: 'source_not_under_break_glass' })]);
      }
      // A release on that case, to its team officer, approved by its manager: still not the break-glass manager's to see or decide.
      const asked = await askRelease(c.setter, c.concernId, c.teamOfficer);
      expect(asked.status).toBe(201);
      expectApiError(await decide(glass, asked.body.id, 'approve'), 403, 'FORBIDDEN');
      expect((await get(`/source-identity/releases?concernId=${c.concernId}`, glass)).body).toMatchObject({ total: 0, items: [] });
      expect(await t.ds.query(`SELECT 1 FROM audit_events WHERE actor_id = $1 AND resource_type = 'concern_source' AND outcome = 'allowed'`, [glass.id])).toEqual([]);
    });
  });

  describe("the auditors' view", () => {
    it('lists releases and reveals with reasons and decisions, never the identity; auditors only', async () => {
      const r = await approvedRelease();
      const c = await concernWithSource();
      expect((await reveal(m3, c.concernId, { reason: `${REASON} (audited)` })).status).toBe(200);

      const releases = await get(`/audit/source-identity/releases?concernId=${r.concernId}`, auditor);
      expect(releases.status).toBe(200);
      expect(releases.body).toMatchObject({ total: 1, items: [expect.objectContaining({ id: r.releaseId, requestedBy: m1.id, releasedTo: colleague.id, approvedBy: m2.id, state: 'approved', reason: RELEASE_REASON })] });
      const reveals = await get('/audit/source-identity/reveals?limit=200', auditor);
      expect(reveals.status).toBe(200);
      expect(reveals.body.items).toContainEqual(expect.objectContaining({ actorId: m3.id, concernId: c.concernId, caseId: c.caseId, caseReference: c.reference, outcome: 'allowed', reason: `${REASON} (audited)` }));
      for (const res of [releases, reveals]) expect(JSON.stringify(res.body)).not.toMatch(SECRETS);
      expect(await auditOf(t, { actorId: auditor.id })).toEqual(expect.arrayContaining([
        expect.objectContaining({ action: 'search', resource_type: 'source_identity_release' }),
        expect.objectContaining({ action: 'search', resource_type: 'concern_source' }),
      ]));
      // Filter by state.
      const approved = await get('/audit/source-identity/releases?state=approved&limit=200', auditor);
      expect(approved.body.items.every((i: { state: string }) => i.state === 'approved')).toBe(true);

      for (const who of [m1, colleague]) {
        expectApiError(await get('/audit/source-identity/releases', who), 403, 'FORBIDDEN');
        expectApiError(await get('/audit/source-identity/reveals', who), 403, 'FORBIDDEN');
      }
      // And the auditor reads no identity.
      expectApiError(await readReleased(auditor, r.concernId), 403, 'FORBIDDEN');
    });
  });
});

describe('source identity with SOURCE_IDENTITY_RELEASE_HOURS set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SOURCE_IDENTITY_RELEASE_HOURS: 2 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('an approved release lasts the configured time', async () => {
    const [officer, m1, m2] = await Promise.all([signedIn(t, Role.ClearingHouseOfficer), signedIn(t, Role.ClearingHouseManager), signedIn(t, Role.ClearingHouseManager)]);
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'E08000025', receivedOn: '2026-11-01', channel: 'self_referral', area: 'finance', description: 'Budget gap', source: { name: 'A Person' },
    });
    expect(logged.status).toBe(201);
    const asked = await request(t.http).post(`/concerns/${logged.body.concern.id}/source-identity/releases`).set(m1.auth).send({ releasedToUserId: officer.id, reason: RELEASE_REASON });
    expect(asked.status).toBe(201);
    const approved = await request(t.http).post(`/source-identity/releases/${asked.body.id}/approve`).set(m2.auth).send({});
    expect(approved.status).toBe(200);
    const [row] = await t.owner.query(`SELECT extract(epoch FROM expires_at - decided_at)::int AS seconds FROM source_identity_releases WHERE id = $1`, [asked.body.id]);
    expect(row.seconds).toBe(7200);
  });
});
