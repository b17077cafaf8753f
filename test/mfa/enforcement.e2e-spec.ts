import request from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { expectApiError } from '../support/api-error';
import { createTestApp, createUser, enrolMfa, nextTotp, partyIdOf, signedIn, TEST_PASSWORD, TestApp, totpNow } from '../support/app';
import { auditOf, bearer, passwordSignIn } from './mfa-helpers';

/** A route each role normally uses, to show what a session confined to enrolment may not do. */
const ROUTE_OF: Record<Role, string> = {
  [Role.ClearingHouseOfficer]: '/cases',
  [Role.ClearingHouseManager]: '/cases',
  [Role.RiepFacilitator]: '/cases',
  [Role.LeadPoliticalPeer]: '/cases',
  [Role.Auditor]: '/audit/checkpoints',
  [Role.Administrator]: '/users',
  [Role.BoardMember]: '/statistics/stage-durations',
  [Role.GovernmentLiaison]: '/stage-access/packs',
};

const REQUIRED = [Role.ClearingHouseManager, Role.Administrator, Role.Auditor, Role.GovernmentLiaison];
// Board members see aggregate, suppressed figures only, and change nobody's access: a second factor is optional for them.
const NOT_REQUIRED = [Role.ClearingHouseOfficer, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.BoardMember];

describe('MFA required for managers, administrators and auditors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  describe.each(REQUIRED)('a %s without a second factor', (role) => {
    it('may sign in, but the session may only enrol until the factor is confirmed; the same session then has full access', async () => {
      const user = await createUser(t.ds, role);
      const res = await passwordSignIn(t, user.email, TEST_PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ mfaRequired: false, mfaEnrolmentRequired: true, accessToken: expect.any(String), user: { userId: user.id, role } });
      const auth = bearer(res.body.accessToken);

      for (const path of [ROUTE_OF[role], '/inbox', '/parties', '/authorities']) {
        expectApiError(await request(t.http).get(path).set(auth), 403, 'MFA_ENROLMENT_REQUIRED');
      }
      expectApiError(await request(t.http).post('/auth/password').set(auth).send({ currentPassword: TEST_PASSWORD, newPassword: 'another long passphrase 77' }), 403, 'MFA_ENROLMENT_REQUIRED');
      expectApiError(await request(t.http).post('/auth/mfa/recovery-codes').set(auth).send({ code: '123456' }), 403, 'MFA_ENROLMENT_REQUIRED');
      // Who am I, my factor, and enrolment itself are allowed.
      expect((await request(t.http).get('/auth/me').set(auth)).status).toBe(200);
      expect((await request(t.http).get('/auth/mfa').set(auth)).body).toMatchObject({ enrolled: false, requiredForRole: true, sessionVerified: false });
      // A refreshed session is still confined.
      const refreshed = await request(t.http).post('/auth/refresh').send({ refreshToken: res.body.refreshToken });
      expect(refreshed.body.mfaEnrolmentRequired).toBe(true);
      const refreshedAuth = bearer(refreshed.body.accessToken);
      expectApiError(await request(t.http).get(ROUTE_OF[role]).set(refreshedAuth), 403, 'MFA_ENROLMENT_REQUIRED');

      const refusals = (await auditOf(t, { actorId: user.id })).filter((a) => a.action === 'mfa_enrolment_required');
      expect(refusals.length).toBeGreaterThanOrEqual(7);
      expect(refusals[0]).toMatchObject({ outcome: 'denied', rule: `GET ${ROUTE_OF[role]}`, resource_type: 'session' });
      expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'sign_in', outcome: 'allowed', rule: 'mfa_enrolment_required' }));

      const otherSession = bearer((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
      const { secret } = (await request(t.http).post('/auth/mfa/enrol').set(refreshedAuth)).body;
      expect((await request(t.http).post('/auth/mfa/confirm').set(refreshedAuth).send({ code: totpNow(secret) })).status).toBe(200);
      expect((await request(t.http).get(ROUTE_OF[role]).set(refreshedAuth)).status).toBe(200);
      expect((await request(t.http).get('/inbox').set(refreshedAuth)).status).toBe(200);
      // The user's other sessions ended with the enrolment.
      expectApiError(await request(t.http).get('/auth/me').set(otherSession), 401, 'UNAUTHENTICATED');
      // From now on the sign-in asks for a code.
      expect((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.mfaRequired).toBe(true);
    });

    it('may sign out of the confined session', async () => {
      const user = await createUser(t.ds, role);
      const auth = bearer((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
      expect((await request(t.http).post('/auth/sign-out').set(auth)).status).toBe(204);
      expectApiError(await request(t.http).get('/auth/me').set(auth), 401, 'UNAUTHENTICATED');
    });
  });

  it.each(NOT_REQUIRED)('a %s without a second factor gets a full session', async (role) => {
    const opts = role === Role.LeadPoliticalPeer ? { partyId: await partyIdOf(t.ds, 'Labour') } : role === Role.RiepFacilitator ? { region: Region.NorthEast } : {};
    const user = await createUser(t.ds, role, opts);
    const res = await passwordSignIn(t, user.email, TEST_PASSWORD);
    expect(res.body).toMatchObject({ mfaRequired: false, mfaEnrolmentRequired: false });
    expect((await request(t.http).get(ROUTE_OF[role]).set(bearer(res.body.accessToken))).status).toBe(200);
  });

  it('a user re-roled to manager gets a confined session at the next sign-in, until enrolled', async () => {
    const admin = await signedIn(t, Role.Administrator);
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const before = bearer((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
    expect((await request(t.http).get('/cases').set(before)).status).toBe(200);
    expect((await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.ClearingHouseManager, version: 1 })).status).toBe(200);
    expectApiError(await request(t.http).get('/cases').set(before), 401, 'UNAUTHENTICATED');
    const after = await passwordSignIn(t, user.email, TEST_PASSWORD);
    expect(after.body.mfaEnrolmentRequired).toBe(true);
    expectApiError(await request(t.http).get('/cases').set(bearer(after.body.accessToken)), 403, 'MFA_ENROLMENT_REQUIRED');
  });

  it('the test helpers give every role a full-access session (enrolling where required)', async () => {
    for (const role of [...REQUIRED, ...NOT_REQUIRED]) {
      const user = await signedIn(t, role, role === Role.LeadPoliticalPeer ? { partyId: await partyIdOf(t.ds, 'Labour') } : {});
      expect({ role, status: (await request(t.http).get(ROUTE_OF[role]).set(user.auth)).status }).toEqual({ role, status: 200 });
    }
  });
});

