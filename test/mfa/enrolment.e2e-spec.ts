import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { SecretBox } from '../../src/auth/mfa/secret-box';
import { totpCodeAt, totpStepAt } from '../../src/auth/mfa/totp';
import { validateEnvironment } from '../../src/config/environment';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, createUser, TEST_PASSWORD, TestApp, totpNow } from '../support/app';
import { auditOf, bearer, passwordSignIn, wrongTotp } from './mfa-helpers';

describe('MFA enrolment', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A user whose role does not require MFA, signed in with the password (full access). */
  async function officerSession() {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const res = await passwordSignIn(t, user.email, TEST_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mfaRequired: false, mfaEnrolmentRequired: false, accessToken: expect.any(String) });
    return { user, auth: bearer(res.body.accessToken), sessionToken: res.body.accessToken as string };
  }

  it('an officer needs no second factor, but may enrol one: the secret and otpauth URI are returned once', async () => {
    const { user, auth } = await officerSession();
    const before = await request(t.http).get('/auth/mfa').set(auth);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ enrolled: false, enrolmentPending: false, confirmedAt: null, requiredForRole: false, sessionVerified: false, recoveryCodesRemaining: 0 });

    const enrol = await request(t.http).post('/auth/mfa/enrol').set(auth);
    expect(enrol.status).toBe(200);
    expect(enrol.body).toEqual({
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
      otpauthUri: expect.stringMatching(/^otpauth:\/\/totp\/Clearing%20house:/),
      issuer: 'Clearing house',
      account: user.email,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    expect(enrol.body.otpauthUri).toContain(`secret=${enrol.body.secret}`);
    // Pending: not yet active, and nowhere to read the secret back.
    const pending = await request(t.http).get('/auth/mfa').set(auth);
    expect(pending.body).toMatchObject({ enrolled: false, enrolmentPending: true });
    expect(JSON.stringify(pending.body)).not.toContain(enrol.body.secret);
    // A pending enrolment changes nothing at sign-in.
    expect((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.mfaRequired).toBe(false);
    expect((await auditOf(t, { actorId: user.id })).map((a) => a.action)).toContain('mfa_enrol');
  });

  it('stores the secret encrypted (AES-256-GCM) under the configured key, bound to the user', async () => {
    const { user, auth } = await officerSession();
    const other = await createUser(t.ds, Role.ClearingHouseOfficer);
    const { secret } = (await request(t.http).post('/auth/mfa/enrol').set(auth)).body;
    const [row] = await t.ds.query(`SELECT secret_ciphertext FROM mfa_factors WHERE user_id = $1`, [user.id]);
    expect(row.secret_ciphertext).toMatch(/^v1\./);
    expect(row.secret_ciphertext).not.toContain(secret);
    const box = SecretBox.fromBase64(validateEnvironment({ ...process.env }).MFA_ENCRYPTION_KEY!);
    expect(box.open(row.secret_ciphertext, user.id)).toBe(secret);
    expect(() => box.open(row.secret_ciphertext, other.id)).toThrow();
  });

  it('confirming with a wrong code is refused, audited and counted towards the lock-out; the right code activates the factor', async () => {
    const { user, auth } = await officerSession();
    const { secret } = (await request(t.http).post('/auth/mfa/enrol').set(auth)).body;

    const wrong = await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: wrongTotp(secret) });
    expectApiError(wrong, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(wrong)).toEqual(['code']);
    expect(await t.ds.query(`SELECT failures FROM sign_in_locks WHERE email_key = $1`, [user.email])).toEqual([{ failures: 1 }]);
    expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'mfa_code_refused', outcome: 'denied', rule: 'confirm:wrong_code' }));
    expectApiError(await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: '12345' }), 400, 'VALIDATION_FAILED');

    const ok = await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: totpNow(secret) });
    expect(ok.status).toBe(200);
    expect(ok.body.recoveryCodes).toHaveLength(10);
    for (const code of ok.body.recoveryCodes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(new Set(ok.body.recoveryCodes).size).toBe(10);
    // Stored only as hashes.
    const stored: Array<{ code_hash: string }> = await t.ds.query(`SELECT code_hash FROM mfa_recovery_codes WHERE user_id = $1`, [user.id]);
    expect(stored).toHaveLength(10);
    for (const { code_hash } of stored) expect(ok.body.recoveryCodes.map((c: string) => c.replace(/-/g, ''))).not.toContain(code_hash);
    // A complete proof clears the failure count.
    expect(await t.ds.query(`SELECT failures FROM sign_in_locks WHERE email_key = $1`, [user.email])).toEqual([]);

    const status = await request(t.http).get('/auth/mfa').set(auth);
    expect(status.body).toMatchObject({ enrolled: true, enrolmentPending: false, confirmedAt: expect.any(String), sessionVerified: true, recoveryCodesRemaining: 10 });
    expect(await auditOf(t, { actorId: user.id })).toContainEqual(expect.objectContaining({ action: 'mfa_confirm', outcome: 'allowed', resource_id: user.id }));

    // Active now: no second enrolment over it, no second confirmation, and sign-in asks for a code.
    expectApiError(await request(t.http).post('/auth/mfa/enrol').set(auth), 409, 'CONFLICT');
    expectApiError(await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: totpNow(secret, 1) }), 409, 'CONFLICT');
    const signIn = await passwordSignIn(t, user.email, TEST_PASSWORD);
    expect(signIn.status).toBe(200);
    expect(signIn.body.mfaRequired).toBe(true);
  });

  it('refuses to confirm before enrolling', async () => {
    const { auth } = await officerSession();
    const res = await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: '123456' });
    expectApiError(res, 422, 'PRECONDITION_FAILED');
    expect(res.body.details).toEqual({ precondition: 'mfa_enrolment_started' });
  });

  it('enrolling again before confirming replaces the secret: only the new one confirms', async () => {
    const { auth } = await officerSession();
    const first = (await request(t.http).post('/auth/mfa/enrol').set(auth)).body.secret;
    const second = (await request(t.http).post('/auth/mfa/enrol').set(auth)).body.secret;
    expect(second).not.toBe(first);
    const step = totpStepAt(Date.now());
    if (totpCodeAt(first, step) !== totpCodeAt(second, step)) {
      expectApiError(await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: totpCodeAt(first, step) }), 400, 'VALIDATION_FAILED');
    }
    expect((await request(t.http).post('/auth/mfa/confirm').set(auth).send({ code: totpCodeAt(second, step) })).status).toBe(200);
  });

  it("confirming ends the user's other sessions and keeps this one", async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const other = bearer((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
    const current = bearer((await passwordSignIn(t, user.email, TEST_PASSWORD)).body.accessToken);
    expect((await request(t.http).get('/auth/me').set(other)).status).toBe(200);
    const { secret } = (await request(t.http).post('/auth/mfa/enrol').set(current)).body;
    expect((await request(t.http).post('/auth/mfa/confirm').set(current).send({ code: totpNow(secret) })).status).toBe(200);
    expectApiError(await request(t.http).get('/auth/me').set(other), 401, 'UNAUTHENTICATED');
    expect((await request(t.http).get('/auth/me').set(current)).status).toBe(200);
    const [ended] = await t.ds.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND end_reason = 'mfa_changed'`, [user.id]);
    expect(ended.n).toBe(1);
  });

  it('enrolment routes need a session', async () => {
    for (const path of ['/auth/mfa/enrol', '/auth/mfa/confirm', '/auth/mfa/recovery-codes']) {
      expectApiError(await request(t.http).post(path).send({ code: '123456' }), 401, 'UNAUTHENTICATED');
    }
    expectApiError(await request(t.http).get('/auth/mfa'), 401, 'UNAUTHENTICATED');
  });
});
