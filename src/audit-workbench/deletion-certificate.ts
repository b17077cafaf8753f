import { canonicalJson, sha256Hex } from './canonical-json';

export const CERTIFICATE_FORMAT = 'ch-deletion-certificate-v1';

/** What one table lost: how many rows were deleted outright, or had their content overwritten. */
export interface DestroyedTable {
  table: string;
  rows: number;
  how: 'deleted' | 'redacted' | 'keys_destroyed';
}

/**
 * A deletion certificate: what retention destroyed (tables and row counts, never the content),
 * when, under which rule, approved by whom, on which review. Its hash goes into the audit tree
 * (the justification of its audit record, which the record's leaf hash covers), so neither the
 * certificate nor its record can be changed without the signed tree showing it.
 */
export interface DeletionCertificate {
  format: typeof CERTIFICATE_FORMAT;
  certificateId: string;
  caseId: string;
  caseReference: string;
  retentionReviewId: string;
  retentionRule: string;
  dueOn: string;
  destroyedAt: string;
  approvedBy: { userId: string; role: string };
  approvalReason: string;
  destroyed: DestroyedTable[];
}

export function certificateText(c: DeletionCertificate): string {
  return canonicalJson(c);
}

export function certificateHash(c: DeletionCertificate | string): string {
  return sha256Hex(typeof c === 'string' ? c : certificateText(c));
}

/** The justification written on the certificate's audit record: the hash the sealed leaf covers. */
export function certificateAuditJustification(hashHex: string): string {
  return `sha256:${hashHex}`;
}
