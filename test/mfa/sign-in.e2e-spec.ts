import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { totpCodeAt, totpStepAt } from '../../src/auth/mfa/totp';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, createUser, enrolMfa, mfaOf, nextTotp, ownerDataSource, signIn, TEST_PASSWORD, TestApp, TestMfa } from '../support/app';
import { auditOf, bearer, passwordSignIn, wrongTotp } from './mfa-helpers';

describe('sign-in with a second factor', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A user of the role with a confirmed factor (enrolled through the API by the helpers). */
  async function enrolled(role = Role.ClearingHouseOfficer): Promise<{ id: string; email: string; mfa: TestMfa }> {
    const user = await createUser(t.ds, role);
    const first = await passwordSignIn(t, user.email, TEST_PASSWORD);
    const mfa = await enrolMfa(t.http, user.email, first.body.accessToken);
    return { id: user.id, email: user.email, mfa };
  }

  const challenge = async (email: string): Promise<string> => {
    const res = await passwordSignIn(t, email, TEST_PASSWORD);
    expect(res.status).toBe(200);
    return res.body.challengeToken;
  };
  const verify = (challengeToken: string, code: string) => request(t.http).post('/auth/mfa/verify').send({ challengeToken, code });

  it('answers a correct password with a short-lived challenge instead of tokens; a current code completes the sign-in', async () => {
    const user = await enrolled(Role.ClearingHouseManager);
    const res = await passwordSignIn(t, user.email, TEST_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ mfaRequired: true, challengeToken: expect.stringMatching(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/), challengeExpiresAt: expect.any(String) });
    const ttl = new Date(res.body.challengeExpiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(300_000);

    const done = await verify(res.body.challengeToken, nextTotp(user.email)!);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      accessToken: expect.any(String), refreshToken: expect.any(String), mfaEnrolmentRequired: false, method: 'totp', recoveryCodesRemaining: 10,
      user: { userId: user.id, role: Role.ClearingHouseManager },
    });
    const auth = bearer(done.body.accessToken);
    expect((await request(t.http).get('/cases').set(auth)).status).toBe(200);
    expect((await request(t.http).get('/auth/mfa').set(auth)).body).toMatchObject({ enrolled: true, sessionVerified: true });
    // A refreshed session keeps its proof.
    const refreshed = await request(t.http).post('/auth/refresh').send({ refreshToken: done.body.refreshToken });
    expect(refreshed.body.mfaEnrolmentRequired).toBe(false);
    expect((await request(t.http).get('/cases').set(bearer(refreshed.body.accessToken))).status).toBe(200);

    const trail = await auditOf(t, { actorId: user.id });
    expect(trail).toContainEqual(expect.objectContaining({ action: 'mfa_challenge', outcome: 'allowed', rule: 'password_accepted' }));
    expect(trail).toContainEqual(expect.objectContaining({ action: 'sign_in', outcome: 'allowed', rule: 'mfa_totp' }));
  });

  it('refuses a wrong code (401), audits it, and keeps the challenge for another try', async () => {
    const user = await enrolled();
    const token = await challenge(user.email);
    expectApiError(await verify(token, wrongTotp(user.mfa.secret)), 401, 'INVALID_CREDENTIALS');
    expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'mfa_code_refused', outcome: 'denied', rule: 'sign_in:wrong_code' }));
    expect((await verify(token, nextTotp(user.email)!)).status).toBe(200);
  });

  it('refuses a code that was already used, and a code of an earlier step, as replays', async () => {
    const user = await enrolled();
    // Enrolment used the current step; the next one is still fresh.
    const step = totpStepAt(Date.now());
    const fresh = totpCodeAt(user.mfa.secret, user.mfa.lastStep + 1);
    expect((await verify(await challenge(user.email), fresh)).status).toBe(200);

    const again = await verify(await challenge(user.email), fresh);
    expectApiError(again, 401, 'INVALID_CREDENTIALS');
    const earlier = totpCodeAt(user.mfa.secret, step);
    if (earlier !== fresh) expectApiError(await verify(await challenge(user.email), earlier), 401, 'INVALID_CREDENTIALS');
    const refusals = (await auditOf(t, { actorId: user.id })).filter((a) => a.action === 'mfa_code_refused').map((a) => a.rule);
    expect(refusals).toContain('sign_in:replayed_code');
    expect(refusals).not.toContain('sign_in:wrong_code');
  });

  it('a challenge is single-use, expires, and cannot be forged', async () => {
    const user = await enrolled();
    const token = await challenge(user.email);
    expect((await verify(token, nextTotp(user.email)!)).status).toBe(200);
    expectApiError(await verify(token, user.mfa.recoveryCodes[0]), 401, 'UNAUTHENTICATED');

    const expiring = await challenge(user.email);
    const owner = await ownerDataSource();
    try {
      await owner.query(`UPDATE mfa_challenges SET expires_at = now() - interval '1 second', created_at = now() - interval '10 minutes' WHERE id = $1`, [expiring.split('.')[0]]);
    } finally {
      await owner.destroy();
    }
    expectApiError(await verify(expiring, user.mfa.recoveryCodes[0]), 401, 'UNAUTHENTICATED');

    const genuine = await challenge(user.email);
    const forged = `${genuine.split('.')[0]}.${'A'.repeat(43)}`;
    expectApiError(await verify(forged, user.mfa.recoveryCodes[0]), 401, 'UNAUTHENTICATED');
    expectApiError(await verify('not-a-token', user.mfa.recoveryCodes[0]), 401, 'UNAUTHENTICATED');
    expect((await auditOf(t, { actorId: user.id })).filter((a) => a.rule === 'sign_in:challenge_invalid')).toHaveLength(2);
    // None of those spent a recovery code.
    expect((await verify(genuine, user.mfa.recoveryCodes[0])).body.recoveryCodesRemaining).toBe(9);
  });

  it('counts wrong codes towards the sign-in lock-out, and a correct password does not clear the count', async () => {
    const user = await enrolled();
    const max = 5; // SIGN_IN_MAX_FAILURES default
    const token = await challenge(user.email);
    for (let i = 0; i < 3; i++) expectApiError(await verify(token, wrongTotp(user.mfa.secret)), 401, 'INVALID_CREDENTIALS');
    // The password again: still 3 failures.
    const second = await challenge(user.email);
    expect(await t.ds.query(`SELECT failures FROM sign_in_locks WHERE email_key = $1`, [user.email])).toEqual([{ failures: 3 }]);
    for (let i = 3; i < max; i++) expectApiError(await verify(second, wrongTotp(user.mfa.secret)), 401, 'INVALID_CREDENTIALS');
    // Locked: the right code no longer helps, nor does the password.
    expectApiError(await verify(second, nextTotp(user.email)!), 429, 'SIGN_IN_LOCKED');
    expectApiError(await passwordSignIn(t, user.email, TEST_PASSWORD), 429, 'SIGN_IN_LOCKED');
    expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'mfa_code_refused', rule: 'sign_in:locked' }));
  });

  it('a recovery code works instead of a code, once, however it is typed', async () => {
    const user = await enrolled();
    const [code] = user.mfa.recoveryCodes;
    const used = await verify(await challenge(user.email), `  ${code.toUpperCase().replace(/-/g, ' ')} `);
    expect(used.status).toBe(200);
    expect(used.body).toMatchObject({ method: 'recovery_code', recoveryCodesRemaining: 9 });
    expect((await request(t.http).get('/auth/me').set(bearer(used.body.accessToken))).status).toBe(200);
    expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'sign_in', rule: 'mfa_recovery_code' }));

    expectApiError(await verify(await challenge(user.email), code), 401, 'INVALID_CREDENTIALS');
    expectApiError(await verify(await challenge(user.email), 'aaaa-bbbb-cccc-dddd'), 401, 'INVALID_CREDENTIALS');
    expect((await auditOf(t, { actorId: user.id })).filter((a) => a.rule === 'sign_in:wrong_recovery_code')).toHaveLength(2);
    // Another one still works.
    expect((await verify(await challenge(user.email), user.mfa.recoveryCodes[1])).body.recoveryCodesRemaining).toBe(8);
  });

  it('regenerating recovery codes needs a current code, retires the old ones and ends the other sessions', async () => {
    const user = await enrolled();
    const other = bearer((await verify(await challenge(user.email), user.mfa.recoveryCodes[0])).body.accessToken);
    const current = bearer((await verify(await challenge(user.email), user.mfa.recoveryCodes[1])).body.accessToken);

    const wrong = await request(t.http).post('/auth/mfa/recovery-codes').set(current).send({ code: wrongTotp(user.mfa.secret) });
    expectApiError(wrong, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(wrong)).toEqual(['code']);
    expect((await request(t.http).get('/auth/me').set(other)).status).toBe(200);

    const regenerated = await request(t.http).post('/auth/mfa/recovery-codes').set(current).send({ code: nextTotp(user.email) });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.recoveryCodes).toHaveLength(10);
    expectApiError(await request(t.http).get('/auth/me').set(other), 401, 'UNAUTHENTICATED');
    expect((await request(t.http).get('/auth/me').set(current)).status).toBe(200);
    expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'mfa_recovery_codes_regenerate', outcome: 'allowed' }));

    expectApiError(await verify(await challenge(user.email), user.mfa.recoveryCodes[2]), 401, 'INVALID_CREDENTIALS');
    expect((await verify(await challenge(user.email), regenerated.body.recoveryCodes[0])).status).toBe(200);
  });

  it('regenerating without an active factor is refused', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const auth = bearer((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
    expectApiError(await request(t.http).post('/auth/mfa/recovery-codes').set(auth).send({ code: '123456' }), 422, 'PRECONDITION_FAILED');
  });

  it('the test helpers sign a user with a factor in again and again, without replaying a code', async () => {
    const user = await enrolled(Role.Auditor);
    expect(mfaOf(user.email)).toBeDefined();
    for (let i = 0; i < 3; i++) {
      const { accessToken } = await signIn(t.http, user.email);
      expect((await request(t.http).get('/audit/checkpoints').set(bearer(accessToken))).status).toBe(200);
    }
  });
});

describe('a sign-in challenge takes only a few wrong codes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SIGN_IN_MAX_FAILURES: 50 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is spent after five wrong codes, even before the address is locked', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const mfa = await enrolMfa(t.http, user.email, (await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
    const token = (await passwordSignIn(t, user.email, TEST_PASSWORD)).body.challengeToken;
    for (let i = 0; i < 5; i++) {
      expectApiError(await request(t.http).post('/auth/mfa/verify').send({ challengeToken: token, code: wrongTotp(mfa.secret) }), 401, 'INVALID_CREDENTIALS');
    }
    expectApiError(await request(t.http).post('/auth/mfa/verify').send({ challengeToken: token, code: nextTotp(user.email) }), 401, 'UNAUTHENTICATED');
  });
});
