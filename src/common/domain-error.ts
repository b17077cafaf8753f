import { ErrorCode } from './error-code';

export interface FieldError {
  field: string;
  messages: string[];
}

/**
 * Services throw these; one exception filter turns them into the API's error shape. They
 * never carry case content in their message.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fieldErrors?: FieldError[],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError {
  constructor(what = 'Resource') {
    super(ErrorCode.NotFound, `${what} not found`);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'You do not have permission to do this') {
    super(ErrorCode.Forbidden, message);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCode.Conflict, message, undefined, details);
  }
}

export class VersionConflictError extends DomainError {
  constructor(what = 'The record') {
    super(ErrorCode.VersionConflict, `${what} was changed by someone else; reload it and try again`);
  }
}

export class PreconditionFailedError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(ErrorCode.PreconditionFailed, message, undefined, details);
  }
}

export class ValidationError extends DomainError {
  constructor(fieldErrors: FieldError[], message = 'The request is not valid') {
    super(ErrorCode.ValidationFailed, message, fieldErrors);
  }
}
