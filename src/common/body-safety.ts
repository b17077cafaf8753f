import type { NextFunction, Request, Response } from 'express';
import { DomainError, FieldError, ValidationError } from './domain-error';
import { ErrorCode } from './error-code';

/** Deeper than any request body of the API; deeper bodies only serve to exhaust the stack. */
export const MAX_BODY_DEPTH = 32;

/** Keys that no DTO has and that the object mapper drops silently instead of refusing. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A NUL (PostgreSQL text cannot hold it) or a UTF-16 surrogate without its pair (not a character: it would be stored as U+FFFD). */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Checks a parsed request body before anything maps or validates it: nesting depth (checked
 * iteratively, so that no recursive step downstream can overflow the stack), prototype keys,
 * and strings that cannot be stored as sent. Throws the API's 400 errors.
 */
export function assertSafeBody(body: unknown): void {
  const fieldErrors: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) fieldErrors.push({ field: path || '(body)', messages: [`${path || 'the body'} contains a NUL character or an unpaired surrogate`] });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) throw new DomainError(ErrorCode.BadRequest, `The request body is nested more than ${MAX_BODY_DEPTH} levels deep`);
    for (const key of Object.keys(value)) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) fieldErrors.push({ field, messages: [`property ${key} should not exist`] });
      else if (UNSTORABLE.test(key)) fieldErrors.push({ field, messages: ['a property name contains a NUL character or an unpaired surrogate'] });
      else stack.push({ value: (value as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  if (fieldErrors.length > 0) throw new ValidationError(fieldErrors, `Invalid request: ${[...new Set(fieldErrors.map((f) => f.field))].join(', ')}`);
}

/** Express middleware: runs assertSafeBody on the parsed body (after the body parsers). */
export function bodySafety(req: Request, _res: Response, next: NextFunction): void {
  try {
    assertSafeBody(req.body);
    next();
  } catch (error) {
    next(error);
  }
}
