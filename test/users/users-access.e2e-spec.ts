import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { expectApiError } from '../support/api-error';
import { createTestApp, createUser, partyIdOf, signedIn, TestApp, TestUser } from '../support/app';

const NON_ADMIN_ROLES = [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.BoardMember];

describe('only administrators manage users and parties', () => {
  let t: TestApp;
  let target: TestUser;
  let partyId: string;
  beforeAll(async () => {
    t = await createTestApp();
    target = await createUser(t.ds, Role.ClearingHouseOfficer);
    partyId = await partyIdOf(t.ds, 'Green');
  });
  afterAll(async () => {
    await t.close();
  });

  // Each with a body that would succeed for an administrator, so that only the role decides.
  const adminOnly = (): Array<{ method: 'get' | 'post' | 'patch'; path: string; body?: object }> => [
    { method: 'post', path: '/users', body: { email: `made-by-nonadmin.${Date.now()}@test.example`, displayName: 'Sneaky', role: Role.Administrator, password: 'a long enough passphrase 99' } },
    { method: 'get', path: '/users' },
    { method: 'get', path: `/users/${target.id}` },
    { method: 'patch', path: `/users/${target.id}/role`, body: { role: Role.Administrator, version: 1 } },
    { method: 'post', path: `/users/${target.id}/disable`, body: { version: 1 } },
    { method: 'post', path: `/users/${target.id}/enable`, body: { version: 1 } },
    { method: 'post', path: `/users/${target.id}/password`, body: { password: 'taken over passphrase 1234' } },
    { method: 'post', path: `/users/${target.id}/unlock` },
    { method: 'post', path: '/parties', body: { name: 'Party Of Intruders' } },
    { method: 'patch', path: `/parties/${partyId}`, body: { active: false } },
  ];

  it.each(NON_ADMIN_ROLES)('refuses a %s with 403 on every user-administration and party-management route', async (role) => {
    const user = await signedIn(t, role);
    // A couple of recent failures on the target's address, which an unlock would delete.
    await t.ds.query(
      `INSERT INTO sign_in_locks (email_key, failures, last_failure_at) VALUES ($1, 2, now())
       ON CONFLICT (email_key) DO UPDATE SET failures = 2, last_failure_at = now(), locked_until = NULL`,
      [target.email],
    );
    const usersBefore = Number((await t.ds.query(`SELECT count(*) AS n FROM users WHERE display_name = 'Sneaky'`))[0].n);
    for (const { method, path, body } of adminOnly()) {
      const res = await request(t.http)[method](path).set(user.auth).send(body);
      expect({ route: `${method.toUpperCase()} ${path}`, status: res.status }).toEqual({ route: `${method.toUpperCase()} ${path}`, status: 403 });
      expectApiError(res, 403, 'FORBIDDEN');
    }
    // Nothing happened.
    expect(Number((await t.ds.query(`SELECT count(*) AS n FROM users WHERE display_name = 'Sneaky'`))[0].n)).toBe(usersBefore);
    const [stored] = await t.ds.query(`SELECT role, disabled_at, version FROM users WHERE id = $1`, [target.id]);
    expect(stored).toEqual({ role: Role.ClearingHouseOfficer, disabled_at: null, version: 1 });
    const [party] = await t.ds.query(`SELECT active FROM parties WHERE id = $1`, [partyId]);
    expect(party.active).toBe(true);
    expect((await t.ds.query(`SELECT 1 FROM parties WHERE name = 'Party Of Intruders'`)).length).toBe(0);
    expect(await t.ds.query(`SELECT failures FROM sign_in_locks WHERE email_key = $1`, [target.email])).toEqual([{ failures: 2 }]);
    expect((await request(t.http).post('/auth/sign-in').send({ email: target.email, password: target.password })).status).toBe(200);
  });

  it.each([...NON_ADMIN_ROLES, Role.Administrator])('lets a %s read the list of parties', async (role) => {
    const user = await signedIn(t, role);
    const res = await request(t.http).get('/parties').set(user.auth);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.arrayContaining([expect.objectContaining({ id: partyId, name: 'Green', active: true })]));
  });

  it('refuses every one of these routes without sign-in', async () => {
    for (const { method, path, body } of [...adminOnly(), { method: 'get' as const, path: '/parties' }]) {
      expectApiError(await request(t.http)[method](path).send(body), 401, 'UNAUTHENTICATED');
    }
  });

  it('lets an administrator manage parties', async () => {
    const admin = await signedIn(t, Role.Administrator);
    const created = await request(t.http).post('/parties').set(admin.auth).send({ name: '  Independent Alliance ', abbreviation: 'IA' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), name: 'Independent Alliance', abbreviation: 'IA', active: true });
    expectApiError(await request(t.http).post('/parties').set(admin.auth).send({ name: 'Independent Alliance' }), 409, 'CONFLICT');
    const renamed = await request(t.http).patch(`/parties/${created.body.id}`).set(admin.auth).send({ name: 'Independents' });
    expect(renamed.body).toMatchObject({ name: 'Independents', abbreviation: 'IA', active: true });
    expectApiError(await request(t.http).patch(`/parties/${created.body.id}`).set(admin.auth).send({ name: 'Green' }), 409, 'CONFLICT');
    expectApiError(await request(t.http).patch('/parties/00000000-0000-4000-8000-000000000000').set(admin.auth).send({ active: false }), 404, 'NOT_FOUND');
  });
});
