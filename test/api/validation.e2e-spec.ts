import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, signedIn, TestApp } from '../support/app';

describe('request validation and the error shape', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedIn>>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signedIn(t, Role.Administrator);
  });
  afterAll(async () => {
    await t.close();
  });

  const newUser = (email: string) => ({ email, displayName: 'Val Idation', role: Role.ClearingHouseOfficer, password: 'a long enough passphrase 99' });
  const usersWithEmail = async (email: string) => Number((await t.ds.query(`SELECT count(*) AS n FROM users WHERE email = $1`, [email.toLowerCase()]))[0].n);

  it('refuses an unknown body field with 400 VALIDATION_FAILED naming it, and creates nothing', async () => {
    const email = 'unknown-field@test.example';
    const res = await request(t.http).post('/users').set(admin.auth).send({ ...newUser(email), isSuperUser: true });
    const body = expectApiError(res, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(res)).toEqual(['isSuperUser']);
    expect(body.message).toContain('isSuperUser');
    expect(await usersWithEmail(email)).toBe(0);
    // The same request without the unknown field is accepted.
    expect((await request(t.http).post('/users').set(admin.auth).send(newUser(email))).status).toBe(201);
    expect(await usersWithEmail(email)).toBe(1);
  });

  it('names a field of the wrong type', async () => {
    const email = 'wrong-type@test.example';
    const res = await request(t.http).post('/users').set(admin.auth).send({ ...newUser(email), displayName: 42 });
    expectApiError(res, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(res)).toEqual(['displayName']);
    expect(await usersWithEmail(email)).toBe(0);

    const badRole = await request(t.http).post('/users').set(admin.auth).send({ ...newUser(email), role: 'overlord' });
    expectApiError(badRole, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(badRole)).toEqual(['role']);

    const stringVersion = await request(t.http).post(`/users/${admin.id}/enable`).set(admin.auth).send({ version: '1' });
    expectApiError(stringVersion, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(stringVersion)).toEqual(['version']);
  });

  it('names every missing field', async () => {
    const res = await request(t.http).post('/users').set(admin.auth).send({});
    expectApiError(res, 400, 'VALIDATION_FAILED');
    expect(new Set(fieldsOf(res))).toEqual(new Set(['email', 'displayName', 'role', 'password']));
  });

  it('validates query strings and path parameters too', async () => {
    const limit = await request(t.http).get('/users?limit=0').set(admin.auth);
    expectApiError(limit, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(limit)).toEqual(['limit']);
    const unknownQuery = await request(t.http).get('/users?sort=email').set(admin.auth);
    expectApiError(unknownQuery, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(unknownQuery)).toEqual(['sort']);
    const id = await request(t.http).get('/users/not-a-uuid').set(admin.auth);
    expectApiError(id, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(id)).toEqual(['id']);
  });

  it('answers malformed JSON with 400 in the same error shape, and changes nothing', async () => {
    const res = await request(t.http)
      .post('/parties')
      .set(admin.auth)
      .set('Content-Type', 'application/json')
      .send('{"name": "Broken Party", ');
    const body = expectApiError(res, 400, 'BAD_REQUEST');
    expect(body.message).not.toContain('Broken Party');
    expect((await t.ds.query(`SELECT 1 FROM parties WHERE name = 'Broken Party'`)).length).toBe(0);
    // The same request, well-formed, does create the party.
    expect((await request(t.http).post('/parties').set(admin.auth).send({ name: 'Broken Party' })).status).toBe(201);
  });

  it('answers a body over the limit (100kb by default) with 413 PAYLOAD_TOO_LARGE, and creates nothing', async () => {
    const email = 'too-large@test.example';
    const res = await request(t.http)
      .post('/users')
      .set(admin.auth)
      .send({ ...newUser(email), displayName: 'x'.repeat(101 * 1024) });
    expectApiError(res, 413, 'PAYLOAD_TOO_LARGE');
    expect(await usersWithEmail(email)).toBe(0);

    // Just under the limit, the body is read and validated (the name is too long for the field).
    const under = await request(t.http).post('/users').set(admin.auth).send({ ...newUser(email), displayName: 'x'.repeat(99 * 1024) });
    expectApiError(under, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(under)).toEqual(['displayName']);
  });

  it('gives every error a request id, the same as the X-Request-Id header, and keeps a well-formed one the client sent', async () => {
    const unauthenticated = await request(t.http).get('/users');
    expectApiError(unauthenticated, 401, 'UNAUTHENTICATED');
    const notFound = await request(t.http).get('/users/00000000-0000-4000-8000-000000000000').set(admin.auth);
    expectApiError(notFound, 404, 'NOT_FOUND');
    const noRoute = await request(t.http).get('/no-such-route').set(admin.auth);
    expectApiError(noRoute, 404, 'NOT_FOUND');
    expect(unauthenticated.body.requestId).not.toBe(notFound.body.requestId);

    const mine = await request(t.http).get('/users').set('X-Request-Id', 'client-trace-0001');
    expectApiError(mine, 401, 'UNAUTHENTICATED');
    expect(mine.body.requestId).toBe('client-trace-0001');

    // An id that could inject into the logs is replaced with a fresh one.
    const hostile = await request(t.http).get('/users').set('X-Request-Id', 'bad id with spaces');
    expectApiError(hostile, 401, 'UNAUTHENTICATED');
    expect(hostile.body.requestId).not.toBe('bad id with spaces');
  });

  it('gives body-parser errors the client request id too', async () => {
    const res = await request(t.http).post('/parties').set(admin.auth).set('X-Request-Id', 'client-trace-0002').set('Content-Type', 'application/json').send('{');
    expectApiError(res, 400, 'BAD_REQUEST');
    expect(res.body.requestId).toBe('client-trace-0002');
  });
});
