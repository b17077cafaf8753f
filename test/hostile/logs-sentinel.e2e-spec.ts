import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { QueryFailedError } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { hashPassword } from '../../src/auth/password-hash';
import { CasesService } from '../../src/cases/cases.service';
import { ConversationsService } from '../../src/conversations/conversations.service';
import { createTestApp, createUser, mfaOf, signedIn, TestApp } from '../support/app';
import fs = require('node:fs');

/*
 * A sentinel test for the logs: with LOG_LEVEL=trace, everything the process writes to standard
 * output and standard error (process.stdout/stderr, console, and pino's own destination, which
 * writes to the file descriptors directly) is captured while the service handles sign-in, case
 * content, validation errors, server errors and bearer tokens carrying unique sentinel strings.
 * None of them may appear in the captured output; and request log lines must be there, so that
 * the test notices if logging is off altogether.
 */

const id = randomUUID().slice(0, 8);
const S = {
  password: `SentinelPassword-${id}-horse-battery`,
  wrongPassword: `SentinelWrongPassword-${id}`,
  unknownEmail: `sentinel.unknown.${id}@test.example`,
  description: `SENTINEL-DESCRIPTION-${id}`,
  sourceName: `SENTINEL-SOURCE-NAME-${id}`,
  sourceContact: `sentinel-contact-${id}@source.example`,
  summary: `SENTINEL-SUMMARY-${id}`,
  invalidValue: `SENTINEL-INVALID-VALUE-${id}`,
  unknownFieldValue: `SENTINEL-UNKNOWN-FIELD-VALUE-${id}`,
  malformedJson: `SENTINEL-MALFORMED-JSON-${id}`,
  queryValue: `SENTINEL-QUERY-${id}`,
  cookie: `SENTINEL-COOKIE-${id}`,
  header: `SENTINEL-HEADER-${id}`,
  serverError: `SENTINEL-SERVER-ERROR-${id}`,
  driverError: `SENTINEL-DRIVER-ERROR-${id}`,
  driverParameter: `SENTINEL-DRIVER-PARAMETER-${id}`,
};
const REQUEST_ID = `sentinel-request-${id}`;

type FdWrite = (fd: number, data: unknown, ...rest: unknown[]) => unknown;

/** Captures what reaches fds 1 and 2 by any route; passes through what is not a log line of the service, so the test runner's own output is kept. */
class OutputCapture {
  readonly chunks: string[] = [];
  private restorers: Array<() => void> = [];

  start(): void {
    const isLogLine = (text: string) => /^\s*\{"level":/.test(text);
    const toText = (data: unknown, encoding?: unknown) =>
      typeof data === 'string' ? data : Buffer.isBuffer(data) || data instanceof Uint8Array ? Buffer.from(data).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : String(data);

    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
      (stream as unknown as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
        const text = toText(chunk, rest[0]);
        this.chunks.push(text);
        if (isLogLine(text)) {
          const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
          cb?.();
          return true;
        }
        return original(chunk, ...rest);
      };
      this.restorers.push(() => ((stream as unknown as { write: unknown }).write = original));
    }

    const fsAny = fs as unknown as { writeSync: FdWrite; write: FdWrite };
    const originalWriteSync = fsAny.writeSync;
    const originalWrite = fsAny.write;
    fsAny.writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd === 1 || fd === 2) {
        const text = toText(data, rest[0]);
        this.chunks.push(text);
        if (isLogLine(text)) return Buffer.byteLength(text);
      }
      return originalWriteSync.call(fs, fd, data, ...rest);
    };
    fsAny.write = (fd: number, data: unknown, ...rest: unknown[]) => {
      if (fd === 1 || fd === 2) {
        const text = toText(data, rest.find((x) => typeof x === 'string'));
        this.chunks.push(text);
        if (isLogLine(text)) {
          const cb = rest.find((x) => typeof x === 'function') as ((err: null, n: number) => void) | undefined;
          const n = typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).length;
          if (cb) process.nextTick(cb, null, n);
          return undefined;
        }
      }
      return originalWrite.call(fs, fd, data, ...rest);
    };
    this.restorers.push(() => {
      fsAny.writeSync = originalWriteSync;
      fsAny.write = originalWrite;
    });

    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        this.chunks.push(args.map((a) => (typeof a === 'string' ? a : safeStringify(a))).join(' '));
      });
      this.restorers.push(() => spy.mockRestore());
    }
  }

  stop(): void {
    for (const restore of this.restorers.reverse()) restore();
    this.restorers = [];
  }

  get text(): string {
    return this.chunks.join('');
  }

  /** The JSON log lines captured. */
  get lines(): Array<Record<string, unknown>> {
    return this.text
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }
}

