/** The two kinds of record that can be agreed (issue 8, point 3). */
export enum AgreedRecordType {
  Conversation = 'conversation',
  Meeting = 'meeting',
}

export enum AgreementState {
  /** Still a draft: corrected as any record is (a new version), attestations pending. */
  Draft = 'draft',
  /** Every named participant attested the latest version: sealed, corrected only by addenda. */
  Agreed = 'agreed',
}

/** The rules, by stable name: they appear in refusals (details.rule) and in the audit trail. */
export enum AgreedRecordRule {
  /** Attesting: the caller is a participant named on the record as a user. */
  NamedParticipant = 'attest_named_participant',
  /** Refused: the caller is not named on the record as a participant. */
  NotNamedParticipant = 'attest_not_named_participant',
  /** Refused: the caller has already attested this version. */
  AlreadyAttested = 'attest_once_per_version',
  /** Refused: the record names no participant who is a user, so nobody can attest it. */
  NoNamedParticipants = 'attest_needs_named_participants',
  /** Refused: corrections, edits, attestations and external agreements after agreement. */
  AgreedRecordSealed = 'agreed_record_sealed',
  /** Refused: an addendum to a record that is still a draft (correct the draft instead). */
  AddendumNeedsAgreement = 'addendum_only_after_agreement',
  Allowed = 'allowed',
}

export interface Decision {
  allowed: boolean;
  rule: AgreedRecordRule;
}

/** What the policy needs to know about a record: ids only, never content. */
export interface AgreementFacts {
  /** The latest version (drafts are corrected into new versions). */
  version: number;
  /** Users named on the latest version as taking part. */
  participantIds: readonly string[];
  /** Users who attested the latest version. */
  attestedBy: readonly string[];
  /** Whether the record has been agreed (an agreement row exists). */
  agreed: boolean;
}

const allow: Decision = { allowed: true, rule: AgreedRecordRule.Allowed };
const deny = (rule: AgreedRecordRule): Decision => ({ allowed: false, rule });

/**
 * Who may attest, when a record counts as agreed, and what is refused after agreement. Plain
 * functions over ids; the caller has already checked that the caller may read the record (a
 * record one may not read is "not found", before any rule here is asked).
 */
export class AgreedRecordPolicy {
  static state(f: AgreementFacts): AgreementState {
    return f.agreed ? AgreementState.Agreed : AgreementState.Draft;
  }

  /**
   * Only participants named on the record as users, once per version, and only on a draft.
   * (Reading it is checked before: someone named who may not read it gets "not found".)
   */
  static mayAttest(userId: string, f: AgreementFacts): Decision {
    if (f.agreed) return deny(AgreedRecordRule.AgreedRecordSealed);
    if (f.participantIds.length === 0) return deny(AgreedRecordRule.NoNamedParticipants);
    if (!f.participantIds.includes(userId)) return deny(AgreedRecordRule.NotNamedParticipant);
    if (f.attestedBy.includes(userId)) return deny(AgreedRecordRule.AlreadyAttested);
    return { allowed: true, rule: AgreedRecordRule.NamedParticipant };
  }

  /** Participants named on the latest version who have not attested it yet. */
  static pending(f: AgreementFacts): string[] {
    return f.participantIds.filter((id) => !f.attestedBy.includes(id));
  }

  /**
   * A record is agreed when every participant named on its latest version as a user has attested
   * that version: not a majority, not the recorder alone. An agreement states who agreed, so it
   * must not be reached by leaving someone out; a participant who can no longer read the record
   * blocks it until the draft is corrected (a new version naming the right people) or their
   * access is restored.
   */
  static isAgreedWith(f: AgreementFacts, attestingUserId: string): boolean {
    const attested = new Set([...f.attestedBy, attestingUserId]);
    return f.participantIds.length > 0 && f.participantIds.every((id) => attested.has(id));
  }

  /** Corrections and edits (a new version, a meeting's outcome): only while a draft. */
  static mayEdit(f: AgreementFacts): Decision {
    return f.agreed ? deny(AgreedRecordRule.AgreedRecordSealed) : allow;
  }

  /**
   * That the authority or government agreed it: recorded while a draft, so that the seal covers
   * it; after agreement it would change what was sealed, so it goes in an addendum.
   */
  static mayRecordExternalAgreement(f: AgreementFacts): Decision {
    return f.agreed ? deny(AgreedRecordRule.AgreedRecordSealed) : allow;
  }

  /** Addenda: the only correction of an agreed record; a draft is corrected in place (a new version). */
  static mayAddAddendum(f: AgreementFacts): Decision {
    return f.agreed ? allow : deny(AgreedRecordRule.AddendumNeedsAgreement);
  }
}
