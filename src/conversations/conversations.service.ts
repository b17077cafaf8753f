import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CaseAction, itemScopeSql, itemVisibility, mayMarkPartyConfidential } from '../access-control/case-access-policy';
import { CaseFileTransactions, CaseFileTx } from '../access-control/case-file-transaction';
import { ItemHandling } from '../access-control/handling';
import { Role } from '../access-control/role';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { refuseEditOfAgreedRecord } from '../agreed-records/agreed-record-guard';
import { AgreedRecordType } from '../agreed-records/agreed-record-policy';
import { Actor } from '../auth/actor.decorator';
import { iso, isoDate } from '../cases/case-mappers';
import { assertNamedUsers } from '../cases/named-users';
import { ForbiddenError, PreconditionFailedError, ValidationError, VersionConflictError } from '../common/domain-error';
import { DeadlineService } from '../deadlines/deadline.service';
import { EncryptedField } from '../encryption/encrypted-field';
import { FieldCipher } from '../encryption/field-cipher';
import { CaseState } from '../workflow/case-state';
import { compartmentOfRecord } from '../compartments/compartment-facts';
import { ownCompartment, placeRecord } from '../compartments/compartments.service';
import { ConversationKind } from './conversation.types';
import { ConversationDto, ConversationWithHistoryDto, CorrectConversationDto, RecordConversationDto } from './dto';

/** Exported for the idempotent replay of a create (src/idempotency). */
export interface ConversationRow {
  /** The row (one version); its summary's ciphertext is bound to it. */
  id: string;
  record_id: string;
  version: number;
  case_id: string;
  kind: ConversationKind;
  held_on: string;
  internal_participant_ids: string[];
  external_participants: ConversationDto['externalParticipants'];
  summary: string;
  agreed_actions: ConversationDto['agreedActions'];
  handling: ItemHandling;
  party_id: string | null;
  named_user_ids: string[];
  recorded_by: string;
  recorded_at: Date;
  correction_reason: string | null;
}

/** Exported for the idempotent replay of a create (src/idempotency). */
export const COLUMNS = `i.id, i.record_id, i.version, i.case_id, i.kind, to_char(i.held_on, 'YYYY-MM-DD') AS held_on, i.internal_participant_ids,
  i.external_participants, i.summary, i.agreed_actions, i.handling, i.party_id, i.named_user_ids, i.recorded_by, i.recorded_at, i.correction_reason`;

/** Exported for the idempotent replay of a create (src/idempotency). */
export function toDto(r: ConversationRow): ConversationDto {
  return {
    recordId: r.record_id,
    version: r.version,
    caseId: r.case_id,
    kind: r.kind,
    heldOn: isoDate(r.held_on),
    internalParticipantIds: r.internal_participant_ids,
    externalParticipants: r.external_participants,
    summary: r.summary,
    agreedActions: r.agreed_actions,
    handling: r.handling,
    partyId: r.party_id,
    namedUserIds: r.named_user_ids,
    recordedBy: r.recorded_by,
    recordedAt: iso(r.recorded_at)!,
    correctionReason: r.correction_reason,
  };
}

