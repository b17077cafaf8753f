import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { Role } from '../../src/access-control/role';
import { expectApiError } from '../support/api-error';
import { createTestApp, createUser, signedIn, TEST_PASSWORD, TestApp } from '../support/app';

/** The answer without what legitimately differs between two requests. */
function comparable(res: Response): Record<string, unknown> {
  const { requestId: _requestId, ...rest } = res.body as Record<string, unknown>;
  return { status: res.status, ...rest };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const signIn = (t: TestApp, email: string, password: string) => request(t.http).post('/auth/sign-in').send({ email, password });

describe('credential stuffing from one client address', () => {
  const LIMIT = 5;
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SIGN_IN_RATE_LIMIT_PER_MINUTE: LIMIT });
  });
  afterAll(async () => {
    await t.close();
  });

  it(`is throttled after SIGN_IN_RATE_LIMIT_PER_MINUTE (${LIMIT}) attempts, whatever the addresses tried, the password or a forged X-Forwarded-For`, async () => {
    const legit = await createUser(t.ds, Role.ClearingHouseOfficer);
    const first = await signIn(t, legit.email, TEST_PASSWORD);
    expect(first.status).toBe(200);
    const token = first.body.accessToken as string;

    // A list of stolen credentials, one address after another, from one client.
    const statuses: number[] = [];
    const answers: Response[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await signIn(t, `victim${i}.${randomUUID().slice(0, 8)}@test.example`, `Summer2026!${i}`);
      statuses.push(res.status);
      answers.push(res);
    }
    expect(statuses).toEqual([...Array(LIMIT - 1).fill(401), ...Array(10 - (LIMIT - 1)).fill(429)]);
    for (const res of answers.slice(LIMIT - 1)) {
      expectApiError(res, 429, 'TOO_MANY_REQUESTS');
      expect(res.headers['cache-control']).toBe('no-store');
    }

    // Throttled means throttled: the right password is refused too, and so is a client that
    // claims another address (TRUST_PROXY is off, so X-Forwarded-For is not believed).
    expectApiError(await signIn(t, legit.email, TEST_PASSWORD), 429, 'TOO_MANY_REQUESTS');
    for (const forwarded of ['203.0.113.7', '198.51.100.1, 10.0.0.1', '::1']) {
      const spoofed = await request(t.http).post('/auth/sign-in').set('X-Forwarded-For', forwarded).send({ email: legit.email, password: TEST_PASSWORD });
      expectApiError(spoofed, 429, 'TOO_MANY_REQUESTS');
    }

    // The limit is on password guessing, not on the rest of the API: a session already open keeps working.
    expect((await request(t.http).get('/auth/me').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(t.http).get('/health')).status).toBe(200);
  });
});

describe('unknown addresses and wrong passwords', () => {
  const ATTEMPTS = 30;
  let t: TestApp;
  beforeAll(async () => {
    // The lock-out is raised out of the way so that every attempt below does the full work.
    t = await createTestApp({ SIGN_IN_MAX_FAILURES: 100 });
  });
  afterAll(async () => {
    await t.close();
  });

  it(`get the same answer and take similar time (ratio of medians over ${ATTEMPTS} attempts each between 0.5 and 2)`, async () => {
    const known = await createUser(t.ds, Role.ClearingHouseOfficer);
    const disabled = await createUser(t.ds, Role.ClearingHouseOfficer);
    await t.ds.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [disabled.id]);
    const unknown = () => `nobody.${randomUUID().slice(0, 12)}@test.example`;

    // Warm up both paths (connections, JIT) before measuring.
    for (let i = 0; i < 5; i++) {
      await signIn(t, unknown(), `warm up password ${i}`);
      await signIn(t, known.email, `warm up password ${i}`);
    }

    const timings = { unknown: [] as number[], wrong: [] as number[] };
    const bodies: Array<Record<string, unknown>> = [];
    const measure = async (kind: 'unknown' | 'wrong', i: number) => {
      const started = process.hrtime.bigint();
      const res = await signIn(t, kind === 'unknown' ? unknown() : known.email, `not the password ${i}`);
      timings[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
      bodies.push(comparable(res));
    };
    // Interleaved, alternating which goes first, so that drift in the machine's load hits both alike.
    for (let i = 0; i < ATTEMPTS; i++) {
      if (i % 2 === 0) {
        await measure('unknown', i);
        await measure('wrong', i);
      } else {
        await measure('wrong', i);
        await measure('unknown', i);
      }
    }
    bodies.push(comparable(await signIn(t, disabled.email, TEST_PASSWORD)));

    expect(bodies[0]).toEqual({ status: 401, statusCode: 401, error: 'INVALID_CREDENTIALS', message: expect.any(String) });
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);

    const ratio = median(timings.wrong) / median(timings.unknown);
    const summary = `median wrong password ${median(timings.wrong).toFixed(2)} ms, unknown address ${median(timings.unknown).toFixed(2)} ms, ratio ${ratio.toFixed(2)}`;
    process.stdout.write(`sign-in timing: ${summary}\n`);
    expect({ summary, withinBounds: ratio >= 0.5 && ratio <= 2 }).toEqual({ summary, withinBounds: true });
  });
});

describe('a locked-out user has a way back', () => {
  const LOCKOUT_SECONDS = 2;
  const MAX_FAILURES = 5; // SIGN_IN_MAX_FAILURES default
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SIGN_IN_LOCKOUT_SECONDS: LOCKOUT_SECONDS });
  });
  afterAll(async () => {
    await t.close();
  });

  async function lockOut(email: string): Promise<Response> {
    for (let i = 0; i < MAX_FAILURES; i++) expect((await signIn(t, email, `wrong password ${i}`)).status).toBe(401);
    const locked = await signIn(t, email, TEST_PASSWORD);
    expectApiError(locked, 429, 'SIGN_IN_LOCKED');
    return locked;
  }

  it('an administrator can lift the lock (and only an administrator), and the locked answer does not tell known addresses from unknown ones', async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    const locked = await lockOut(user.email);
    const ghost = await lockOut(`ghost.${randomUUID().slice(0, 8)}@test.example`);
    expect(comparable(ghost)).toEqual(comparable(locked));

    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    expectApiError(await request(t.http).post(`/users/${user.id}/unlock`).set(officer.auth), 403, 'FORBIDDEN');
    expectApiError(await signIn(t, user.email, TEST_PASSWORD), 429, 'SIGN_IN_LOCKED');

    const admin = await signedIn(t, Role.Administrator);
    expectApiError(await request(t.http).post(`/users/${randomUUID()}/unlock`).set(admin.auth), 404, 'NOT_FOUND');
    expect((await request(t.http).post(`/users/${user.id}/unlock`).set(admin.auth)).status).toBe(204);
    const back = await signIn(t, user.email, TEST_PASSWORD);
    expect(back.status).toBe(200);
    expect(back.body.user.userId).toBe(user.id);
  });

  it(`the lock expires on its own (SIGN_IN_LOCKOUT_SECONDS=${LOCKOUT_SECONDS}), and failures before it are forgotten`, async () => {
    const user = await createUser(t.ds, Role.ClearingHouseOfficer);
    await lockOut(user.email);
    await new Promise((resolve) => setTimeout(resolve, LOCKOUT_SECONDS * 1000 + 300));
    // A fresh start: one more mistake is an ordinary failure, not a renewed lock.
    expectApiError(await signIn(t, user.email, 'one more typo here'), 401, 'INVALID_CREDENTIALS');
    const back = await signIn(t, user.email, TEST_PASSWORD);
    expect(back.status).toBe(200);
    expect(back.body.user.userId).toBe(user.id);
  });
});