describe("an administrator's reset of a user's second factor", () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedIn>>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signedIn(t, Role.Administrator);
  });
  afterAll(async () => {
    await t.close();
  });

  it('removes the factor and recovery codes, ends every session of the user, and is audited; they enrol again at next sign-in', async () => {
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const second = await request(t.http).post('/auth/mfa/verify').send({
      challengeToken: (await passwordSignIn(t, manager.email, TEST_PASSWORD)).body.challengeToken, code: nextTotp(manager.email),
    });
    expect(second.status).toBe(200);

    const res = await request(t.http).post(`/users/${manager.id}/mfa/reset`).set(admin.auth);
    expect(res.status).toBe(204);
    for (const auth of [manager.auth, bearer(second.body.accessToken)]) expectApiError(await request(t.http).get('/auth/me').set(auth), 401, 'UNAUTHENTICATED');
    expect(await t.ds.query(`SELECT 1 FROM mfa_factors WHERE user_id = $1`, [manager.id])).toEqual([]);
    expect(await t.ds.query(`SELECT 1 FROM mfa_recovery_codes WHERE user_id = $1`, [manager.id])).toEqual([]);
    const [ended] = await t.ds.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND end_reason = 'mfa_reset'`, [manager.id]);
    expect(ended.n).toBe(2);
    expect(await auditOf(t, { actorId: admin.id, resourceId: manager.id })).toContainEqual(
      expect.objectContaining({ action: 'mfa_reset', outcome: 'allowed', resource_type: 'mfa_factor', rule: 'factor_removed' }),
    );

    const again = await passwordSignIn(t, manager.email, TEST_PASSWORD);
    expect(again.body).toMatchObject({ mfaRequired: false, mfaEnrolmentRequired: true });
    // The old secret is gone: a fresh enrolment works.
    const mfa = await enrolMfa(t.http, manager.email, again.body.accessToken);
    expect(mfa.secret).not.toBe(undefined);
    expect((await request(t.http).get('/cases').set(bearer(again.body.accessToken))).status).toBe(200);
  });

  it('also for a user without a factor (nothing to remove), and 404 for an unknown user', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    expect((await request(t.http).post(`/users/${officer.id}/mfa/reset`).set(admin.auth)).status).toBe(204);
    expectApiError(await request(t.http).get('/auth/me').set(officer.auth), 401, 'UNAUTHENTICATED');
    expect(await auditOf(t, { actorId: admin.id, resourceId: officer.id })).toContainEqual(expect.objectContaining({ action: 'mfa_reset', rule: 'no_factor' }));
    expectApiError(await request(t.http).post('/users/00000000-0000-4000-8000-000000000000/mfa/reset').set(admin.auth), 404, 'NOT_FOUND');
  });

  it.each([Role.ClearingHouseManager, Role.Auditor, Role.ClearingHouseOfficer])('a %s may not reset anyone', async (role) => {
    const caller = await signedIn(t, role);
    const target = await signedIn(t, Role.ClearingHouseManager);
    expectApiError(await request(t.http).post(`/users/${target.id}/mfa/reset`).set(caller.auth), 403, 'FORBIDDEN');
    expect((await request(t.http).get('/auth/me').set(target.auth)).status).toBe(200);
    expect(await t.ds.query(`SELECT 1 FROM mfa_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL`, [target.id])).toHaveLength(1);
  });
});
