import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import express from 'express';
import { Readable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { toApiError } from './api-exception.filter';
import { ConflictError, DomainError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError, VersionConflictError } from './domain-error';
import { ErrorCode } from './error-code';

const RID = 'req-0001-abcd';

/** Runs express.json() (the body parser main.ts uses) on a raw body and returns the error it raises. */
function bodyParserErrorFor(body: string, limit: string): Promise<unknown> {
  const req = Object.assign(Readable.from([Buffer.from(body)]), {
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    method: 'POST',
    url: '/',
  });
  return new Promise((resolve) => {
    express.json({ limit })(req as unknown as express.Request, {} as express.Response, (err?: unknown) => resolve(err));
  });
}

describe('toApiError', () => {
  it.each([
    [ErrorCode.ValidationFailed, 400],
    [ErrorCode.BadRequest, 400],
    [ErrorCode.PayloadTooLarge, 413],
    [ErrorCode.Unauthenticated, 401],
    [ErrorCode.InvalidCredentials, 401],
    [ErrorCode.SignInLocked, 429],
    [ErrorCode.Forbidden, 403],
    [ErrorCode.MfaEnrolmentRequired, 403],
    [ErrorCode.NotFound, 404],
    [ErrorCode.Conflict, 409],
    [ErrorCode.VersionConflict, 409],
    [ErrorCode.PreconditionFailed, 422],
    [ErrorCode.TooManyRequests, 429],
    [ErrorCode.ServiceUnavailable, 503],
    [ErrorCode.Internal, 500],
  ])('maps DomainError %s to HTTP %d, keeping its message', (code, status) => {
    expect(toApiError(new DomainError(code, 'what happened'), RID)).toEqual({ statusCode: status, error: code, message: 'what happened', requestId: RID });
  });

  it('maps the DomainError subclasses to their codes', () => {
    expect(toApiError(new NotFoundError('User'), RID)).toMatchObject({ statusCode: 404, error: ErrorCode.NotFound, message: 'User not found' });
    expect(toApiError(new ForbiddenError(), RID)).toMatchObject({ statusCode: 403, error: ErrorCode.Forbidden });
    expect(toApiError(new VersionConflictError('The user'), RID)).toMatchObject({ statusCode: 409, error: ErrorCode.VersionConflict });
    expect(toApiError(new ConflictError('taken', { field: 'email' }), RID)).toEqual({
      statusCode: 409, error: ErrorCode.Conflict, message: 'taken', details: { field: 'email' }, requestId: RID,
    });
    expect(toApiError(new PreconditionFailedError('not yet', { missing: 'consent' }), RID)).toMatchObject({ statusCode: 422, details: { missing: 'consent' } });
  });

  it('passes field errors through', () => {
    const fieldErrors = [{ field: 'email', messages: ['email must be an email'] }];
    expect(toApiError(new ValidationError(fieldErrors), RID)).toEqual({
      statusCode: 400, error: ErrorCode.ValidationFailed, message: 'The request is not valid', fieldErrors, requestId: RID,
    });
  });

  it("maps the body parser's entity.too.large to 413 PAYLOAD_TOO_LARGE", async () => {
    const err = await bodyParserErrorFor(JSON.stringify({ text: 'x'.repeat(200) }), '100b');
    expect(err).toMatchObject({ type: 'entity.too.large' });
    expect(toApiError(err, RID)).toEqual({ statusCode: 413, error: ErrorCode.PayloadTooLarge, message: 'The request body is too large', requestId: RID });
  });

  it('maps malformed JSON to 400 without quoting the body', async () => {
    const err = await bodyParserErrorFor('{"secret": "the leader said', '100kb');
    expect(err).toMatchObject({ type: 'entity.parse.failed' });
    const body = toApiError(err, RID);
    expect(body).toMatchObject({ statusCode: 400, error: ErrorCode.BadRequest, requestId: RID });
    expect(body.message).not.toContain('leader');
  });

  it('maps Nest HTTP exceptions and throttling to their statuses', () => {
    expect(toApiError(new NotFoundException(), RID)).toMatchObject({ statusCode: 404, error: ErrorCode.NotFound });
    expect(toApiError(new PayloadTooLargeException(), RID)).toMatchObject({ statusCode: 413, error: ErrorCode.PayloadTooLarge });
    expect(toApiError(new BadRequestException(['a is wrong', 'b is wrong']), RID)).toMatchObject({ statusCode: 400, error: ErrorCode.BadRequest, message: 'a is wrong; b is wrong' });
    expect(toApiError(new ThrottlerException(), RID)).toMatchObject({ statusCode: 429, error: ErrorCode.TooManyRequests });
  });

  it('answers 500 INTERNAL_ERROR for anything unknown, without its message', () => {
    const leaky = new Error('duplicate key value (email)=(jo@council.example) in "users"');
    expect(toApiError(leaky, RID)).toEqual({ statusCode: 500, error: ErrorCode.Internal, message: 'Internal error', requestId: RID });
    const sqlError = new QueryFailedError('SELECT * FROM cases WHERE note = $1', ['the chief executive resigned'], Object.assign(new Error('syntax error'), { code: '42601' }));
    const body = toApiError(sqlError, RID);
    expect(body).toEqual({ statusCode: 500, error: ErrorCode.Internal, message: 'Internal error', requestId: RID });
    expect(JSON.stringify(body)).not.toContain('chief executive');
    expect(toApiError('a string', RID)).toMatchObject({ statusCode: 500, error: ErrorCode.Internal });
    expect(toApiError(undefined, RID)).toMatchObject({ statusCode: 500, error: ErrorCode.Internal });
    expect(toApiError(null, RID)).toMatchObject({ statusCode: 500, error: ErrorCode.Internal });
  });

  it('answers 503 SERVICE_UNAVAILABLE when a dependency refuses or drops the connection', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    const adminShutdown = new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    const terminated = new Error('Connection terminated unexpectedly');
    const redisGone = new Error('Reached the max retries per request limit (which is 20). Refer to "maxRetriesPerRequest" option for details.');
    redisGone.name = 'MaxRetriesPerRequestError';
    const closedClient = new Error('Client was closed and is not queryable');
    const released = Object.assign(new Error('Query runner already released. Cannot run queries anymore.'), { name: 'QueryRunnerAlreadyReleasedError' });
    for (const error of [refused, adminShutdown, terminated, closedClient, released]) {
      const body = toApiError(error, RID);
      expect(body).toMatchObject({ statusCode: 503, error: ErrorCode.ServiceUnavailable, requestId: RID });
      expect(body.message).not.toContain('127.0.0.1');
    }
    expect(toApiError(redisGone, RID).statusCode).toBe(503);
  });
});