/**
 * Records of sensitive conversations, confidential discussions, facilitated meetings and
 * calls. Rows are never updated or deleted (a database trigger refuses it): a correction is a
 * new version of the same record, and earlier versions stay readable to those allowed.
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly deadlines: DeadlineService,
    private readonly cipher: FieldCipher,
  ) {}

  record(actor: Actor, caseId: string, dto: RecordConversationDto): Promise<ConversationDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.RecordConversation, { lock: true, resourceType: ResourceType.Conversation, auditAction: AuditAction.Create });
      if (row.state === CaseState.Closed) throw new PreconditionFailedError('The case is closed: a manager must reopen it first', { precondition: 'case_open' });
      let partyId: string | null = null;
      if (dto.handling === ItemHandling.PartyConfidential) {
        if (!mayMarkPartyConfidential(actor.principal)) {
          throw new ValidationError([{ field: 'handling', messages: ['only a lead political peer may mark a record party_confidential'] }]);
        }
        partyId = actor.principal.partyId;
      }
      await assertNamedUsers(tx.manager, dto.handling, dto.namedUserIds ?? []);
      await this.assertParticipants(tx, dto.internalParticipantIds ?? []);
      const compartment = dto.compartmentId ? await ownCompartment(tx, dto.compartmentId, row.id) : null;
      if (dto.compartmentId && !compartment) throw new ValidationError([{ field: 'compartmentId', messages: ['compartmentId must name your compartment on this case'] }]);
      // The row id is chosen here because the summary's ciphertext is bound to its row (src/encryption).
      const id = randomUUID();
      const summary = await this.cipher.encrypt(tx.manager, EncryptedField.ConversationSummary, row.id, id, dto.summary);
      const [created]: ConversationRow[] = await tx.manager.query(
        `INSERT INTO conversation_records AS i (id, record_id, version, case_id, kind, held_on, internal_participant_ids, external_participants, summary,
                                                agreed_actions, handling, party_id, named_user_ids, recorded_by)
         VALUES ($12, gen_random_uuid(), 1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
        [
          row.id, dto.kind, dto.heldOn, dto.internalParticipantIds ?? [], JSON.stringify(dto.externalParticipants ?? []), summary,
          JSON.stringify(dto.agreedActions ?? []), dto.handling, partyId, dto.namedUserIds ?? [], actor.userId, id,
        ],
      );
      await this.cipher.openConversations(tx.manager, [created]);
      // A compartmented record leaves the case as it was: a new version or time would tell the
      // case's other users that something they cannot see was recorded.
      if (!compartment) await tx.manager.query(`UPDATE cases SET updated_at = now(), version = version + 1 WHERE id = $1`, [row.id]);
      tx.audit({ action: AuditAction.Create, resourceType: ResourceType.Conversation, resourceId: created.record_id, caseId: row.id });
      if (compartment) await placeRecord(tx, compartment, created.record_id);
      await this.deadlines.conversationRecorded(tx.manager, row.id, created.record_id, created.kind, created.agreed_actions);
      return toDto(created);
    });
  }

  /** The latest version of each record on the case that the caller may see. */
  list(actor: Actor, caseId: string): Promise<ConversationDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.Conversation, auditAction: AuditAction.List });
      const scope = itemScopeSql(actor.principal, 2, { partyMarking: true });
      const rows: ConversationRow[] = await tx.manager.query(
        `SELECT DISTINCT ON (i.record_id) ${COLUMNS} FROM conversation_records i
          WHERE i.case_id = $1 AND ${scope.sql}
          ORDER BY i.record_id, i.version DESC`,
        [row.id, ...scope.params],
      );
      await this.cipher.openConversations(tx.manager, rows);
      rows.sort((a, b) => b.held_on.localeCompare(a.held_on) || b.recorded_at.valueOf() - a.recorded_at.valueOf() || a.record_id.localeCompare(b.record_id));
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Conversation, caseId: row.id });
      return rows.map(toDto);
    });
  }

  get(actor: Actor, recordId: string): Promise<ConversationWithHistoryDto> {
    return this.transactions.run(actor, async (tx) => {
      const versions = await this.cipher.openConversations(tx.manager, await this.openRecord(tx, recordId, CaseAction.Read, AuditAction.Read));
      tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Conversation, resourceId: recordId, caseId: versions[0].case_id });
      const [latest, ...earlier] = versions.map(toDto);
      return { ...latest, earlierVersions: earlier };
    });
  }

  /** A correction: a new version with the same marking; only its recorder or a manager may make one. */
  correct(actor: Actor, recordId: string, dto: CorrectConversationDto): Promise<ConversationDto> {
    return this.transactions.run(actor, async (tx) => {
      const versions = await this.openRecord(tx, recordId, CaseAction.RecordConversation, AuditAction.Correct);
      const latest = versions[0];
      const original = versions[versions.length - 1];
      if (actor.principal.role !== Role.ClearingHouseManager && original.recorded_by !== actor.userId) {
        tx.refuse(new ForbiddenError('Only the person who recorded it or a clearing-house manager may correct a record'), {
          action: AuditAction.Correct, resourceType: ResourceType.Conversation, resourceId: recordId, caseId: latest.case_id, rule: 'correct_own_record_or_manager',
        });
      }
      // An agreed record is sealed: later corrections are addenda (src/agreed-records), never new versions.
      await refuseEditOfAgreedRecord(tx, AgreedRecordType.Conversation, recordId, latest.case_id, AuditAction.Correct, ResourceType.Conversation);
      if (latest.version !== dto.version) throw new VersionConflictError('The record');
      await this.assertParticipants(tx, dto.internalParticipantIds ?? []);
      const id = randomUUID();
      const summary = await this.cipher.encrypt(tx.manager, EncryptedField.ConversationSummary, latest.case_id, id, dto.summary);
      const [created]: ConversationRow[] = await tx.manager.query(
        `INSERT INTO conversation_records AS i (id, record_id, version, case_id, kind, held_on, internal_participant_ids, external_participants, summary,
                                                agreed_actions, handling, party_id, named_user_ids, recorded_by, correction_reason)
         VALUES ($15, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (record_id, version) DO NOTHING RETURNING ${COLUMNS}`,
        [
          recordId, latest.version + 1, latest.case_id, dto.kind, dto.heldOn, dto.internalParticipantIds ?? [], JSON.stringify(dto.externalParticipants ?? []),
          summary, JSON.stringify(dto.agreedActions ?? []), latest.handling, latest.party_id, latest.named_user_ids, actor.userId, dto.correctionReason, id,
        ],
      );
      if (!created) throw new VersionConflictError('The record');
      await this.cipher.openConversations(tx.manager, [created]);
      tx.audit({ action: AuditAction.Correct, resourceType: ResourceType.Conversation, resourceId: recordId, caseId: latest.case_id });
      await this.deadlines.conversationRecorded(tx.manager, latest.case_id, recordId, created.kind, created.agreed_actions);
      return toDto(created);
    });
  }

  /** All versions of a record, newest first, after checking the caller may see its case and the record itself. */
  private async openRecord(tx: CaseFileTx, recordId: string, action: CaseAction, auditAction: AuditAction): Promise<ConversationRow[]> {
    const versions: ConversationRow[] = await tx.manager.query(
      `SELECT ${COLUMNS} FROM conversation_records i WHERE i.record_id = $1 ORDER BY i.version DESC`, [recordId]);
    if (versions.length === 0) return tx.refuseUnseenItem('conversation', ResourceType.Conversation, recordId, auditAction);
    await tx.openCase(versions[0].case_id, action, { lock: action !== CaseAction.Read, resourceType: ResourceType.Conversation, auditAction, hiddenAs: ResourceType.Conversation });
    // The marking is the original's and never changes, so one decision covers every version.
    const v = versions[0];
    const compartment = await compartmentOfRecord(tx.manager, recordId);
    const visible = itemVisibility(tx.actor.principal, { handling: v.handling, partyId: v.party_id, namedUserIds: v.named_user_ids, compartment });
    if (!visible.allowed) tx.refuseHiddenItem(ResourceType.Conversation, recordId, v.case_id, visible.rule, auditAction);
    return versions;
  }

  private async assertParticipants(tx: CaseFileTx, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const [{ n }] = await tx.manager.query(`SELECT count(*)::int AS n FROM users WHERE id = ANY ($1::uuid[])`, [ids]);
    if (n !== ids.length) throw new ValidationError([{ field: 'internalParticipantIds', messages: ['internalParticipantIds must name users of the system'] }]);
  }
}
