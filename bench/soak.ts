import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { numberOption, option, today, writeResult } from './common';
import { cleanUp, createStack, sleep, Stack, stamp } from './faults/infra';
import { Answer, call, is2xx, signIn } from './faults/load';

/**
 * Soak run (issue 7, point 6; not in CI):
 *
 *   npm run bench:soak -- --users 200 --minutes 10 [--think-ms 2000] [--out name.json]
 *
 * The real service (node dist/src/main.js) on a private PostgreSQL and Redis (bench/faults/infra.ts),
 * and N simulated users, each a loop with a random think time (uniform 0.5x to 1.5x --think-ms):
 * 9 in 10 are clearing-house officers, 1 in 10 auditors. An officer mostly reads (the case list,
 * a case and its conversations, a case's history) and sometimes writes (logs a concern, records a
 * conversation, moves one of their own cases on: start_triage, then follow_up); an auditor searches
 * the trail of a case or its access history. Reports errors (any answer other than 2xx, or none
 * within 10 s; target 0), latency percentiles per minute and per operation, and the service
 * process's RSS sampled every 10 s (start, end, and a least-squares slope per minute).
 */

const TIMEOUT_MS = 10_000;

interface Sample {
  op: string;
  at: number;
  ms: number;
  answer: Answer;
}

interface OwnCase {
  id: string;
  version: number;
  state: 'concern_raised' | 'triage' | 'sensitive_conversation';
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] * 10) / 10;
}

