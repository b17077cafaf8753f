import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../../src/config/environment';
import { FieldCipher } from '../../src/encryption/field-cipher';
import { MasterKeyRing } from '../../src/encryption/key-wrapper';
import { Stack, sleep } from './infra';
import { is2xx, Outcome } from './load';

const REPO_ROOT = join(__dirname, '..', '..', '..');

export interface Check {
  name: string;
  ok: boolean;
  detail: unknown;
}

/** Polls `probe` until it returns true or the time is up; returns how long it took (ms) or null. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<number | null> {
  const started = Date.now();
  for (;;) {
    try {
      if (await probe()) return Date.now() - started;
    } catch {
      /* not yet */
    }
    if (Date.now() - started > timeoutMs) return null;
    await sleep(everyMs);
  }
}

/**
 * Every acknowledged create is in the database exactly once. Concern descriptions are encrypted
 * at rest, so they are opened with the (development) master key the service ran with; a
 * conversation's marker is its external participant's name (not encrypted).
 */
export async function exactlyOnce(owner: DataSource, outcomes: Outcome[]): Promise<Check[]> {
  const cipher = FieldCipher.withRing(MasterKeyRing.fromConfig(validateEnvironment({ NODE_ENV: 'test' }).ENCRYPTION_MASTER_KEY!));
  const concerns = await cipher.openConcerns(owner.manager, await owner.query(`SELECT id, case_id, description FROM concerns`));
  const concernCount = new Map<string, number>();
  for (const c of concerns) {
    const m = /fault-concern-[0-9a-f-]{36}/.exec(String(c.description))?.[0];
    if (m) concernCount.set(m, (concernCount.get(m) ?? 0) + 1);
  }
  const conversations: Array<{ marker: string; n: number }> = await owner.query(
    `SELECT external_participants->0->>'name' AS marker, count(*)::int AS n FROM conversation_records GROUP BY 1`);
  const conversationCount = new Map(conversations.map((r) => [r.marker, r.n]));

  const report = (op: 'concern' | 'conversation', counts: Map<string, number>): Check => {
    const sent = outcomes.filter((o) => o.op === op);
    const acked = sent.filter((o) => is2xx(o.answer));
    const missing = acked.filter((o) => (counts.get(o.marker!) ?? 0) === 0).map((o) => o.marker);
    const duplicated = [...counts.entries()].filter(([, n]) => n > 1).map(([m]) => m);
    const unacked = sent.filter((o) => !is2xx(o.answer));
    const committedUnacked = unacked.filter((o) => (counts.get(o.marker!) ?? 0) > 0).length;
    return {
      name: `every acknowledged ${op} exists exactly once`,
      ok: missing.length === 0 && duplicated.length === 0,
      detail: { sent: sent.length, acknowledged: acked.length, missing: missing.length, duplicated: duplicated.length, notAcknowledgedButCommitted: committedUnacked, inDatabase: counts.size },
    };
  };
  return [report('concern', concernCount), report('conversation', conversationCount)];
}

/** No case half-written: its concern, its gapless history from `open`, its state as the last move left it, its data key, its triage deadline. */
export async function noHalfWrittenCase(owner: DataSource): Promise<Check> {
  const [r] = await owner.query(`
    WITH t AS (
      SELECT case_id, count(*)::int AS n, max(sequence) AS last_seq, min(sequence) AS first_seq,
             (array_agg(to_state ORDER BY sequence DESC))[1] AS last_to, (array_agg(move ORDER BY sequence))[1] AS first_move
        FROM case_transitions GROUP BY case_id)
    SELECT
      (SELECT count(*) FROM cases)::int AS cases,
      (SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM concerns x WHERE x.case_id = c.id))::int AS without_concern,
      (SELECT count(*) FROM cases c LEFT JOIN t ON t.case_id = c.id
        WHERE t.case_id IS NULL OR t.first_seq <> 1 OR t.last_seq <> t.n OR t.first_move <> 'open' OR t.last_to <> c.state)::int AS bad_history,
      (SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM data_keys k WHERE k.case_id = c.id AND k.state = 'active'))::int AS without_key,
      (SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_deadlines d WHERE d.case_id = c.id))::int AS without_deadline,
      (SELECT count(*) FROM concerns x WHERE x.description IS NULL)::int AS concern_without_text,
      (SELECT count(*) FROM (SELECT reference FROM cases GROUP BY reference HAVING count(*) > 1) d)::int AS duplicate_references`);
  const ok = r.without_concern === 0 && r.bad_history === 0 && r.without_key === 0 && r.without_deadline === 0 && r.concern_without_text === 0 && r.duplicate_references === 0;
  return { name: 'no half-written case', ok, detail: r };
}

