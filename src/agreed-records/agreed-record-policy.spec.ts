import { AgreedRecordPolicy, AgreedRecordRule, AgreementFacts, AgreementState } from './agreed-record-policy';

const A = 'a0000000-0000-4000-8000-000000000001';
const B = 'b0000000-0000-4000-8000-000000000002';
const C = 'c0000000-0000-4000-8000-000000000003';

const draft = (over: Partial<AgreementFacts> = {}): AgreementFacts => ({ version: 1, participantIds: [A, B], attestedBy: [], agreed: false, ...over });

describe('AgreedRecordPolicy', () => {
  describe('who may attest', () => {
    it('a participant named on the record, once per version', () => {
      expect(AgreedRecordPolicy.mayAttest(A, draft())).toEqual({ allowed: true, rule: AgreedRecordRule.NamedParticipant });
      expect(AgreedRecordPolicy.mayAttest(A, draft({ attestedBy: [A] }))).toEqual({ allowed: false, rule: AgreedRecordRule.AlreadyAttested });
    });

    it('nobody who is not named, whatever their role (the recorder and managers included)', () => {
      expect(AgreedRecordPolicy.mayAttest(C, draft())).toEqual({ allowed: false, rule: AgreedRecordRule.NotNamedParticipant });
    });

    it('nobody when the record names no user as a participant', () => {
      expect(AgreedRecordPolicy.mayAttest(A, draft({ participantIds: [] }))).toEqual({ allowed: false, rule: AgreedRecordRule.NoNamedParticipants });
    });

    it('nobody once the record is agreed', () => {
      expect(AgreedRecordPolicy.mayAttest(A, draft({ agreed: true }))).toEqual({ allowed: false, rule: AgreedRecordRule.AgreedRecordSealed });
    });
  });

  describe('when a record counts as agreed', () => {
    it('when every named participant has attested the latest version, and not before', () => {
      expect(AgreedRecordPolicy.isAgreedWith(draft(), A)).toBe(false);
      expect(AgreedRecordPolicy.isAgreedWith(draft({ attestedBy: [A] }), B)).toBe(true);
      expect(AgreedRecordPolicy.isAgreedWith(draft({ participantIds: [A] }), A)).toBe(true);
    });

    it('never with no named participants', () => {
      expect(AgreedRecordPolicy.isAgreedWith(draft({ participantIds: [] }), A)).toBe(false);
    });

    it('lists who is still to attest; the state follows the agreement', () => {
      expect(AgreedRecordPolicy.pending(draft({ attestedBy: [B] }))).toEqual([A]);
      expect(AgreedRecordPolicy.state(draft())).toBe(AgreementState.Draft);
      expect(AgreedRecordPolicy.state(draft({ agreed: true }))).toBe(AgreementState.Agreed);
    });
  });

  describe('what is refused after agreement', () => {
    it('corrections and edits: allowed on a draft, refused once agreed', () => {
      expect(AgreedRecordPolicy.mayEdit(draft()).allowed).toBe(true);
      expect(AgreedRecordPolicy.mayEdit(draft({ agreed: true }))).toEqual({ allowed: false, rule: AgreedRecordRule.AgreedRecordSealed });
    });

    it('external agreements: recorded on a draft (so the seal covers them), refused once agreed', () => {
      expect(AgreedRecordPolicy.mayRecordExternalAgreement(draft()).allowed).toBe(true);
      expect(AgreedRecordPolicy.mayRecordExternalAgreement(draft({ agreed: true })).rule).toBe(AgreedRecordRule.AgreedRecordSealed);
    });

    it('addenda: only on an agreed record', () => {
      expect(AgreedRecordPolicy.mayAddAddendum(draft({ agreed: true })).allowed).toBe(true);
      expect(AgreedRecordPolicy.mayAddAddendum(draft())).toEqual({ allowed: false, rule: AgreedRecordRule.AddendumNeedsAgreement });
    });
  });
});
