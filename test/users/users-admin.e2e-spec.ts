import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { ALL_ROLES, Region, Role } from '../../src/access-control/role';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, createUser, partyIdOf, signedIn, signIn, TEST_PASSWORD, TestApp } from '../support/app';

const PASSWORD = 'a long enough passphrase 99';
const unique = (label: string) => `${label}.${randomUUID().slice(0, 8)}@test.example`;

describe('user administration', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedIn>>;
  let labour: string;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signedIn(t, Role.Administrator);
    labour = await partyIdOf(t.ds, 'Labour');
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: Record<string, unknown>) => request(t.http).post('/users').set(admin.auth).send(body);
  const countWithEmail = async (email: string) => Number((await t.ds.query(`SELECT count(*) AS n FROM users WHERE email = $1`, [email.toLowerCase()]))[0].n);
  const stored = async (id: string) => (await t.ds.query(`SELECT role, region, party_id, disabled_at, version FROM users WHERE id = $1`, [id]))[0];

  describe('creating users', () => {
    it.each(ALL_ROLES)('creates a %s, who can then sign in with the given password', async (role) => {
      const email = unique(role);
      const extra = role === Role.RiepFacilitator ? { region: Region.NorthEast } : role === Role.LeadPoliticalPeer ? { partyId: labour } : {};
      const res = await create({ email: `  ${email.toUpperCase()} `, displayName: ' Pat Example ', role, password: PASSWORD, ...extra });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        email,
        displayName: 'Pat Example',
        role,
        region: role === Role.RiepFacilitator ? Region.NorthEast : null,
        partyId: role === Role.LeadPoliticalPeer ? labour : null,
        disabledAt: null,
        createdAt: expect.any(String),
        version: 1,
      });
      expect(JSON.stringify(res.body)).not.toMatch(/argon2|password/i);
      const signedInAs = await request(t.http).post('/auth/sign-in').send({ email, password: PASSWORD });
      expect(signedInAs.status).toBe(200);
      expect(signedInAs.body.user).toMatchObject({ userId: res.body.id, role });
    });

    it('refuses a RIEP facilitator without a region, naming the field', async () => {
      const email = unique('riep');
      const res = await create({ email, displayName: 'No Region', role: Role.RiepFacilitator, password: PASSWORD });
      expectApiError(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['region']);
      expect(await countWithEmail(email)).toBe(0);
    });

    it('refuses a region on any other role', async () => {
      const res = await create({ email: unique('officer'), displayName: 'Has Region', role: Role.ClearingHouseOfficer, region: Region.London, password: PASSWORD });
      expectApiError(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['region']);
    });

    it('refuses a lead political peer without a party, with an unknown party or an inactive one, naming partyId', async () => {
      const inactive = await request(t.http).post('/parties').set(admin.auth).send({ name: `Defunct ${randomUUID().slice(0, 6)}` });
      expect(inactive.status).toBe(201);
      const deactivated = await request(t.http).patch(`/parties/${inactive.body.id}`).set(admin.auth).send({ active: false });
      expect(deactivated.status).toBe(200);
      expect(deactivated.body.active).toBe(false);

      for (const extra of [{}, { partyId: randomUUID() }, { partyId: inactive.body.id }]) {
        const email = unique('peer');
        const res = await create({ email, displayName: 'Peer', role: Role.LeadPoliticalPeer, password: PASSWORD, ...extra });
        expectApiError(res, 400, 'VALIDATION_FAILED');
        expect(fieldsOf(res)).toEqual(['partyId']);
        expect(await countWithEmail(email)).toBe(0);
      }
    });

    it('refuses a party on any other role', async () => {
      const res = await create({ email: unique('auditor'), displayName: 'Has Party', role: Role.Auditor, partyId: labour, password: PASSWORD });
      expectApiError(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['partyId']);
    });

    it('refuses a password that breaks the policy, naming the field', async () => {
      const email = unique('weak');
      const short = await create({ email, displayName: 'Weak Password', role: Role.Auditor, password: 'short' });
      expectApiError(short, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(short)).toEqual(['password']);
      const personal = await create({ email, displayName: 'Weak Password', role: Role.Auditor, password: `my address is ${email.split('@')[0]}` });
      expectApiError(personal, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(personal)).toEqual(['password']);
      expect(await countWithEmail(email)).toBe(0);
    });

    it('refuses a duplicate e-mail address, whatever its case, with 409', async () => {
      const email = unique('dup');
      expect((await create({ email, displayName: 'First', role: Role.Auditor, password: PASSWORD })).status).toBe(201);
      const again = await create({ email: email.toUpperCase(), displayName: 'Second', role: Role.ClearingHouseOfficer, password: PASSWORD });
      expectApiError(again, 409, 'CONFLICT');
      const rows = await t.ds.query(`SELECT display_name, role FROM users WHERE email = $1`, [email]);
      expect(rows).toEqual([{ display_name: 'First', role: Role.Auditor }]);
    });
  });

  describe('listing and reading users', () => {
    it('lists users, filtered by role, leaving out disabled ones unless asked', async () => {
      const active = await createUser(t.ds, Role.RiepFacilitator, { region: Region.SouthWest });
      const disabled = await createUser(t.ds, Role.RiepFacilitator, { region: Region.SouthWest });
      await t.ds.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [disabled.id]);

      const res = await request(t.http).get('/users?role=riep_facilitator&limit=200').set(admin.auth);
      expect(res.status).toBe(200);
      const ids = res.body.items.map((u: { id: string }) => u.id);
      expect(ids).toContain(active.id);
      expect(ids).not.toContain(disabled.id);
      expect(res.body.items.every((u: { role: string; disabledAt: string | null }) => u.role === Role.RiepFacilitator && u.disabledAt === null)).toBe(true);
      expect(res.body.total).toBeGreaterThanOrEqual(ids.length);

      const all = await request(t.http).get('/users?role=riep_facilitator&includeDisabled=true&limit=200').set(admin.auth);
      expect(all.status).toBe(200);
      const allIds = all.body.items.map((u: { id: string }) => u.id);
      expect(allIds).toEqual(expect.arrayContaining([active.id, disabled.id]));
      expect(all.body.items.find((u: { id: string }) => u.id === disabled.id).disabledAt).toEqual(expect.any(String));
    });

    it('pages through the list in e-mail order', async () => {
      // Addresses starting with a digit sort before every other fixture's, so the first page is ours.
      const mine = [];
      for (const i of [3, 1, 2]) mine[i - 1] = await createUser(t.ds, Role.Auditor, { email: `0page.${i}@test.example` });
      const first = await request(t.http).get('/users?role=auditor&limit=2&offset=0').set(admin.auth);
      const second = await request(t.http).get('/users?role=auditor&limit=2&offset=2').set(admin.auth);
      expect(first.status).toBe(200);
      expect(first.body.items.map((u: { id: string }) => u.id)).toEqual([mine[0].id, mine[1].id]);
      expect(second.body.items[0].id).toBe(mine[2].id);
      expect(first.body.total).toBeGreaterThanOrEqual(3);
      // Past the last page: no items, but still the total.
      const beyond = await request(t.http).get('/users?role=auditor&limit=2&offset=100000').set(admin.auth);
      expect(beyond.status).toBe(200);
      expect(beyond.body.items).toEqual([]);
      expect(beyond.body.total).toBeGreaterThanOrEqual(3);
    });

    it('gets one user; an unknown id is 404', async () => {
      const user = await createUser(t.ds, Role.LeadPoliticalPeer, { partyId: labour, name: 'Councillor Peer' });
      const res = await request(t.http).get(`/users/${user.id}`).set(admin.auth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, email: user.email, displayName: 'Councillor Peer', role: Role.LeadPoliticalPeer, partyId: labour, region: null, version: 1 });
      expectApiError(await request(t.http).get(`/users/${randomUUID()}`).set(admin.auth), 404, 'NOT_FOUND');
    });
  });

  describe('changing users', () => {
    it("re-roles a user and ends that user's sessions at once", async () => {
      const user = await signedIn(t, Role.ClearingHouseOfficer);
      expect((await request(t.http).get('/auth/me').set(user.auth)).status).toBe(200);
      const res = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.RiepFacilitator, region: Region.EastMidlands, version: 1 });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, role: Role.RiepFacilitator, region: Region.EastMidlands, partyId: null, version: 2 });

      expectApiError(await request(t.http).get('/auth/me').set(user.auth), 401, 'UNAUTHENTICATED');
      const again = await signIn(t.http, user.email);
      const me = await request(t.http).get('/auth/me').set('Authorization', `Bearer ${again.accessToken}`);
      expect(me.body).toMatchObject({ role: Role.RiepFacilitator, region: Region.EastMidlands });
    });

    it('re-roling applies the same region and party rules as creating', async () => {
      const user = await createUser(t.ds, Role.ClearingHouseOfficer);
      const noParty = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.LeadPoliticalPeer, version: 1 });
      expectApiError(noParty, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(noParty)).toEqual(['partyId']);
      const noRegion = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.RiepFacilitator, version: 1 });
      expect(fieldsOf(noRegion)).toEqual(['region']);
      expect(await stored(user.id)).toMatchObject({ role: Role.ClearingHouseOfficer, version: 1 });

      const peer = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.LeadPoliticalPeer, partyId: labour, version: 1 });
      expect(peer.status).toBe(200);
      // Moving away from peer clears the party.
      const back = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.Auditor, version: 2 });
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ role: Role.Auditor, partyId: null, region: null, version: 3 });
    });

    it('refuses a stale version with 409 VERSION_CONFLICT and changes nothing', async () => {
      const user = await createUser(t.ds, Role.ClearingHouseOfficer);
      const first = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.ClearingHouseManager, version: 1 });
      expect(first.status).toBe(200);
      const stale = await request(t.http).patch(`/users/${user.id}/role`).set(admin.auth).send({ role: Role.Auditor, version: 1 });
      expectApiError(stale, 409, 'VERSION_CONFLICT');
      expectApiError(await request(t.http).post(`/users/${user.id}/disable`).set(admin.auth).send({ version: 1 }), 409, 'VERSION_CONFLICT');
      expect(await stored(user.id)).toMatchObject({ role: Role.ClearingHouseManager, disabled_at: null, version: 2 });
      // An unknown user is 404, not a conflict.
      expectApiError(await request(t.http).patch(`/users/${randomUUID()}/role`).set(admin.auth).send({ role: Role.Auditor, version: 1 }), 404, 'NOT_FOUND');
    });

    it('disables a user: their token is refused at once and they cannot sign in; enabling lets them back', async () => {
      const user = await signedIn(t, Role.Auditor);
      const disabled = await request(t.http).post(`/users/${user.id}/disable`).set(admin.auth).send({ version: 1 });
      expect(disabled.status).toBe(200);
      expect(disabled.body).toMatchObject({ id: user.id, disabledAt: expect.any(String), version: 2 });
      expectApiError(await request(t.http).get('/auth/me').set(user.auth), 401, 'UNAUTHENTICATED');
      expectApiError(await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD }), 401, 'INVALID_CREDENTIALS');

      const enabled = await request(t.http).post(`/users/${user.id}/enable`).set(admin.auth).send({ version: 2 });
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({ disabledAt: null, version: 3 });
      // The old session stays ended; a new sign-in works.
      expect((await request(t.http).get('/auth/me').set(user.auth)).status).toBe(401);
      await signIn(t.http, user.email);
    });

    it('refuses to let an administrator disable themselves', async () => {
      const res = await request(t.http).post(`/users/${admin.id}/disable`).set(admin.auth).send({ version: 1 });
      expectApiError(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['id']);
      expect((await stored(admin.id)).disabled_at).toBeNull();
      expect((await request(t.http).get('/auth/me').set(admin.auth)).status).toBe(200);
    });

    it("resets a user's password: their sessions end, the old password stops working and a lock is lifted", async () => {
      const user = await signedIn(t, Role.ClearingHouseManager);
      for (let i = 0; i < 5; i++) await request(t.http).post('/auth/sign-in').send({ email: user.email, password: `wrong guess ${i}` });
      expectApiError(await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD }), 429, 'SIGN_IN_LOCKED');

      const weak = await request(t.http).post(`/users/${user.id}/password`).set(admin.auth).send({ password: 'tiny' });
      expectApiError(weak, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(weak)).toEqual(['password']);

      const newPassword = 'a fresh replacement passphrase 5';
      expect((await request(t.http).post(`/users/${user.id}/password`).set(admin.auth).send({ password: newPassword })).status).toBe(204);
      expect((await request(t.http).get('/auth/me').set(user.auth)).status).toBe(401);
      expect((await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD })).status).toBe(401);
      expect((await request(t.http).post('/auth/sign-in').send({ email: user.email, password: newPassword })).status).toBe(200);
      expectApiError(await request(t.http).post(`/users/${randomUUID()}/password`).set(admin.auth).send({ password: newPassword }), 404, 'NOT_FOUND');
    });

    it('unlocks a locked-out address early', async () => {
      const user = await createUser(t.ds, Role.ClearingHouseOfficer);
      for (let i = 0; i < 5; i++) await request(t.http).post('/auth/sign-in').send({ email: user.email, password: `wrong guess ${i}` });
      expectApiError(await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD }), 429, 'SIGN_IN_LOCKED');
      expect((await request(t.http).post(`/users/${user.id}/unlock`).set(admin.auth)).status).toBe(204);
      expect((await t.ds.query(`SELECT 1 FROM sign_in_locks WHERE email_key = $1`, [user.email])).length).toBe(0);
      expect((await request(t.http).post('/auth/sign-in').send({ email: user.email, password: TEST_PASSWORD })).status).toBe(200);
      expectApiError(await request(t.http).post(`/users/${randomUUID()}/unlock`).set(admin.auth), 404, 'NOT_FOUND');
    });
  });
});
