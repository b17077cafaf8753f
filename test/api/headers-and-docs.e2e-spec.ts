import request, { Response } from 'supertest';
import { Role } from '../../src/access-control/role';
import { createTestApp, signedIn, TestApp } from '../support/app';

function expectHelmetHeaders(res: Response): void {
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  expect(res.headers['x-powered-by']).toBeUndefined();
}

describe('response headers and the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('marks every routed response no-store and sends the helmet headers, on success and on error alike', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const calls: Array<[string, () => Promise<Response>]> = [
      ['/health', () => request(t.http).get('/health')],
      ['/auth/me', () => request(t.http).get('/auth/me').set(officer.auth)],
      ['/authorities/BIR', () => request(t.http).get('/authorities/BIR').set(officer.auth)],
      ['/users (403)', () => request(t.http).get('/users').set(officer.auth)],
      ['/users (401)', () => request(t.http).get('/users')],
      ['/authorities/nope (400)', () => request(t.http).get('/authorities/nope').set(officer.auth)],
    ];
    const responses: Array<[string, Response]> = [];
    for (const [label, call] of calls) responses.push([label, await call()]);
    expect(responses.map(([, r]) => r.status)).toEqual([200, 200, 200, 403, 401, 400]);
    for (const [label, res] of responses) {
      // Terminus sends "no-cache, no-store, must-revalidate" on /health; the API itself sends "no-store".
      expect({ label, cacheControl: res.headers['cache-control'] }).toEqual({
        label,
        cacheControl: label === '/health' ? expect.stringMatching(/(^|, *)no-store(,|$)/) : 'no-store',
      });
      expectHelmetHeaders(res);
    }
  });

  it('sends the helmet headers on errors raised by the body parser too', async () => {
    const res = await request(t.http).post('/auth/sign-in').set('Content-Type', 'application/json').send('{');
    expect(res.status).toBe(400);
    expectHelmetHeaders(res);
  });

  it('serves the OpenAPI document without sign-in, with the bearer scheme and the foundation paths', async () => {
    const res = await request(t.http).get('/api/docs/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const path of ['/auth/sign-in', '/users', '/users/{id}', '/authorities', '/authorities/{code}', '/parties', '/inbox', '/health']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/auth/sign-in'].post).toBeDefined();
    expect(doc.paths['/users'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/authorities'].get.security).toEqual([{ bearer: [] }]);
    expect(doc.components.schemas.ApiErrorDto).toBeDefined();
  });
});
