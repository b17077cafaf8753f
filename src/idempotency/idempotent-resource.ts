/** What a create endpoint creates: decides how its result is identified and read back on a replay. */
export enum IdempotentResource {
  /** POST /concerns: the concern (and the case it opened, if any). */
  Concern = 'concern',
  /** POST /cases/:id/conversations and POST /conversations/:recordId/corrections: one version of a record. */
  Conversation = 'conversation',
  /** POST /cases/:id/pre-intervention-meetings. */
  Meeting = 'pre_intervention_meeting',
  /** POST /cases/:id/support. */
  Support = 'support',
  /** POST /support/:id/progress-notes. */
  ProgressNote = 'progress_note',
  /** POST /cases/:id/team: the answer is the case, so the case is what is read back. */
  TeamMember = 'team_member',
  /** POST /agreed-records/:recordType/:recordId/attestations (src/agreed-records). */
  RecordAttestation = 'record_attestation',
  /** POST /agreed-records/:recordType/:recordId/external-agreements. */
  RecordExternalAgreement = 'record_external_agreement',
  /** POST /agreed-records/:recordType/:recordId/addenda. */
  RecordAddendum = 'record_addendum',
}

/** The created record, as stored with the key: an id (and, for a conversation record, its version). Never content. */
export interface CreatedRef {
  id: string;
  version: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function field(value: unknown, ...path: string[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

function ref(id: unknown, version: unknown = null): CreatedRef | undefined {
  if (typeof id !== 'string' || !UUID.test(id)) return undefined;
  return { id, version: typeof version === 'number' ? version : null };
}

/** Picks the created record out of the create endpoint's answer. */
export const CREATED_REF_OF: Record<IdempotentResource, (result: unknown) => CreatedRef | undefined> = {
  [IdempotentResource.Concern]: (r) => ref(field(r, 'concern', 'id')),
  [IdempotentResource.Conversation]: (r) => ref(field(r, 'recordId'), field(r, 'version')),
  [IdempotentResource.Meeting]: (r) => ref(field(r, 'id')),
  [IdempotentResource.Support]: (r) => ref(field(r, 'id')),
  [IdempotentResource.ProgressNote]: (r) => ref(field(r, 'id')),
  [IdempotentResource.TeamMember]: (r) => ref(field(r, 'id')),
  [IdempotentResource.RecordAttestation]: (r) => ref(field(r, 'id')),
  [IdempotentResource.RecordExternalAgreement]: (r) => ref(field(r, 'id')),
  [IdempotentResource.RecordAddendum]: (r) => ref(field(r, 'id')),
};
