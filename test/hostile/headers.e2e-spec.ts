import request, { Response } from 'supertest';
import { Role } from '../../src/access-control/role';
import { CasesService } from '../../src/cases/cases.service';
import { createTestApp, createUser, signedIn, TestApp } from '../support/app';

/*
 * Response headers of an API that carries confidential case data: helmet's defaults as they
 * matter for an API, no caching of anything (case data and errors alike), and CORS closed: no
 * browser page on another origin may read an answer.
 */

const EVIL = 'https://evil.example';

/** What the helmet defaults give an API, and what it must not send. */
function expectSecurityHeaders(res: Response, label: string): void {
  const h = res.headers;
  const seen = {
    label,
    nosniff: h['x-content-type-options'],
    // Framing refused one way or the other (helmet sends both; either is enough).
    framingRefused: /^(DENY|SAMEORIGIN)$/i.test(h['x-frame-options'] ?? '') || /frame-ancestors\s+('none'|'self')(;|$)/.test(h['content-security-policy'] ?? ''),
    hstsMaxAge: Number(/max-age=(\d+)/.exec(h['strict-transport-security'] ?? '')?.[1] ?? 0) >= 15_552_000,
    referrerPolicy: h['referrer-policy'],
    corp: h['cross-origin-resource-policy'],
    poweredBy: h['x-powered-by'] ?? null,
    xssFilter: h['x-xss-protection'] ?? '0',
    cacheControl: h['cache-control'],
  };
  expect(seen).toEqual({
    label,
    nosniff: 'nosniff',
    framingRefused: true,
    hstsMaxAge: true,
    referrerPolicy: 'no-referrer',
    corp: 'same-origin',
    poweredBy: null,
    // The legacy XSS auditor is switched off (it caused leaks of its own), never switched on.
    xssFilter: '0',
    cacheControl: 'no-store',
  });
}

function expectNoCors(res: Response, label: string): void {
  const cors = Object.keys(res.headers).filter((k) => k.startsWith('access-control-'));
  expect({ label, cors }).toEqual({ label, cors: [] });
}

