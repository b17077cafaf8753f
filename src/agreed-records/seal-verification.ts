/** What verifying an agreed record's seal found. */
export enum SealVerificationState {
  /** The record hashes to its agreement, whose audit record is sealed under a signed checkpoint. */
  Intact = 'intact',
  /** Something does not match: the record, or the agreement's audit record (the problems name it). */
  Broken = 'broken',
  /**
   * The case's content was destroyed under the retention schedule: there is no content left to
   * hash, so it is not compared. The agreement's audit record is still checked (the trail is kept),
   * and the deletion certificate says what was destroyed, when and on whose approval.
   */
  ContentDestroyed = 'content_destroyed',
}

export interface SealVerificationFacts {
  /** Whether retention destroyed the content of the record's case. */
  contentDestroyed: boolean;
  /** How many problems the checks found (content hash, audit record, tree). */
  problems: number;
}

/**
 * A problem anywhere is Broken, also after destruction (the audit record of the agreement must
 * still be intact); otherwise a destroyed record is ContentDestroyed, never a hash mismatch.
 */
export function sealVerificationState(f: SealVerificationFacts): SealVerificationState {
  if (f.problems > 0) return SealVerificationState.Broken;
  return f.contentDestroyed ? SealVerificationState.ContentDestroyed : SealVerificationState.Intact;
}

/** The audit rule of a verification: what it found. */
export const VERIFICATION_AUDIT_RULE: Record<SealVerificationState, string> = {
  [SealVerificationState.Intact]: 'seal_intact',
  [SealVerificationState.Broken]: 'seal_broken',
  [SealVerificationState.ContentDestroyed]: 'content_destroyed',
};
