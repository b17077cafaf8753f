import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { ApiErrorDto } from './api-error.dto';
import { DomainError } from './domain-error';
import { ErrorCode, HTTP_STATUS_OF } from './error-code';
import { assignRequestId } from './logging';

const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthenticated,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  422: ErrorCode.PreconditionFailed,
  429: ErrorCode.TooManyRequests,
  503: ErrorCode.ServiceUnavailable,
};

// PostgreSQL errors that mean "the database is not there right now" rather than a bug.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);
/** Seconds a client should wait before retrying after a 503 (a database restart takes a few). */
export const RETRY_AFTER_SECONDS = 5;

export function requestIdOf(req: Request): string {
  const id = (req as Request & { id?: unknown }).id;
  if (id !== undefined && id !== null && id !== '') return String(id);
  // The body parser fails before the request logger has given the request its id.
  return assignRequestId(req, req.res);
}

/** Turns anything thrown into the one error shape; never leaks internals for 5xx. */
export function toApiError(exception: unknown, requestId: string): ApiErrorDto {
  if (exception instanceof DomainError) {
    return {
      statusCode: HTTP_STATUS_OF[exception.code],
      error: exception.code,
      message: exception.message,
      ...(exception.fieldErrors ? { fieldErrors: exception.fieldErrors } : {}),
      ...(exception.details ? { details: exception.details } : {}),
      requestId,
    };
  }
  if (exception instanceof ThrottlerException) {
    return { statusCode: 429, error: ErrorCode.TooManyRequests, message: 'Too many requests; try again later', requestId };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const message =
      typeof body === 'string'
        ? body
        : Array.isArray((body as { message?: unknown }).message)
          ? ((body as { message: string[] }).message).join('; ')
          : String((body as { message?: unknown }).message ?? exception.message);
    return { statusCode: status, error: CODE_OF_STATUS[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.BadRequest), message, requestId };
  }
  const status = (exception as { status?: unknown; statusCode?: unknown })?.status ?? (exception as { statusCode?: unknown })?.statusCode;
  const type = (exception as { type?: unknown })?.type;
  // Errors raised by the body parser before Nest sees the request.
  if (type === 'entity.too.large') {
    return { statusCode: 413, error: ErrorCode.PayloadTooLarge, message: 'The request body is too large', requestId };
  }
  // Body-parser errors carry a type; a failed decompression (Content-Encoding that does not match
  // the body) carries only the client-error status http-errors gives it (expose: true).
  const exposed = (exception as { expose?: unknown })?.expose === true;
  if ((typeof type === 'string' || exposed) && typeof status === 'number' && status >= 400 && status < 500) {
    return { statusCode: status, error: CODE_OF_STATUS[status] ?? ErrorCode.BadRequest, message: 'The request body could not be read (malformed JSON or unsupported encoding)', requestId };
  }
  if (isDataException(exception)) {
    // PostgreSQL refused a value the request carried (out of range, not representable): the
    // client's error. The driver's message quotes the value, so it is not passed on.
    return { statusCode: 400, error: ErrorCode.BadRequest, message: 'A value in the request is out of range or cannot be stored', requestId };
  }
  if (isUnavailable(exception)) {
    return { statusCode: 503, error: ErrorCode.ServiceUnavailable, message: 'A service the API depends on is unavailable; try again shortly', requestId };
  }
  return { statusCode: 500, error: ErrorCode.Internal, message: 'Internal error', requestId };
}

/** SQLSTATE class 22, data exception: a value out of range or not valid for its type. */
function isDataException(exception: unknown): boolean {
  if (!(exception instanceof QueryFailedError)) return false;
  const code = (exception as { driverError?: { code?: unknown } }).driverError?.code;
  return typeof code === 'string' && code.startsWith('22');
}

function isUnavailable(exception: unknown): boolean {
  const err = exception as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = err?.driverError?.code ?? err?.code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  const message = typeof err?.message === 'string' ? err.message : '';
  // TypeORM releases a query runner whose connection failed (e.g. ended by a PostgreSQL
  // shutdown, 57P01); the transaction's next query then fails with this error instead.
  const name = (exception as { name?: unknown })?.name;
  if (name === 'QueryRunnerProviderAlreadyReleasedError' || name === 'QueryRunnerAlreadyReleasedError') return true;
  // The same outage seen from pg's client and pool, or from TypeORM between losing and regaining them.
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Cannot use a pool after calling end|Driver not Connected|Connection is closed|MaxRetriesPerRequest/i.test(message);
}

/** The `at …` lines of an error's stack, without its message. */
function stackFramesOf(exception: unknown): string | undefined {
  if (!(exception instanceof Error) || typeof exception.stack !== 'string') return undefined;
  return exception.stack.split('\n').filter((line) => /^\s+at /.test(line)).join('\n');
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const body = toApiError(exception, requestIdOf(req));
    if (body.statusCode >= 500) {
      // Only the error's class and code: messages from the driver can quote SQL parameters.
      const e = exception as { name?: string; code?: string; driverError?: { code?: string } };
      this.logger.error({ err: { name: e?.name, code: e?.driverError?.code ?? e?.code }, requestId: body.requestId }, 'request failed');
      if (process.env.NODE_ENV !== 'production' && !(exception instanceof QueryFailedError)) {
        // Where it failed, not what it said: the message (first line of the stack) can quote request content.
        this.logger.debug?.({ err: { name: e?.name, frames: stackFramesOf(exception) }, requestId: body.requestId }, 'request failed: stack');
      }
    }
    if (res.headersSent) return;
    // A dependency is down for a moment: tell clients (and load balancers) when to try again.
    if (body.statusCode === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(body.statusCode ?? HttpStatus.INTERNAL_SERVER_ERROR).json(body);
  }
}
