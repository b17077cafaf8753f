import { deliveryFailureOf } from './email-transport';

describe('deliveryFailureOf', () => {
  it('keeps codes only, never the server’s text', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1025'), { code: 'ESOCKET', originalCode: 'ECONNREFUSED' });
    expect(deliveryFailureOf(refused)).toEqual({ code: 'ESOCKET/ECONNREFUSED', permanent: false });
    const rejected = Object.assign(new Error("550 <someone@example.org>: mailbox unavailable"), { code: 'EENVELOPE', responseCode: 550, response: '550 <someone@example.org>', permanent: true });
    expect(deliveryFailureOf(rejected)).toEqual({ code: 'EENVELOPE 550', permanent: true });
    expect(deliveryFailureOf(Object.assign(new Error('later'), { code: 'EENVELOPE', responseCode: 451 }))).toEqual({ code: 'EENVELOPE 451', permanent: false });
  });

  it('treats a 5xx as permanent except 503, and anything unrecognised as a transient error', () => {
    expect(deliveryFailureOf({ code: 'EMESSAGE', responseCode: 554 }).permanent).toBe(true);
    expect(deliveryFailureOf({ code: 'EPROTOCOL', responseCode: 503 }).permanent).toBe(false);
    expect(deliveryFailureOf(new Error('boom'))).toEqual({ code: 'ERROR', permanent: false });
    expect(deliveryFailureOf(undefined)).toEqual({ code: 'ERROR', permanent: false });
    // A "code" that is really text is not copied.
    expect(deliveryFailureOf({ code: 'rejected for someone@example.org' }).code).toBe('ERROR');
  });
});
