import { ResourceType } from '../audit/audit-event';

/** Every column encrypted at rest. One name per column, used in the AAD and by the re-encryption path. */
export enum EncryptedField {
  ConcernDescription = 'concerns.description',
  ConversationSummary = 'conversation_records.summary',
  /** The source's name, role, organisation and contact, as one JSON value (field presence and lengths stay hidden). */
  SourceIdentity = 'concern_sources.identity',
}

export interface EncryptedFieldSpec {
  table: string;
  column: string;
  /** The row id column (bound in the AAD). */
  idColumn: string;
  /** SQL giving the case of a row aliased `x`. */
  caseIdSql: string;
  resourceType: ResourceType;
}

export const FIELD_SPECS: Record<EncryptedField, EncryptedFieldSpec> = {
  [EncryptedField.ConcernDescription]: { table: 'concerns', column: 'description', idColumn: 'id', caseIdSql: 'x.case_id', resourceType: ResourceType.Concern },
  [EncryptedField.ConversationSummary]: { table: 'conversation_records', column: 'summary', idColumn: 'id', caseIdSql: 'x.case_id', resourceType: ResourceType.Conversation },
  [EncryptedField.SourceIdentity]: {
    table: 'concern_sources', column: 'identity', idColumn: 'concern_id',
    caseIdSql: '(SELECT c.case_id FROM concerns c WHERE c.id = x.concern_id)', resourceType: ResourceType.ConcernSource,
  },
};

/** What destroyed content reads as (retention): the ciphertext is gone and so is the case's key. */
export const DESTROYED_CONTENT = '[destroyed under the retention schedule]';