function slope(points: Array<{ t: number; v: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  const num = points.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0);
  const den = points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const users = numberOption(args, '--users', 200);
  const minutes = numberOption(args, '--minutes', 10);
  const thinkMs = numberOption(args, '--think-ms', 2_000);
  const auditors = Math.max(1, Math.round(users / 10));
  const officers = users - auditors;
  let stack: Stack | undefined;
  const samples: Sample[] = [];
  const rss: Array<{ atSeconds: number; rssMiB: number }> = [];
  try {
    stamp(`soak: ${users} users (${officers} officers, ${auditors} auditors) for ${minutes} min; creating the private stack`);
    stack = await createStack('soak', { officers, managers: 1, auditors, extraEnv: { LOG_LEVEL: 'error', DATABASE_POOL_SIZE: '10' } });
    const s = stack;
    const base = s.service.url;
    const officerTokens: string[] = [];
    for (const u of s.users.officers) officerTokens.push(await signIn(base, u.email));
    const auditorTokens: string[] = [];
    for (const u of s.users.auditors) auditorTokens.push(await signIn(base, u.email));
    const authorities: string[] = [];
    {
      const { Client } = await import('pg');
      const c = new Client({ connectionString: s.ownerUrl });
      await c.connect();
      authorities.push(...(await c.query(`SELECT code FROM authorities WHERE is_current ORDER BY code`)).rows.map((r: { code: string }) => r.code));
      await c.end();
    }
    const allCases: string[] = [];
    let conflicts = 0;
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    const record = async (op: string, method: string, path: string, token: string, body?: unknown) => {
      const at = now();
      const res = await call(base, method, path, { token, body, timeoutMs: TIMEOUT_MS });
      samples.push({ op, at, ms: res.ms, answer: res.answer });
      return res;
    };
    const endAt = minutes * 60_000;
    const think = () => sleep(thinkMs * (0.5 + Math.random()));

    const logConcern = async (token: string, own: OwnCase[]) => {
      const res = await record('concern_create', 'POST', '/concerns', token, {
        authority: authorities[Math.floor(Math.random() * authorities.length)], receivedOn: new Date().toISOString().slice(0, 10), channel: 'peer', area: 'finance',
        description: `Soak concern ${Math.random().toString(36).slice(2)}`,
      });
      if (is2xx(res.answer)) {
        own.push({ id: res.body.case.id, version: res.body.case.version, state: 'concern_raised' });
        allCases.push(res.body.case.id);
      }
    };

    const officer = async (token: string) => {
      const own: OwnCase[] = [];
      await sleep(Math.random() * thinkMs);
      await logConcern(token, own);
      while (now() < endAt) {
        await think();
        const r = Math.random();
        const pick = () => allCases[Math.floor(Math.random() * allCases.length)];
        if (r < 0.4) await record('case_list', 'GET', '/cases?limit=20', token);
        else if (r < 0.6) {
          const id = pick();
          await record('case_read', 'GET', `/cases/${id}`, token);
          await record('conversation_list', 'GET', `/cases/${id}/conversations`, token);
        } else if (r < 0.7) await record('case_history', 'GET', `/cases/${pick()}/history`, token);
        else if (r < 0.8) await logConcern(token, own);
        else if (r < 0.9) {
          await record('conversation_create', 'POST', `/cases/${pick()}/conversations`, token, {
            kind: 'call', heldOn: new Date().toISOString().slice(0, 10), summary: 'Soak call', handling: 'normal', externalParticipants: [{ name: 'Cllr Soak', role: 'Leader' }],
          });
        } else {
          // Moves only on this user's own cases, with the version it holds: no 409 from its own races.
          const c = own.find((x) => x.state !== 'sensitive_conversation');
          if (!c) {
            await logConcern(token, own);
            continue;
          }
          const move = c.state === 'concern_raised' ? 'start_triage' : 'follow_up';
          // As a user does: open the case (others' conversation records move its version on), then move it.
          // A 409 (someone changed it in between) is read again and retried once, as the API asks of clients.
          for (let attempt = 0; attempt < 2; attempt++) {
            const read = await record('case_read', 'GET', `/cases/${c.id}`, token);
            if (!is2xx(read.answer)) break;
            const res = await call(base, 'POST', `/cases/${c.id}/moves`, { token, body: { move, version: read.body.version }, timeoutMs: TIMEOUT_MS });
            if (res.answer === 409 && attempt === 0) {
              conflicts += 1;
              continue;
            }
            samples.push({ op: 'workflow_move', at: now() - res.ms, ms: res.ms, answer: res.answer });
            if (is2xx(res.answer)) {
              c.version = res.body.version;
              c.state = res.body.state;
            }
            break;
          }
        }
      }
    };

    const auditor = async (token: string) => {
      await sleep(Math.random() * thinkMs);
      while (now() < endAt) {
        await think();
        const id = allCases[Math.floor(Math.random() * allCases.length)];
        if (!id) continue;
        if (Math.random() < 0.6) await record('auditor_search', 'GET', `/audit/events?caseId=${id}&limit=50`, token);
        else await record('auditor_case_trail', 'GET', `/audit/cases/${id}`, token);
      }
    };

    const sampler = (async () => {
      while (now() < endAt + 1_000) {
        const kib = s.service.rssKib();
        if (kib !== null) rss.push({ atSeconds: Math.round(now() / 1000), rssMiB: Math.round((kib / 1024) * 10) / 10 });
        await sleep(10_000);
      }
    })();
    stamp(`soak: load started`);
    const ticker = setInterval(() => {
      const minute = samples.filter((x) => x.at > now() - 60_000);
      const errors = minute.filter((x) => !is2xx(x.answer)).length;
      stamp(`soak: ${Math.round(now() / 1000)} s, last minute ${minute.length} requests, ${errors} errors, p99 ${pct(minute.map((x) => x.ms), 99)} ms, RSS ${rss.at(-1)?.rssMiB ?? '?'} MiB`);
    }, 60_000);
    await Promise.all([...officerTokens.map((t) => officer(t)), ...auditorTokens.map((t) => auditor(t)), sampler]);
    clearInterval(ticker);

    const errors = samples.filter((x) => !is2xx(x.answer));
    const byMinute = Array.from({ length: Math.ceil(minutes) }, (_, m) => {
      const inMinute = samples.filter((x) => x.at >= m * 60_000 && x.at < (m + 1) * 60_000);
      const lat = inMinute.map((x) => x.ms);
      return {
        minute: m + 1, requests: inMinute.length, requestsPerSecond: Math.round((inMinute.length / 60) * 10) / 10,
        errors: inMinute.filter((x) => !is2xx(x.answer)).length, p50Ms: pct(lat, 50), p90Ms: pct(lat, 90), p99Ms: pct(lat, 99), maxMs: pct(lat, 100),
      };
    });
    const ops = [...new Set(samples.map((x) => x.op))].sort();
    const byOperation = Object.fromEntries(ops.map((op) => {
      const of = samples.filter((x) => x.op === op);
      const lat = of.map((x) => x.ms);
      return [op, { requests: of.length, errors: of.filter((x) => !is2xx(x.answer)).length, p50Ms: pct(lat, 50), p90Ms: pct(lat, 90), p99Ms: pct(lat, 99) }];
    }));
    const errorKinds: Record<string, number> = {};
    for (const e of errors) errorKinds[`${e.op}:${e.answer}`] = (errorKinds[`${e.op}:${e.answer}`] ?? 0) + 1;
    // The first minute warms up (JIT, caches, pools): the trend is taken over the rest.
    const steady = rss.filter((p) => p.atSeconds >= 60).map((p) => ({ t: p.atSeconds / 60, v: p.rssMiB }));
    const body = {
      command: `npm run bench:soak -- ${args.join(' ')}`.trim(),
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAverageAtEnd: loadavg().map((l) => l.toFixed(2)).join(' '), note: 'shared 2-core machine; service, PostgreSQL, Redis and the load generator on the same machine' },
      settings: { users, officers, auditors, minutes, thinkMs, clientTimeoutMs: TIMEOUT_MS, mix: 'officer: 40% case list, 20% case read + its conversations, 10% history, 10% concern create, 10% conversation record, 10% workflow move (read, move with the version read, one retry on 409); auditor: 60% trail search by case, 40% who saw a case' },
      totals: { requests: samples.length, errors: errors.length, versionConflictsRetried: conflicts, errorKinds, requestsPerSecond: Math.round((samples.length / (minutes * 60)) * 10) / 10, p50Ms: pct(samples.map((x) => x.ms), 50), p99Ms: pct(samples.map((x) => x.ms), 99) },
      byMinute,
      byOperation,
      memory: {
        rssStartMiB: rss[0]?.rssMiB ?? null, rssEndMiB: rss.at(-1)?.rssMiB ?? null, rssMaxMiB: Math.max(...rss.map((p) => p.rssMiB)),
        slopeMiBPerMinuteAfterFirstMinute: Math.round(slope(steady) * 100) / 100, samples: rss,
      },
      ok: errors.length === 0,
    };
    const standard = users === 200 && minutes === 10;
    const path = writeResult(option(args, '--out') ?? (standard ? `soak-${today()}.json` : `soak-${today()}-${users}u-${minutes}m.json`), body);
    stamp(`soak: ${samples.length} requests, ${errors.length} errors, RSS ${body.memory.rssStartMiB} -> ${body.memory.rssEndMiB} MiB; results in ${path}`);
    process.exitCode = body.ok ? 0 : 1;
  } finally {
    if (stack) await cleanUp(stack);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
