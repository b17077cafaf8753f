import { CREATED_REF_OF, IdempotentResource } from './idempotent-resource';

const ID = '8e03978e-40d5-43e8-bc93-6894a57f9324';

describe('CREATED_REF_OF', () => {
  it('finds the created record in each create answer', () => {
    expect(CREATED_REF_OF[IdempotentResource.Concern]({ concern: { id: ID }, case: { id: 'x' } })).toEqual({ id: ID, version: null });
    expect(CREATED_REF_OF[IdempotentResource.Conversation]({ recordId: ID, version: 3 })).toEqual({ id: ID, version: 3 });
    for (const r of [
      IdempotentResource.Meeting, IdempotentResource.Support, IdempotentResource.ProgressNote, IdempotentResource.TeamMember,
      IdempotentResource.RecordAttestation, IdempotentResource.RecordExternalAgreement, IdempotentResource.RecordAddendum,
    ]) {
      expect(CREATED_REF_OF[r]({ id: ID })).toEqual({ id: ID, version: null });
    }
  });

  it('finds nothing in an answer of another shape (then no key is written)', () => {
    expect(CREATED_REF_OF[IdempotentResource.Concern]({ id: ID })).toBeUndefined();
    expect(CREATED_REF_OF[IdempotentResource.Support](undefined)).toBeUndefined();
    expect(CREATED_REF_OF[IdempotentResource.Support]({ id: 'CH-2026-0001' })).toBeUndefined();
    expect(CREATED_REF_OF[IdempotentResource.Conversation](null)).toBeUndefined();
  });
});
