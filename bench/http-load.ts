/**
 * One load run in its own process, so the load generator never shares the event loop of the
 * service under test. Forked by bench/http.ts; answers with every response time.
 *
 * - kind 'http': autocannon over a list of requests (method, path, body), taken in turn; with
 *   `once`, each request is sent at most once (workflow moves: every move needs a fresh case).
 * - kind 'sql': the same closed loop (N concurrent callers, each waiting for its answer) running
 *   one SQL statement directly with `pg` through a pool, the floor a service's query cannot beat.
 */
import { Pool } from 'pg';

// autocannon ships no type declarations; the little used here is typed below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => AutocannonInstance;

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'done', listener: (result: { errors: number; timeouts: number; duration: number }) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  stop(): void;
}

export interface HttpItem {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

export interface HttpLoad {
  kind: 'http';
  url: string;
  items: HttpItem[];
  once?: boolean;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface SqlLoad {
  kind: 'sql';
  connectionString: string;
  sql: string;
  paramsList: unknown[][];
  /** Instead of `sql`: every statement of one request, replayed in order on one connection per iteration. */
  sequence?: Array<{ sql: string; params: unknown[] }>;
  /** Instead of `sequence`: several such requests, taken in turn (e.g. one per page of a list). */
  sequences?: Array<Array<{ sql: string; params: unknown[] }>>;
  poolSize: number;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  latenciesMs: number[];
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  seconds: number;
  itemsUsed: number;
  /** The first failure of a SQL load, for the log (a floor that fails is no floor). */
  firstError?: string;
}

function runHttp(req: HttpLoad): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const started = Date.now();
    let stopped = false;
    const instance = autocannon({
      url: req.url,
      connections: req.connections,
      duration: req.durationSeconds,
      headers: { ...req.headers, 'content-type': 'application/json' },
      requests: [
        {
          setupRequest: (r: Record<string, unknown>) => {
            if (req.once && next >= req.items.length) {
              // Out of fresh items: stop early rather than send a request bound to conflict.
              if (!stopped) {
                stopped = true;
                setImmediate(() => instance.stop());
              }
              const item = req.items[req.items.length - 1];
              return { ...r, method: item.method, path: item.path, body: item.body };
            }
            const item = req.items[next++ % req.items.length];
            return { ...r, method: item.method, path: item.path, body: item.body };
          },
        },
      ],
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
    instance.on('error', reject);
    instance.on('done', (result) => {
      resolve({ latenciesMs: latencies, statuses, errors: result.errors, timeouts: result.timeouts, seconds: (Date.now() - started) / 1000, itemsUsed: Math.min(next, req.items.length) });
    });
  });
}

async function runSql(req: SqlLoad): Promise<LoadResult> {
  const pool = new Pool({ connectionString: req.connectionString, max: req.poolSize, application_name: 'bench-raw-sql' });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  try {
    // Open the pool's connections before the clock starts, as the service's pool already is.
    await Promise.all(Array.from({ length: req.poolSize }, () => pool.query('SELECT 1')));
    const started = Date.now();
    const until = started + req.durationSeconds * 1000;
    const caller = async () => {
      while (Date.now() < until) {
        const i = next++;
        const params = req.paramsList[i % req.paramsList.length];
        const sequence = req.sequences ? req.sequences[i % req.sequences.length] : req.sequence;
        const t0 = process.hrtime.bigint();
        try {
          if (sequence) {
            const client = await pool.connect();
            try {
              for (const q of sequence) await client.query(q.sql, q.params);
            } catch (error) {
              // An aborted transaction must not go back to the pool.
              await client.query('ROLLBACK').catch(() => undefined);
              throw error;
            } finally {
              client.release();
            }
          } else {
            await pool.query(req.sql, params);
          }
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: req.connections }, caller));
    return { latenciesMs: latencies, statuses: { ok: latencies.length, ...(errors > 0 ? { error: errors } : {}) }, errors, timeouts: 0, seconds: (Date.now() - started) / 1000, itemsUsed: 0, firstError };
  } finally {
    await pool.end();
  }
}

process.on('message', (message: HttpLoad | SqlLoad) => {
  (message.kind === 'sql' ? runSql(message) : runHttp(message)).then(
    (response) => process.send!(response, () => process.exit(0)),
    (error: Error) => process.send!({ error: error.message }, () => process.exit(1)),
  );
});
