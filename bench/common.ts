import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** Shared helpers of the benchmarks (never imported by src/). */

export const SERVER_URL = process.env.BENCH_DATABASE_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The least-privilege login the service (and the auditor's queries) run as in the benchmarks. */
export const BENCH_SERVICE_LOGIN = 'clearing_house_bench_service';

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** bench/results, next to the sources (the compiled script runs from dist/bench). */
export function resultsDir(): string {
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function writeResult(name: string, body: unknown): string {
  const path = join(resultsDir(), name);
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}

export async function databaseExists(name: string): Promise<boolean> {
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
    return rows.length > 0;
  } finally {
    await admin.end();
  }
}

export async function recreateDatabase(name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Refusing the database name "${name}"`);
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

/** Percentile by nearest rank over a copy of the samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function ratio(a: number, b: number): number {
  return round(a / b, 2);
}

export function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString()}] ${message}\n`);
}

/** What the figures were measured on. */
export async function machineFacts(): Promise<Record<string, unknown>> {
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  let postgres = '';
  const settings: Record<string, string> = {};
  try {
    postgres = (await admin.query(`SELECT version() AS v`)).rows[0].v;
    for (const s of ['shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost', 'max_wal_size', 'autovacuum', 'jit']) {
      settings[s] = (await admin.query(`SELECT current_setting($1) AS v`, [s])).rows[0].v;
    }
  } finally {
    await admin.end();
  }
  let loadAverage = '';
  try {
    loadAverage = execSync('cat /proc/loadavg').toString().trim();
  } catch {
    /* not Linux */
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    postgres,
    postgresSettings: settings,
    loadAverageAtStart: loadAverage,
    sharedBy: 'PostgreSQL, Redis, the service and the load generator share the CPUs',
  };
}

export function loadAverage(): string {
  try {
    return execSync('cat /proc/loadavg').toString().trim();
  } catch {
    return '';
  }
}

export function flag(args: string[], name: string): boolean {
  return args.includes(name);
}

export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}

export function numberOption(args: string[], name: string, fallback: number): number {
  const raw = option(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return n;
}
