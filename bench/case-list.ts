import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { runMigrations } from '../src/database/migrations';
import { ensureServiceLogin, withUser } from '../src/database/service-role';
import {
  BENCH_SERVICE_LOGIN, databaseExists, databaseUrl, flag, loadAverage, log, machineFacts, numberOption, option, percentile, ratio, resultsDir, round, today,
  writeResult,
} from './common';
import { bootInChild, bootService, captureQueries, LIST_PAGE_STATEMENT, LIST_PAGES, listItems, load, serviceSettings, signIn } from './http';
import type { LoadResult } from './http-load';
import { SEED_ACTORS, seedEmail } from './seed';
import { json } from './service-app';

/**
 * The scoped case list (issue 7), side by side in one run, on the two seeded databases
 * (bench/seed.ts: 100,000 and 10,000 cases):
 *
 *   npm run build && node dist/bench/case-list.js [--database ch_bench_seed] [--small-database ch_bench_seed_10k]
 *                                                  [--connections 8] [--rounds 3] [--duration 5] [--warmup 2]
 *                                                  [--skip-equivalence] [--tag name]
 *
 * For a clearing-house officer, a manager, a RIEP facilitator and a lead political peer:
 * - `GET /cases` through the real service (bench/http.ts's in-process service on the big
 *   database, a child process on the small one), the first 20 pages of 25 in turn;
 * - the same SQL directly with `pg` as the service login, over a pool of the service's size: for
 *   each page, the statements the service sent for it, captured from the driver — BEGIN, the
 *   row-level-security settings (`actAsUser`), the page, the bounded count when it ran, COMMIT;
 * - on both databases, alternately (API big, SQL big, API small, SQL small, for each round).
 * Before the load: `EXPLAIN (ANALYZE, BUFFERS)` of each role's first page as the service runs it
 * (warm: the second of two runs); with the fast policy in place, the 2 x 2 of old/new statement
 * (window count or not) and old/new `cases` policy in SQL (the old policy put back inside a
 * transaction that is rolled back); and a check that the new policy admits exactly the cases the
 * old functions did, for users of every role and the awkward cases (recusal, grants, a removed
 * team member, a disabled user), also inside a rolled-back transaction.
 */

type Role = 'officer' | 'manager' | 'riep' | 'peer';
const ROLES: Role[] = ['officer', 'manager', 'riep', 'peer'];
const ACTOR_KEY: Record<Role, number> = {
  officer: SEED_ACTORS.officer, manager: SEED_ACTORS.manager, riep: SEED_ACTORS.riepFacilitator, peer: SEED_ACTORS.leadPoliticalPeer,
};

interface Statement {
  sql: string;
  params: unknown[];
}

/** What one role's list requests sent to PostgreSQL, page by page. */
interface Captured {
  settings: Statement[];
  pages: Statement[][];
}

/** The `cases` policies before migrations/1764381700000-FastCaseVisibility.ts, for the 2 x 2 in SQL. */
const OLD_POLICIES = [
  `ALTER POLICY rls_read ON cases USING (ch_system_context() IN ('statistics', 'retention', 'audit', 'deadlines', 'break_glass_review')
     OR ch_case_visible(id, authority_id, referred_to_riep_at, restricted_to_team, restricted_by, false))`,
  `ALTER POLICY rls_not_recused ON cases USING (NOT ch_is_recused(id))`,
];

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, application_name: 'bench-case-list' });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

async function fastPolicyInPlace(url: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(`SELECT qual FROM pg_policies WHERE tablename = 'cases' AND policyname = 'rls_read'`);
    return String(rows[0]?.qual ?? '').includes('ch_team_case_ids');
  });
}

/**
 * The user each role signs in as: the seed's actor of that role (bench/seed.ts, SEED_ACTORS), or
 * the next user of the same role (key + 100) while that one has a second factor in either database
 * (a manager enrols one at their first sign-in, and a later run cannot sign in as them again).
 */