/** Waits until every audit record is sealed (and stays so for one more poll). */
export async function sealerCaughtUp(owner: DataSource, timeoutMs = 90_000): Promise<Check> {
  const counts = async () => {
    const [r] = await owner.query(`SELECT (SELECT count(*) FROM audit_events)::int AS events, (SELECT count(*) FROM audit_seals)::int AS sealed`);
    return r as { events: number; sealed: number };
  };
  const took = await waitFor(async () => {
    const c = await counts();
    return c.events > 0 && c.events === c.sealed;
  }, timeoutMs);
  return { name: 'the audit sealer caught up', ok: took !== null, detail: { ...(await counts()), waitedMs: took } };
}

/** `node dist/src/cli/cli.js audit:verify` against the private database, as the service login. */
export function auditVerifies(stack: Stack): Promise<Check> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'cli', 'cli.js'), 'audit:verify'], {
      cwd: REPO_ROOT, timeout: 120_000, env: { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: stack.serviceUrl, LOG_LEVEL: 'warn' },
    }, (error, stdout) => {
      const last = stdout.trim().split('\n').filter((l) => /^(OK|FAILED)/.test(l)).pop() ?? stdout.trim().split('\n').pop();
      resolve({ name: 'audit:verify passes', ok: !error && /^OK:/.test(last ?? ''), detail: { exitCode: error ? (error as { code?: unknown }).code ?? 'error' : 0, summary: last } });
    });
  });
}

/** Background work caught up: every missed deadline reminded, every e-mail sent, each delivered once. */
export async function jobsCaughtUp(owner: DataSource, stack: Stack, timeoutMs = 90_000, duplicatesAllowed = 0): Promise<Check> {
  const state = async () => {
    const [r] = await owner.query(`
      SELECT
        (SELECT count(*) FROM case_deadlines d WHERE d.state = 'open' AND d.due_on < current_date
            AND NOT EXISTS (SELECT 1 FROM deadline_reminders r WHERE r.deadline_id = d.id AND r.kind = 'missed'))::int AS reminders_due,
        (SELECT count(*) FROM deadline_reminders)::int AS reminders_sent,
        (SELECT count(*) FROM email_outbox WHERE status = 'pending')::int AS emails_pending,
        (SELECT count(*) FROM email_outbox WHERE status = 'sent')::int AS emails_sent,
        (SELECT count(*) FROM email_outbox WHERE status = 'dead')::int AS emails_dead`);
    return r as { reminders_due: number; reminders_sent: number; emails_pending: number; emails_sent: number; emails_dead: number };
  };
  const took = await waitFor(async () => {
    const s = await state();
    return s.reminders_due === 0 && s.emails_pending === 0 && s.reminders_sent > 0;
  }, timeoutMs, 1_000);
  const s = await state();
  const seen = new Map<string, number>();
  for (const m of stack.mail.messages) for (const to of m.to) seen.set(`${to}\u0000${m.subject}`, (seen.get(`${to}\u0000${m.subject}`) ?? 0) + 1);
  const duplicates = [...seen.values()].filter((n) => n > 1).reduce((a, n) => a + n - 1, 0);
  const delivered = stack.mail.messages.reduce((a, m) => a + m.to.length, 0);
  const ok = took !== null && s.emails_dead === 0 && delivered - duplicates === s.emails_sent && duplicates <= duplicatesAllowed;
  return { name: 'queued jobs caught up (reminders, e-mail outbox)', ok, detail: { ...s, delivered, duplicateDeliveries: duplicates, duplicatesAllowed, waitedMs: took } };
}