describe('response headers of an API with confidential data', () => {
  let t: TestApp;
  let officer: Awaited<ReturnType<typeof signedIn>>;
  let auditor: Awaited<ReturnType<typeof signedIn>>;
  let caseId: string;
  let concernId: string;
  beforeAll(async () => {
    t = await createTestApp();
    officer = await signedIn(t, Role.ClearingHouseOfficer);
    auditor = await signedIn(t, Role.Auditor);
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'WLV', receivedOn: '2026-01-15', channel: 'peer', area: 'finance', description: 'Headers fixture: a budget gap',
      source: { name: 'A source', contact: 'source@example.org' },
    });
    expect(logged.status).toBe(201);
    caseId = logged.body.case.id;
    concernId = logged.body.concern.id;
    const version = logged.body.case.version;
    expect((await request(t.http).post(`/cases/${caseId}/moves`).set(officer.auth).send({ move: 'start_triage', version })).status).toBe(200);
    const follow = await request(t.http).post(`/cases/${caseId}/moves`).set(officer.auth).send({ move: 'follow_up', version: version + 1 });
    expect(follow.status).toBe(200);
    expect((await request(t.http).post(`/cases/${caseId}/conversations`).set(officer.auth).send({ kind: 'call', heldOn: '2026-01-20', summary: 'Headers fixture call', handling: 'normal' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends the security headers and Cache-Control: no-store on every response carrying case data', async () => {
    const reads: Array<[string, () => Promise<Response>]> = [
      ['GET /cases', () => request(t.http).get('/cases').set(officer.auth)],
      ['GET /cases/:id', () => request(t.http).get(`/cases/${caseId}`).set(officer.auth)],
      ['GET /concerns/:id', () => request(t.http).get(`/concerns/${concernId}`).set(officer.auth)],
      ['GET /cases/:id/conversations', () => request(t.http).get(`/cases/${caseId}/conversations`).set(officer.auth)],
      ['GET /cases/:id/history', () => request(t.http).get(`/cases/${caseId}/history`).set(officer.auth)],
      ['GET /audit/events', () => request(t.http).get('/audit/events').set(auditor.auth)],
      ['GET /audit/export', () => request(t.http).get('/audit/export?format=ndjson').set(auditor.auth)],
    ];
    for (const [label, call] of reads) {
      const res = await call();
      expect({ label, status: res.status }).toEqual({ label, status: 200 });
      expectSecurityHeaders(res, label);
    }
  });

  it('sends them on error answers too: validation, authentication, permission, not found, body parser, too large, server error', async () => {
    const failing = jest.spyOn(CasesService.prototype, 'list').mockRejectedValueOnce(new Error('boom'));
    const errors: Array<[string, number, () => Promise<Response>]> = [
      ['400 validation', 400, () => request(t.http).get('/cases?limit=0').set(officer.auth)],
      ['400 malformed JSON', 400, () => request(t.http).post('/concerns').set(officer.auth).set('Content-Type', 'application/json').send('{"description":')],
      ['401 no token', 401, () => request(t.http).get(`/cases/${caseId}`)],
      ['403 auditor on case content', 403, () => request(t.http).get(`/cases/${caseId}`).set(auditor.auth)],
      ['404 no such case', 404, () => request(t.http).get('/cases/00000000-0000-4000-8000-000000000000').set(officer.auth)],
      ['404 no such route', 404, () => request(t.http).get('/no/such/route').set(officer.auth)],
      ['413 too large', 413, () => request(t.http).post('/concerns').set(officer.auth).send({ description: 'x'.repeat(200 * 1024) })],
      ['500 server error', 500, () => request(t.http).get('/cases').set(officer.auth)],
    ];
    try {
      for (const [label, status, call] of errors) {
        const res = await call();
        expect({ label, status: res.status }).toEqual({ label, status });
        expectSecurityHeaders(res, label);
      }
    } finally {
      failing.mockRestore();
    }
  });

  it('keeps CORS closed: a preflight from another origin is not allowed, and no answer is readable cross-origin', async () => {
    for (const path of ['/cases', `/cases/${caseId}`, '/auth/sign-in', '/concerns', '/audit/events']) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const preflight = await request(t.http)
          .options(path)
          .set('Origin', EVIL)
          .set('Access-Control-Request-Method', method)
          .set('Access-Control-Request-Headers', 'authorization, content-type');
        expect({ path, method, serverError: preflight.status >= 500 }).toEqual({ path, method, serverError: false });
        expectNoCors(preflight, `OPTIONS ${path} (${method})`);
      }
    }
    const withOrigin: Array<[string, () => Promise<Response>]> = [
      ['GET /cases', () => request(t.http).get('/cases').set(officer.auth).set('Origin', EVIL)],
      ['GET /cases/:id', () => request(t.http).get(`/cases/${caseId}`).set(officer.auth).set('Origin', EVIL)],
      ['GET /audit/events', () => request(t.http).get('/audit/events').set(auditor.auth).set('Origin', EVIL)],
      ['GET /health', () => request(t.http).get('/health').set('Origin', EVIL)],
      ['POST /auth/sign-in', () => request(t.http).post('/auth/sign-in').set('Origin', EVIL).send({ email: 'nobody@test.example', password: 'whatever it is' })],
      ['GET /cases with Origin null', () => request(t.http).get('/cases').set(officer.auth).set('Origin', 'null')],
    ];
    for (const [label, call] of withOrigin) {
      const res = await call();
      expect({ label, serverError: res.status >= 500 }).toEqual({ label, serverError: false });
      expectNoCors(res, label);
    }
  });

  // Last: passport keeps one strategy per name for the whole process, so the second app's
  // bearer strategy replaces the first app's, and once it is closed the first app cannot sign anyone in.
  it('sends them on a throttled answer (429)', async () => {
    const throttled = await createTestApp({ SIGN_IN_RATE_LIMIT_PER_MINUTE: 1 });
    try {
      const user = await createUser(throttled.ds, Role.ClearingHouseOfficer);
      await request(throttled.http).post('/auth/sign-in').send({ email: user.email, password: 'not the password' });
      const res = await request(throttled.http).post('/auth/sign-in').send({ email: user.email, password: 'not the password' });
      expect(res.status).toBe(429);
      expectSecurityHeaders(res, '429');
    } finally {
      await throttled.close();
    }
  });
});
