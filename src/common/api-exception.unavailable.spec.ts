import { ArgumentsHost, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { QueryFailedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { AuthenticationGuard } from '../auth/authentication.guard';
import { ApiExceptionFilter, RETRY_AFTER_SECONDS, toApiError } from './api-exception.filter';
import { DomainError } from './domain-error';
import { ErrorCode } from './error-code';

/*
 * A dependency that is down answers 503 with Retry-After, never 500 and never 401. The fault
 * script (bench/faults/run.ts, `npm run faults`) proves it end to end against a PostgreSQL that
 * is stopped during a load; these pin the mapping itself.
 */
const RID = 'req-unavailable-0001';

function pgError(code: string): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code }));
}

describe('a dependency that is down', () => {
  // The filter logs each 5xx; not wanted in test output.
  beforeAll(() => Logger.overrideLogger(false));

  it.each([
    ['PostgreSQL shutting down (57P01)', pgError('57P01')],
    ['PostgreSQL starting up (57P03)', pgError('57P03')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['the pool timing out on connect', new Error('timeout exceeded when trying to connect')],
    ['a transaction whose connection was ended under it', new QueryRunnerProviderAlreadyReleasedError()],
  ])('%s answers 503 SERVICE_UNAVAILABLE without the driver message', (_what, error) => {
    const body = toApiError(error, RID);
    expect(body).toEqual({ statusCode: 503, error: ErrorCode.ServiceUnavailable, message: expect.not.stringMatching(/ECONNREFUSED|terminating|127\.0\.0\.1/), requestId: RID });
  });

  it('is still a 500 for an error that is not about availability', () => {
    expect(toApiError(pgError('23505'), RID).statusCode).toBe(500);
    expect(toApiError(new TypeError('x is undefined'), RID).statusCode).toBe(500);
  });

  it('tells the client when to try again (Retry-After) on a 503, and only then', () => {
    const respond = (error: unknown) => {
      const headers: Record<string, string> = {};
      const res = { headersSent: false, setHeader: (k: string, v: string) => (headers[k] = v), status: () => res, json: () => res };
      const host = { switchToHttp: () => ({ getRequest: () => ({ id: RID }), getResponse: () => res }) } as unknown as ArgumentsHost;
      new ApiExceptionFilter().catch(error, host);
      return headers;
    };
    expect(respond(pgError('57P01'))['Retry-After']).toBe(String(RETRY_AFTER_SECONDS));
    expect(respond(new DomainError(ErrorCode.NotFound, 'Not found'))['Retry-After']).toBeUndefined();
  });

  it('does not turn a failed session lookup into 401: the client keeps its tokens and sees the 503', () => {
    const guard = new AuthenticationGuard(new Reflector());
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(() => guard.handleRequest(down, false)).toThrow(down);
    // No user, or a refusal the strategy itself raised, is still 401.
    expect(() => guard.handleRequest(null, false)).toThrow(expect.objectContaining({ code: ErrorCode.Unauthenticated }));
    const refused = new DomainError(ErrorCode.Unauthenticated, 'no');
    expect(() => guard.handleRequest(refused, false)).toThrow(expect.objectContaining({ code: ErrorCode.Unauthenticated }));
  });
});
