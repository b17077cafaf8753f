import { QueryFailedError } from 'typeorm';
import { toApiError } from './api-exception.filter';

/** Errors a hostile request can provoke below the validation layer: client errors, never 500s, never quoting the request. */
describe('toApiError on errors caused by the request', () => {
  it('answers a body that does not decompress as its Content-Encoding claims (http-errors 400 without a type) with 400', () => {
    const zlib = Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', status: 400, statusCode: 400, expose: true });
    expect(toApiError(zlib, 'r1')).toEqual({ statusCode: 400, error: 'BAD_REQUEST', message: expect.stringMatching(/could not be read/), requestId: 'r1' });
  });

  it.each([
    ['22003', 'value "2147483648" is out of range for type integer'],
    ['22P02', 'invalid input syntax for type integer: "1e+21"'],
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
    ['22008', 'date/time field value out of range: "0000-01-01"'],
  ])('answers a PostgreSQL data exception (%s) with 400, without the driver message', (code, message) => {
    const error = new QueryFailedError('UPDATE users SET version = version + 1 WHERE id = $1 AND version = $2', ['x', 'SECRET'], Object.assign(new Error(message), { code }));
    const body = toApiError(error, 'r2');
    expect(body).toMatchObject({ statusCode: 400, error: 'BAD_REQUEST', requestId: 'r2' });
    expect(body.message).not.toContain('"');
    expect(JSON.stringify(body)).not.toContain('SECRET');
  });

  it('still answers other database failures with 500', () => {
    const error = new QueryFailedError('SELECT 1', [], Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    expect(toApiError(error, 'r3')).toMatchObject({ statusCode: 500, error: 'INTERNAL_ERROR', message: 'Internal error' });
  });
});
