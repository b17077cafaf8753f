/**
 * Runs one autocannon load in its own process (so the load generator does not share the event
 * loop of the service under test) and sends back every response time. Forked by audited-read.
 */
// autocannon ships no type declarations; the little used here is typed below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => AutocannonInstance;

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  on(event: 'done', listener: (result: AutocannonResult) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

interface AutocannonResult {
  latency: Record<string, number>;
  requests: Record<string, number>;
  throughput: Record<string, number>;
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
  '2xx': number;
}

export interface LoadRequest {
  url: string;
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface LoadResponse {
  latenciesMs: number[];
  statuses: Record<string, number>;
  requestsPerSecond: number;
  autocannon: { latency: Record<string, number>; requests: Record<string, number>; errors: number; timeouts: number; non2xx: number; duration: number };
}

function run(req: LoadRequest): Promise<LoadResponse> {
  return new Promise((resolve, reject) => {
    let next = 0;
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    const instance = autocannon({
      url: req.url,
      connections: req.connections,
      duration: req.durationSeconds,
      headers: req.headers,
      requests: [
        {
          method: 'GET',
          // Rotates over the cases, so no single row or page is all the database reads.
          setupRequest: (r: Record<string, unknown>) => ({ ...r, path: req.paths[next++ % req.paths.length] }),
        },
      ],
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
    instance.on('error', reject);
    instance.on('done', (result) => {
      resolve({
        latenciesMs: latencies,
        statuses,
        requestsPerSecond: result.requests.average,
        autocannon: {
          latency: result.latency, requests: result.requests, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, duration: result.duration,
        },
      });
    });
  });
}

process.on('message', (message: LoadRequest) => {
  run(message).then(
    (response) => {
      process.send!(response, () => process.exit(0));
    },
    (error: Error) => {
      process.send!({ error: error.message }, () => process.exit(1));
    },
  );
});