function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

describe('nothing sensitive reaches the logs, even at LOG_LEVEL=trace', () => {
  const capture = new OutputCapture();
  let t: TestApp;
  const secrets: Record<string, string> = { ...S };

  beforeAll(async () => {
    capture.start();
    t = await createTestApp({ LOG_LEVEL: 'trace' });
  });
  afterAll(async () => {
    await t?.close();
    // Give pino's asynchronous destination a moment to flush before the capture ends.
    await new Promise((resolve) => setTimeout(resolve, 200));
    capture.stop();
  });

  it('writes request log lines with request ids, and none of the sentinels, passwords or tokens', async () => {
    const http = () => request(t.http);
    const officer = await createUser(t.ds, Role.ClearingHouseOfficer);
    await t.ds.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [officer.id, await hashPassword(S.password, { memoryKib: 1024, timeCost: 1 })]);

    // Sign-in: a wrong password, an unknown address, then the right password.
    expect((await http().post('/auth/sign-in').send({ email: officer.email, password: S.wrongPassword })).status).toBe(401);
    expect((await http().post('/auth/sign-in').send({ email: S.unknownEmail, password: S.wrongPassword })).status).toBe(401);
    const signIn = await http().post('/auth/sign-in').set('X-Request-Id', REQUEST_ID).send({ email: officer.email, password: S.password });
    expect(signIn.status).toBe(200);
    secrets.accessToken = signIn.body.accessToken;
    secrets.refreshToken = signIn.body.refreshToken;
    const auth = { Authorization: `Bearer ${signIn.body.accessToken}` };

    // A refresh rotates the tokens: the old and the new ones are all secrets.
    const refreshed = await http().post('/auth/refresh').send({ refreshToken: signIn.body.refreshToken });
    expect(refreshed.status).toBe(200);
    secrets.refreshedAccessToken = refreshed.body.accessToken;
    secrets.refreshedRefreshToken = refreshed.body.refreshToken;
    const auth2 = { Authorization: `Bearer ${refreshed.body.accessToken}`, Cookie: `session=${S.cookie}`, 'X-Sentinel': S.header };

    // A manager signs in with a second factor: its secret and recovery codes are secrets too.
    const manager = await signedIn(t, Role.ClearingHouseManager);
    secrets.managerToken = manager.token;
    const mfa = mfaOf(manager.email);
    if (mfa) {
      secrets.mfaSecret = mfa.secret;
      mfa.recoveryCodes.forEach((code, i) => (secrets[`recoveryCode${i}`] = code));
    }

    // Case content: a concern with a source, and a sensitive conversation.
    const concern = await http().post('/concerns').set(auth2).send({
      authority: 'DUD', receivedOn: '2026-01-15', channel: 'peer', area: 'finance', description: S.description,
      source: { name: S.sourceName, role: 'Monitoring officer', contact: S.sourceContact },
    });
    expect(concern.status).toBe(201);
    const caseId = concern.body.case.id as string;
    for (const move of ['start_triage', 'follow_up']) {
      const version = (await http().get(`/cases/${caseId}`).set(auth2)).body.version;
      expect((await http().post(`/cases/${caseId}/moves`).set(auth2).send({ move, version })).status).toBe(200);
    }
    const conversation = await http().post(`/cases/${caseId}/conversations`).set(auth2).send({ kind: 'sensitive_conversation', heldOn: '2026-01-20', summary: S.summary, handling: 'normal' });
    expect(conversation.status).toBe(201);
    expect((await http().get(`/concerns/${concern.body.concern.id}`).set(manager.auth)).body.description).toBe(S.description);
    expect((await http().get(`/cases/${caseId}/conversations`).set(auth2)).status).toBe(200);

    // Validation errors carrying sentinel values, an unknown field, malformed JSON, a bad query string.
    expect((await http().post('/concerns').set(auth2).send({ authority: S.invalidValue, receivedOn: S.invalidValue, channel: S.invalidValue, area: 'finance', description: S.description, source: { name: S.sourceName, contact: { nested: S.sourceContact } } })).status).toBe(400);
    expect((await http().post('/concerns').set(auth2).send({ authority: 'DUD', receivedOn: '2026-01-15', channel: 'peer', area: 'finance', description: S.description, unexpected: S.unknownFieldValue })).status).toBe(400);
    expect((await http().post('/concerns').set(auth2).set('Content-Type', 'application/json').send(`{"description": "${S.malformedJson}", `)).status).toBe(400);
    expect((await http().get('/cases').query({ authority: S.queryValue }).set(auth2)).status).toBe(400);
    expect((await http().post('/auth/password').set(auth2).send({ currentPassword: S.wrongPassword, newPassword: S.password })).status).toBe(400);

    // Server errors whose messages carry content: a failure quoting a value, and a driver error quoting a parameter.
    const failing = jest.spyOn(ConversationsService.prototype, 'list').mockRejectedValueOnce(new Error(`could not render summary "${S.serverError}"`));
    const driver = jest.spyOn(CasesService.prototype, 'history').mockRejectedValueOnce(
      new QueryFailedError('SELECT * FROM case_transitions WHERE reason = $1', [S.driverParameter], Object.assign(new Error(`invalid input value "${S.driverError}"`), { code: 'XX000' })),
    );
    try {
      expect((await http().get(`/cases/${caseId}/conversations`).set(auth2)).status).toBe(500);
      expect((await http().get(`/cases/${caseId}/history`).set(auth2)).status).toBe(500);
    } finally {
      failing.mockRestore();
      driver.mockRestore();
    }

    // Sign out with the bearer token; a refused token afterwards.
    expect((await http().post('/auth/sign-out').set(auth2)).status).toBe(204);
    expect((await http().get('/auth/me').set(auth2)).status).toBe(401);

    await new Promise((resolve) => setTimeout(resolve, 200));
    const output = capture.text;
    const lines = capture.lines;

    // Logging is on and captured: request lines, with the request id, method, path and status.
    const requestLines = lines.filter((l) => typeof l.requestId === 'string' && (l.req as { method?: string } | undefined)?.method);
    expect(requestLines.length).toBeGreaterThan(10);
    expect(lines.find((l) => l.requestId === REQUEST_ID)).toMatchObject({ req: { method: 'POST', path: '/auth/sign-in' }, res: { statusCode: 200 } });
    expect(lines.some((l) => (l.res as { statusCode?: number } | undefined)?.statusCode === 500)).toBe(true);

    const leaked = Object.entries(secrets)
      .filter(([, value]) => value && (output.includes(value) || output.includes(JSON.stringify(value).slice(1, -1))))
      .map(([name]) => name);
    const context = leaked.map((name) => {
      const i = output.indexOf(secrets[name]);
      return `${name}: …${output.slice(Math.max(0, i - 200), i + 100)}…`;
    });
    expect({ leaked, context }).toEqual({ leaked: [], context: [] });
  });
});