async function chooseActors(urls: string[]): Promise<Record<Role, string>> {
  const out = {} as Record<Role, string>;
  for (const role of ROLES) {
    for (let k = ACTOR_KEY[role]; ; k += 100) {
      let free = true;
      for (const url of urls) {
        free &&= await withClient(url, async (c) =>
          (await c.query(`SELECT 1 FROM users u WHERE u.email = $1 AND NOT EXISTS (SELECT 1 FROM mfa_factors f WHERE f.user_id = u.id)`, [seedEmail(k)])).rows.length === 1);
      }
      if (free) {
        out[role] = seedEmail(k);
        break;
      }
      if (k > 3000) throw new Error(`no ${role} without a second factor left`);
    }
  }
  return out;
}

/** Signs each role in (once per database: the tokens serve the later runs) and captures the statements of its list requests. */
async function captureLists(ownerUrl: string, prefix: string, actors: Record<Role, string>): Promise<{ captured: Record<Role, Captured>; tokens: Record<Role, string> }> {
  const capture = captureQueries();
  const booted = await bootService(serviceSettings(ownerUrl, prefix));
  try {
    const captured = {} as Record<Role, Captured>;
    const tokens = {} as Record<Role, string>;
    for (const role of ROLES) {
      tokens[role] = await signIn(booted.url, actors[role]);
      const pages: Statement[][] = [];
      let settings: Statement[] = [];
      for (const item of listItems()) {
        capture.start();
        const r = await json('GET', `${booted.url}${item.path}`, undefined, tokens[role]);
        if (r.status !== 200) throw new Error(`list as ${role}: ${r.status}`);
        const all = capture.all();
        capture.find(LIST_PAGE_STATEMENT); // stops capturing
        settings = all.filter((q) => /set_config/i.test(q.sql));
        pages.push(all.filter((q) => q.sql.includes('FROM cases c JOIN authorities a')));
      }
      captured[role] = { settings, pages };
    }
    return { captured, tokens };
  } finally {
    await booted.app.close();
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of statements as the service login, after the request's settings; the second of two runs. */
async function explain(loginUrl: string, settings: Statement[], statements: Statement[], before: string[] = [], asOwner = false): Promise<Array<{ plan: string[]; executionMs: number }>> {
  return withClient(loginUrl, async (c) => {
    const out: Array<{ plan: string[]; executionMs: number }> = [];
    for (const q of statements) {
      let plan: string[] = [];
      for (let run = 0; run < 2; run++) {
        await c.query('BEGIN');
        try {
          for (const sql of before) await c.query(sql);
          if (asOwner) await c.query(`SET LOCAL ROLE ${BENCH_SERVICE_LOGIN}`);
          for (const s of settings) await c.query(s.sql, s.params);
          const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.params);
          plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']);
        } finally {
          await c.query('ROLLBACK');
        }
      }
      const ms = Number(/Execution Time: ([\d.]+) ms/.exec(plan.join('\n'))?.[1] ?? NaN);
      out.push({ plan, executionMs: ms });
    }
    return out;
  });
}

/** The page statement as it was before issue 7: the total from a window over every visible row. */
const withWindowCount = (page: Statement): Statement => ({
  sql: page.sql.replace('c.version, ', 'c.version, count(*) OVER () AS total, '),
  params: page.params,
});

/**
 * The new `cases` policies against the old functions: for each user (and two system contexts),
 * the cases the service login sees under row-level security vs those that
 * `ch_case_visible(..., false) AND NOT ch_is_recused(id)` admits, evaluated as the owner.
 * Inside one transaction that is rolled back, after making the awkward cases exist.
 */
async function checkEquivalence(ownerUrl: string): Promise<Record<string, unknown>> {
  return withClient(ownerUrl, async (c) => {
    const uid = async (k: number) => (await c.query(`SELECT id FROM users WHERE email = $1`, [seedEmail(k)])).rows[0].id as string;
    await c.query('BEGIN');
    try {
      const officer = await uid(SEED_ACTORS.officer);
      const manager = await uid(SEED_ACTORS.manager);
      const manager2 = await uid(SEED_ACTORS.manager + 1);
      const riep = await uid(SEED_ACTORS.riepFacilitator);
      const peer = await uid(SEED_ACTORS.leadPoliticalPeer);
      const peer2 = await uid(SEED_ACTORS.leadPoliticalPeer + 1);
      // The officer recused from the newest case they are on the team of; the RIEP facilitator from one referred case of their region.
      await c.query(`INSERT INTO case_recusals (case_id, user_id, reason) SELECT case_id, $1, 'bench' FROM case_team_members WHERE user_id = $1 AND removed_at IS NULL ORDER BY case_id LIMIT 1`, [officer]);
      await c.query(
        `INSERT INTO case_recusals (case_id, user_id, reason) SELECT c.id, $1, 'bench' FROM cases c JOIN authorities a ON a.id = c.authority_id
          WHERE a.region = (SELECT region FROM users WHERE id = $1) AND c.referred_to_riep_at IS NOT NULL ORDER BY c.id LIMIT 1`, [riep]);
      // The manager: an unexpired grant on two restricted cases they did not restrict; the second manager an expired one.
      const reason = 'benchmark: equivalence of the row-level-security policies';
      await c.query(
        `INSERT INTO break_glass_grants (case_id, user_id, reason, expires_at) SELECT id, $1, $2, now() + interval '1 hour' FROM cases
          WHERE restricted_to_team AND restricted_by IS DISTINCT FROM $1 ORDER BY id LIMIT 2`, [manager, reason]);
      await c.query(
        `INSERT INTO break_glass_grants (case_id, user_id, reason, granted_at, expires_at) SELECT id, $1, $2, now() - interval '2 hours', now() - interval '1 hour' FROM cases
          WHERE restricted_to_team AND restricted_by IS DISTINCT FROM $1 ORDER BY id LIMIT 2`, [manager2, reason]);
      // The peer taken off one team (and put on a restricted case's); the second peer disabled.
      await c.query(`UPDATE case_team_members SET removed_at = now(), removed_by = added_by WHERE ctid = (SELECT ctid FROM case_team_members WHERE user_id = $1 AND removed_at IS NULL ORDER BY case_id LIMIT 1)`, [peer]);
      await c.query(
        `INSERT INTO case_team_members (case_id, user_id, team_role, added_by) SELECT id, $1, 'lead_political_peer', opened_by FROM cases
          WHERE restricted_to_team AND NOT EXISTS (SELECT 1 FROM case_team_members t WHERE t.case_id = cases.id AND t.user_id = $1) ORDER BY id LIMIT 1`, [peer]);
      await c.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [peer2]);
      const keys = [0, 1, 2, 60, 61, 62, 70, 71, 72, 73, 85, 86, 87, 95, 98, 3000];
      const who: Array<{ label: string; user: string; system: string }> = [];
      for (const k of keys) who.push({ label: `user ${k}`, user: await uid(k), system: '' });
      who.push({ label: 'unknown user', user: '00000000-0000-4000-8000-000000000000', system: '' });
      who.push({ label: 'no settings', user: '', system: '' });
      who.push({ label: 'system statistics', user: '', system: 'statistics' });
      who.push({ label: 'system encryption', user: '', system: 'encryption' });
      const digest = `SELECT count(*)::int AS n, coalesce(md5(string_agg(id::text, ',' ORDER BY id)), '') AS h FROM cases c`;
      const rows: Array<Record<string, unknown>> = [];
      for (const w of who) {
        await c.query(`SELECT set_config('clearing_house.user_id', $1, true), set_config('clearing_house.system', $2, true)`, [w.user, w.system]);
        await c.query(`SET LOCAL ROLE ${BENCH_SERVICE_LOGIN}`);
        const rls = (await c.query(digest)).rows[0];
        await c.query('RESET ROLE');
        const system = w.system && ['statistics', 'retention', 'audit', 'deadlines', 'break_glass_review'].includes(w.system);
        const reference = (await c.query(
          system ? digest : `${digest} WHERE ch_case_visible(c.id, c.authority_id, c.referred_to_riep_at, c.restricted_to_team, c.restricted_by, false) AND NOT ch_is_recused(c.id)`,
        )).rows[0];
        rows.push({ who: w.label, role: w.user ? (await c.query(`SELECT role FROM users WHERE id = $1`, [w.user])).rows[0]?.role ?? null : null, newPolicy: rls.n, oldFunctions: reference.n, same: rls.n === reference.n && rls.h === reference.h });
      }
      return { allSame: rows.every((r) => r.same), users: rows };
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

interface Run {
  db: 'big' | 'small';
  variant: 'api' | 'sql';
  round: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<string, number>;
}

function cell(db: Run['db'], variant: Run['variant'], roundNo: number, r: LoadResult): Run {
  const ok = Object.entries(r.statuses).filter(([s]) => s.startsWith('2') || s === 'ok').reduce((a, [, n]) => a + n, 0);
  return {
    db, variant, round: roundNo, requestsPerSecond: round(ok / r.seconds, 1), p50Ms: round(percentile(r.latenciesMs, 50)), p99Ms: round(percentile(r.latenciesMs, 99)),
    statuses: r.statuses,
  };
}

export async function runCaseList(argv: string[] = process.argv.slice(2)): Promise<Record<string, unknown>> {
  const bigName = option(argv, '--database') ?? 'ch_bench_seed';
  const smallName = option(argv, '--small-database') ?? 'ch_bench_seed_10k';
  const connections = numberOption(argv, '--connections', 8);
  const rounds = numberOption(argv, '--rounds', 3);
  const duration = numberOption(argv, '--duration', 5);
  const warmup = numberOption(argv, '--warmup', 2);
  const tag = option(argv, '--tag') ? `-${option(argv, '--tag')}` : '';
  for (const name of [bigName, smallName]) {
    if (!(await databaseExists(name))) throw new Error(`database ${name} does not exist: run npm run bench:seed first (see bench/README.md)`);
  }
  const started = Date.now();
  const machine = await machineFacts();
  const dbs = { big: { name: bigName, url: databaseUrl(bigName) }, small: { name: smallName, url: databaseUrl(smallName) } };
  const migrated: Record<string, string[]> = {};
  const sizes: Record<string, unknown> = {};
  for (const d of Object.values(dbs)) {
    // Migrations added since the seed are applied as the owner, as a deployment would.
    migrated[d.name] = await runMigrations(d.url);
    await ensureServiceLogin(d.url, BENCH_SERVICE_LOGIN);
    sizes[d.name] = await withClient(d.url, async (c) => (await c.query(`SELECT (SELECT count(*)::int FROM cases) AS cases, pg_database_size(current_database())::bigint AS bytes`)).rows[0]);
  }
  const fast = await fastPolicyInPlace(dbs.big.url);
  log(`case-list: ${bigName} / ${smallName}, ${fast ? 'fast' : 'old'} cases policy, ${connections} connections, ${rounds} rounds of ${duration} s; migrations applied: ${JSON.stringify(migrated)}`);

  const equivalence: Record<string, unknown> = {};
  if (fast && !flag(argv, '--skip-equivalence')) {
    for (const [label, d] of Object.entries(dbs)) {
      equivalence[label] = await checkEquivalence(d.url);
      log(`  equivalence on ${d.name}: ${(equivalence[label] as { allSame: boolean }).allSame ? 'the same cases for every user' : 'DIFFERENT (see the result file)'}`);
    }
  }

  // The statements of each role's list requests, on each database (the small one first: the big one's service stays up).
  const actors = await chooseActors([dbs.big.url, dbs.small.url]);
  const smallRun = await captureLists(dbs.small.url, `chbench_list_s_${process.pid}`, actors);
  const bigRun = await captureLists(dbs.big.url, `chbench_list_b_${process.pid}`, actors);
  const captured = { small: smallRun.captured, big: bigRun.captured };
  const plans: string[] = [];
  const explained: Record<string, unknown> = {};
  const twoByTwo: Record<string, unknown> = {};
  for (const [label, d] of Object.entries(dbs) as Array<['big' | 'small', { name: string; url: string }]>) {
    const login = withUser(d.url, BENCH_SERVICE_LOGIN);
    for (const role of ROLES) {
      const cap = captured[label][role];
      const first = cap.pages[0];
      const e = await explain(login, cap.settings, first);
      explained[`${label}.${role}`] = { statements: first.length, executionMs: e.map((x) => x.executionMs) };
      plans.push(`==== ${d.name}, ${role}, first page: ${first.length} statement(s) ====`);
      first.forEach((q, i) => plans.push(`-- ${q.sql.replace(/\s+/g, ' ').trim()}`, ...e[i].plan, ''));
      if (fast) {
        // Old and new statement under old and new policy (the old policy only inside the rolled-back transaction).
        const page = first.find((q) => q.sql.includes(LIST_PAGE_STATEMENT))!;
        const oldSql = withWindowCount(page);
        const sum = (xs: Array<{ executionMs: number }>) => round(xs.reduce((a, x) => a + x.executionMs, 0));
        const cells = {
          oldStatementOldPolicyMs: sum(await explain(d.url, cap.settings, [oldSql], OLD_POLICIES, true)),
          oldStatementNewPolicyMs: sum(await explain(login, cap.settings, [oldSql])),
          newStatementsOldPolicyMs: sum(await explain(d.url, cap.settings, first, OLD_POLICIES, true)),
          newStatementsNewPolicyMs: sum(e),
        };
        twoByTwo[`${label}.${role}`] = cells;
        log(`  ${d.name} ${role}: ${JSON.stringify(cells)}`);
      }
    }
  }
  const planFile = join(resultsDir(), `case-list-${today()}${tag}.plans.txt`);
  writeFileSync(planFile, `${plans.join('\n')}\n`);

  // The load: the big database's service in this process, the small one's in a child.
  const big = await bootService(serviceSettings(dbs.big.url, `chbench_list_big_${process.pid}`));
  const small = await bootInChild(dbs.small.url, `chbench_list_small_${process.pid}`);
  const poolSize = serviceSettings(dbs.big.url, 'x').DATABASE_POOL_SIZE;
  const ratios: Record<string, unknown> = {};
  try {
    const apps = { big: { url: big.url, tokens: bigRun.tokens }, small: { url: small.url, tokens: smallRun.tokens } };
    for (const role of ROLES) {
      const runs: Run[] = [];
      const api = (db: 'big' | 'small', seconds: number) =>
        load({ kind: 'http', url: apps[db].url, items: listItems(), headers: { authorization: `Bearer ${apps[db].tokens[role]}` }, connections, durationSeconds: seconds });
      const sql = (db: 'big' | 'small', seconds: number) => {
        const cap = captured[db][role];
        const sequences = cap.pages.map((page) => [{ sql: 'BEGIN', params: [] }, ...cap.settings, ...page, { sql: 'COMMIT', params: [] }]);
        return load({ kind: 'sql', connectionString: withUser(dbs[db].url, BENCH_SERVICE_LOGIN), sql: '', paramsList: [[]], sequences, poolSize, connections, durationSeconds: seconds });
      };
      for (const db of ['big', 'small'] as const) {
        await api(db, warmup);
        await sql(db, warmup);
      }
      for (let r = 1; r <= rounds; r++) {
        for (const db of ['big', 'small'] as const) {
          runs.push(cell(db, 'api', r, await api(db, duration)));
          runs.push(cell(db, 'sql', r, await sql(db, duration)));
        }
      }
      const mean = (db: Run['db'], variant: Run['variant'], k: 'requestsPerSecond' | 'p50Ms' | 'p99Ms') => {
        const xs = runs.filter((x) => x.db === db && x.variant === variant).map((x) => x[k]);
        return xs.reduce((a, x) => a + x, 0) / xs.length;
      };
      const side = (db: Run['db']) => ({
        apiRequestsPerSecond: round(mean(db, 'api', 'requestsPerSecond'), 1), sqlPerSecond: round(mean(db, 'sql', 'requestsPerSecond'), 1),
        apiOverSql: ratio(mean(db, 'api', 'requestsPerSecond'), mean(db, 'sql', 'requestsPerSecond')),
        apiP50Ms: round(mean(db, 'api', 'p50Ms')), apiP99Ms: round(mean(db, 'api', 'p99Ms')), sqlP50Ms: round(mean(db, 'sql', 'p50Ms')), sqlP99Ms: round(mean(db, 'sql', 'p99Ms')),
      });
      ratios[role] = {
        big: side('big'),
        small: side('small'),
        bigOverSmall: {
          apiP50: ratio(mean('big', 'api', 'p50Ms'), mean('small', 'api', 'p50Ms')), apiP99: ratio(mean('big', 'api', 'p99Ms'), mean('small', 'api', 'p99Ms')),
          apiThroughput: ratio(mean('big', 'api', 'requestsPerSecond'), mean('small', 'api', 'requestsPerSecond')),
          sqlP50: ratio(mean('big', 'sql', 'p50Ms'), mean('small', 'sql', 'p50Ms')), sqlThroughput: ratio(mean('big', 'sql', 'requestsPerSecond'), mean('small', 'sql', 'requestsPerSecond')),
        },
        runs,
      };
      const b = ratios[role] as { big: ReturnType<typeof side>; small: ReturnType<typeof side>; bigOverSmall: Record<string, number> };
      log(`  ${role}: API/SQL big ${b.big.apiOverSql} (${b.big.apiRequestsPerSecond} vs ${b.big.sqlPerSecond}/s), small ${b.small.apiOverSql}; big/small API p50 ${b.bigOverSmall.apiP50}x, req/s ${b.bigOverSmall.apiThroughput}x (load ${loadAverage()})`);
    }
  } finally {
    await big.app.close().catch(() => undefined);
    small.stop();
  }

  const result = {
    benchmark: 'case-list',
    date: new Date().toISOString(),
    machine,
    settings: {
      databases: { big: bigName, small: smallName }, sizes, migrationsAppliedBeforeTheRun: migrated, casesPolicy: fast ? 'plain SQL (migrations/1764381700000-FastCaseVisibility.ts)' : 'per-row plpgsql ch_case_visible',
      connections, rounds, durationSeconds: duration, warmupSeconds: warmup, databasePoolSize: poolSize, serviceLogin: BENCH_SERVICE_LOGIN,
      listRequest: `GET /cases?limit=25&offset=0..${(LIST_PAGES - 1) * 25} (the first ${LIST_PAGES} pages in turn)`,
      sqlFloor: 'per page: BEGIN, the set_config of actAsUser, the statements the service sent for that page (the page; the bounded count when it ran), COMMIT; as the service login, pool of the service size',
      order: 'per role: warm-up of each; then rounds of API big, SQL big, API small, SQL small',
      actors,
      plans: planFile,
    },
    statementsPerFirstPage: Object.fromEntries(ROLES.map((r) => [r, { big: captured.big[r].pages[0].length, small: captured.small[r].pages[0].length }])),
    explain: explained,
    sqlTwoByTwo: fast ? twoByTwo : 'the fast policy is not in place (a run of the code before issue 7)',
    equivalence: fast ? equivalence : 'skipped',
    ratios,
    loadAverageAtEnd: loadAverage(),
    totalSeconds: round((Date.now() - started) / 1000, 1),
  };
  const file = writeResult(`case-list-${today()}${tag}.json`, result);
  log(`case-list: results in ${file}`);
  return result;
}

if (require.main === module) {
  runCaseList().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
