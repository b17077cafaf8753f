import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { createTestApp, createUser, signIn, TEST_PASSWORD, TestApp } from '../support/app';

describe('sign-in, sessions and revocation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs in with the right password and returns a working access token', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const res = await request(t.http).post('/auth/sign-in').send({ email: user.email.toUpperCase(), password: TEST_PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ userId: user.id, role: Role.ClearingHouseOfficer });
    expect(res.body.refreshToken).toEqual(expect.any(String));
    const me = await request(t.http).get('/auth/me').set('Authorization', `Bearer ${res.body.accessToken}`);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(user.email);
  });

  it('gives the same answer for an unknown address and a wrong password', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const wrong = await request(t.http).post('/auth/sign-in').send({ email: user.email, password: 'not the password at all' });
    const unknown = await request(t.http).post('/auth/sign-in').send({ email: 'nobody-here@test.example', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toBe('INVALID_CREDENTIALS');
    expect({ ...wrong.body, requestId: undefined }).toEqual({ ...unknown.body, requestId: undefined });
  });

  it('refuses a disabled account with the same answer as a wrong password', async () => {
    const user = await createUser(t.ds, Role.Auditor);
    await t.ds.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [user.id]);
    const res = await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('INVALID_CREDENTIALS');
  });

  it('refuses requests without a token, with a forged token, and after sign-out', async () => {
    expect((await request(t.http).get('/auth/me')).status).toBe(401);
    const forged = await request(t.http).get('/auth/me').set('Authorization', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwic2lkIjoieSJ9.abc');
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('UNAUTHENTICATED');

    const user = await createUser(t.ds, Role.ClearingHouseManager);
    const { accessToken } = await signIn(t.http, user.email);
    const auth = { Authorization: `Bearer ${accessToken}` };
    expect((await request(t.http).get('/auth/me').set(auth)).status).toBe(200);
    expect((await request(t.http).post('/auth/sign-out').set(auth)).status).toBe(204);
    const after = await request(t.http).get('/auth/me').set(auth);
    expect(after.status).toBe(401);
  });

  it('rotates refresh tokens and ends the session when an old one is replayed', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const first = await signIn(t.http, user.email);
    const refreshed = await request(t.http).post('/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(first.refreshToken);
    expect((await request(t.http).get('/auth/me').set('Authorization', `Bearer ${refreshed.body.accessToken}`)).status).toBe(200);

    const replay = await request(t.http).post('/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(replay.status).toBe(401);
    // The replay ended the whole session: the newest access token is refused too.
    expect((await request(t.http).get('/auth/me').set('Authorization', `Bearer ${refreshed.body.accessToken}`)).status).toBe(401);
  });

  it('locks an address after repeated failures, for known and unknown addresses alike, and an administrator can lift it', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const max = 5; // SIGN_IN_MAX_FAILURES default
    for (let i = 0; i < max; i++) {
      const r = await request(t.http).post('/auth/sign-in').send({ email: user.email, password: `wrong password ${i}` });
      expect(r.status).toBe(401);
    }
    const locked = await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('SIGN_IN_LOCKED');

    const ghost = 'ghost-user@test.example';
    for (let i = 0; i < max; i++) await request(t.http).post('/auth/sign-in').send({ email: ghost, password: `wrong password ${i}` });
    const ghostLocked = await request(t.http).post('/auth/sign-in').send({ email: ghost, password: TEST_PASSWORD });
    expect(ghostLocked.status).toBe(429);
    expect(ghostLocked.body.error).toBe('SIGN_IN_LOCKED');

    const admin = await createUser(t.ds, Role.Administrator);
    const { accessToken } = await signIn(t.http, admin.email);
    expect((await request(t.http).post(`/users/${user.id}/unlock`).set('Authorization', `Bearer ${accessToken}`)).status).toBe(204);
    expect((await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD })).status).toBe(200);
  });

  it('changing your password ends your other sessions but keeps this one', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const other = await signIn(t.http, user.email);
    const current = await signIn(t.http, user.email);
    const res = await request(t.http)
      .post('/auth/password')
      .set('Authorization', `Bearer ${current.accessToken}`)
      .send({ currentPassword: TEST_PASSWORD, newPassword: 'a brand new long passphrase 7' });
    expect(res.status).toBe(204);
    expect((await request(t.http).get('/auth/me').set('Authorization', `Bearer ${current.accessToken}`)).status).toBe(200);
    expect((await request(t.http).get('/auth/me').set('Authorization', `Bearer ${other.accessToken}`)).status).toBe(401);
    expect((await request(t.http).post('/auth/sign-in').send({ email: user.email, password: 'a brand new long passphrase 7' })).status).toBe(200);
  });

  it('refuses a new password that breaks the policy, naming the field', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const { accessToken } = await signIn(t.http, user.email);
    const res = await request(t.http).post('/auth/password').set('Authorization', `Bearer ${accessToken}`).send({ currentPassword: TEST_PASSWORD, newPassword: 'short' });
    expect(res.status).toBe(400);
    expect(res.body.fieldErrors).toEqual([expect.objectContaining({ field: 'newPassword' })]);
  });
});

describe('sign-in throttling per client address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SIGN_IN_RATE_LIMIT_PER_MINUTE: 3 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 once a client exceeds the sign-in rate, whatever the address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await request(t.http).post('/auth/sign-in').send({ email: `stuffing${i}@test.example`, password: 'guess guess guess' })).status);
    }
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    const other = await request(t.http).get('/health');
    expect(other.status).toBe(200);
  });
});
