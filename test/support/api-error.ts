import type { Response } from 'supertest';

/**
 * Asserts the one error shape of the API: status, code, a message, a request id that is the
 * X-Request-Id header, and nothing else than the documented fields. Returns the body.
 */
export function expectApiError(res: Response, status: number, code: string): Record<string, unknown> {
  const body = res.body as Record<string, unknown>;
  expect({ status: res.status, error: body.error }).toEqual({ status, error: code });
  expect(body.statusCode).toBe(status);
  expect(typeof body.message).toBe('string');
  expect((body.message as string).length).toBeGreaterThan(0);
  expect(typeof body.requestId).toBe('string');
  expect((body.requestId as string).length).toBeGreaterThan(0);
  expect(res.headers['x-request-id']).toBe(body.requestId);
  for (const key of Object.keys(body)) expect(['statusCode', 'error', 'message', 'fieldErrors', 'details', 'requestId']).toContain(key);
  return body;
}

/** The fields named in a VALIDATION_FAILED answer. */
export function fieldsOf(res: Response): string[] {
  return ((res.body.fieldErrors ?? []) as Array<{ field: string }>).map((f) => f.field);
}
