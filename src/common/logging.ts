import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Gives a request its id (the client's X-Request-Id when well-formed, else a new UUID) and
 * echoes it in the X-Request-Id response header. Used by the request logger, and by the error
 * handler for requests that fail before the logger has seen them (body-parser errors).
 */
export function assignRequestId(req: IncomingMessage, res?: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  if (res && !res.headersSent) res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * Structured JSON logs with the request id on every line. Nothing from a body, no query
 * strings (they can carry search terms), no Authorization or Cookie header: case content,
 * identities, passwords and tokens never reach the logs.
 */
export function loggerParams(level: string): Params {
  return {
    pinoHttp: {
      level,
      genReqId: assignRequestId,
      customProps: (req: IncomingMessage) => ({ requestId: (req as IncomingMessage & { id?: string }).id }),
      serializers: {
        req: (req: { id?: string; method?: string; url?: string }) => ({ id: req.id, method: req.method, path: (req.url ?? '').split('?')[0] }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      redact: { paths: ['req.headers', 'res.headers', '*.password', '*.token', '*.authorization'], remove: true },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') },
      quietReqLogger: true,
    },
  };
}
