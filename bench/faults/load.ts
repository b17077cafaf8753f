import { randomUUID } from 'node:crypto';
import { totpCodeAt, totpStepAt } from '../../src/auth/mfa/totp';
import { FAULT_PASSWORD, sleep } from './infra';

/** What one request came back with: a status, or why none came (`timeout`: no answer within the client's limit). */
export type Answer = number | 'timeout' | 'connection_error';

export interface Outcome {
  op: string;
  /** The unique text a create carried, to find it in the database afterwards. */
  marker?: string;
  answer: Answer;
  ms: number;
  /** Milliseconds since the load started. */
  at: number;
  phase: string;
  /** The error code of a non-2xx answer (ApiError.error). */
  code?: string;
  /** Created ids, for acknowledged creates. */
  caseId?: string;
  concernId?: string;
  recordId?: string;
}

export const CLIENT_TIMEOUT_MS = 5_000;

export async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<{ answer: Answer; body: any; ms: number; headers?: Headers }> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? CLIENT_TIMEOUT_MS),
    });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { answer: res.status, body, ms: performance.now() - started, headers: res.headers };
  } catch (error) {
    const name = (error as Error)?.name;
    const answer: Answer = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'connection_error';
    return { answer, body: null, ms: performance.now() - started };
  }
}

/** Signs in through the API; a role that must have a second factor enrols one on its first sign-in. */
export async function signIn(base: string, email: string): Promise<string> {
  const res = await call(base, 'POST', '/auth/sign-in', { body: { email, password: FAULT_PASSWORD }, timeoutMs: 30_000 });
  if (res.answer !== 200) throw new Error(`sign-in of ${email}: ${res.answer} ${JSON.stringify(res.body)}`);
  if (res.body.mfaRequired) throw new Error(`${email} already has a second factor`);
  if (res.body.mfaEnrolmentRequired) {
    const token = res.body.accessToken;
    const enrolled = await call(base, 'POST', '/auth/mfa/enrol', { token, timeoutMs: 30_000 });
    if (enrolled.answer !== 200) throw new Error(`MFA enrolment of ${email}: ${enrolled.answer}`);
    const confirmed = await call(base, 'POST', '/auth/mfa/confirm', { token, body: { code: totpCodeAt(enrolled.body.secret, totpStepAt(Date.now())) }, timeoutMs: 30_000 });
    if (confirmed.answer !== 200) throw new Error(`MFA confirmation of ${email}: ${confirmed.answer}`);
  }
  return res.body.accessToken;
}

export const is2xx = (a: Answer) => typeof a === 'number' && a >= 200 && a < 300;

/**
 * Officers logging concerns (each opens a case) and recording conversations on cases they
 * created, each create with a unique marker, until stopped. Every answer is kept, so that what
 * was acknowledged (2xx) can be looked for in the database afterwards.
 */
export class WriteLoad {
  readonly outcomes: Outcome[] = [];
  readonly cases: string[] = [];
  phase = 'before';
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly t0 = performance.now();

  constructor(
    private readonly base: () => string,
    private readonly tokens: string[],
    private readonly authorities: string[],
    private readonly thinkMs = 40,
  ) {}

  now(): number {
    return Math.round(performance.now() - this.t0);
  }

  start(workers: number): void {
    this.running = true;
    for (let i = 0; i < workers; i++) this.workers.push(this.worker(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    this.workers = [];
  }

  private async worker(i: number): Promise<void> {
    let n = 0;
    while (this.running) {
      const token = this.tokens[(i + n) % this.tokens.length];
      n += 1;
      if (this.cases.length > 0 && Math.random() < 0.4) await this.conversation(token);
      else await this.concern(token);
      await sleep(this.thinkMs);
    }
  }

  private async concern(token: string): Promise<void> {
    const marker = `fault-concern-${randomUUID()}`;
    const authority = this.authorities[Math.floor(Math.random() * this.authorities.length)];
    const at = this.now();
    const phase = this.phase;
    // A date well in the past: the triage deadline is already missed, so each case also makes
    // background work (a reminder job, notifications, e-mails) that must catch up after a fault.
    const res = await call(this.base(), 'POST', '/concerns', {
      token, body: { authority, receivedOn: '2026-10-01', channel: 'peer', area: 'finance', description: `Concern ${marker}` },
    });
    const o: Outcome = { op: 'concern', marker, answer: res.answer, ms: res.ms, at, phase, code: res.body?.error };
    if (is2xx(res.answer)) {
      o.caseId = res.body.case?.id;
      o.concernId = res.body.concern?.id ?? res.body.id;
      if (o.caseId) this.cases.push(o.caseId);
    }
    this.outcomes.push(o);
  }

  private async conversation(token: string): Promise<void> {
    const marker = `fault-conversation-${randomUUID()}`;
    const caseId = this.cases[Math.floor(Math.random() * this.cases.length)];
    const at = this.now();
    const phase = this.phase;
    const res = await call(this.base(), 'POST', `/cases/${caseId}/conversations`, {
      token, body: { kind: 'call', heldOn: '2026-10-05', summary: `Call ${marker}`, handling: 'normal', externalParticipants: [{ name: marker, role: 'Leader of the council' }] },
    });
    this.outcomes.push({ op: 'conversation', marker, answer: res.answer, ms: res.ms, at, phase, code: res.body?.error, caseId, recordId: is2xx(res.answer) ? res.body?.recordId : undefined });
  }
}

/** Polls readiness until stopped, keeping every answer. */
export class ReadinessProbe {
  readonly outcomes: Outcome[] = [];
  phase = 'before';
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly base: () => string,
    private readonly now: () => number,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const at = this.now();
        const phase = this.phase;
        const res = await call(this.base(), 'GET', '/health/ready');
        this.outcomes.push({ op: 'ready', answer: res.answer, ms: res.ms, at, phase, code: res.body?.error });
        await sleep(this.everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Counts answers by status (or failure kind). */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const o of outcomes) t[String(o.answer)] = (t[String(o.answer)] ?? 0) + 1;
  return t;
}
