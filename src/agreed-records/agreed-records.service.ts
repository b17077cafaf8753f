import { Injectable } from '@nestjs/common';
import { CaseAction, itemVisibility } from '../access-control/case-access-policy';
import { CaseFileTransactions, CaseFileTx } from '../access-control/case-file-transaction';
import { ItemHandling } from '../access-control/handling';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { canonicalRecord, checkpointMessage, RECORD_COLUMNS, SealedRecord } from '../audit/audit-record';
import { leafHash, rootOf } from '../audit/merkle';
import { AuditSealer } from '../audit/sealer';
import { verifySignature } from '../audit/signing';
import { Actor } from '../auth/actor.decorator';
import { iso, isoDate } from '../cases/case-mappers';
import { ConflictError, ForbiddenError, PreconditionFailedError, VersionConflictError } from '../common/domain-error';
import { FieldCipher } from '../encryption/field-cipher';
import { IdempotentResource } from '../idempotency/idempotent-resource';
import { AgreedRecordPolicy, AgreedRecordRule, AgreedRecordType, AgreementFacts, Decision } from './agreed-record-policy';
import {
  AddAddendumDto, AddendumDto, AgreementDto, AgreementProblemDto, AgreementStatusDto, AgreementVerificationDto, AttestationDto, AttestDto,
  ContentDestructionDto, ExternalAgreementDto, RecordExternalAgreementDto,
} from './dto';
import { changedFields, sealOf, SealFields } from './record-seal';
import { SealVerificationState, sealVerificationState, VERIFICATION_AUDIT_RULE } from './seal-verification';

/** The audit rule of a replayed create's read (as in src/idempotency/idempotency-replay.ts). */
const REPLAY_AUDIT_RULE = 'idempotent_replay';

const TS = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The record as the agreement rules see it: ids, never content. */
interface OpenedRecord {
  type: AgreedRecordType;
  recordId: string;
  caseId: string;
  version: number;
  participantIds: string[];
}

interface AttestationRow { id: string; record_type: AgreedRecordType; record_id: string; record_version: number; user_id: string; attested_at: Date }
interface ExternalRow {
  id: string; record_type: AgreedRecordType; record_id: string; counterparty: ExternalAgreementDto['counterparty']; organisation: string;
  agreed_by_role: string | null; agreed_on: string; method: ExternalAgreementDto['method']; recorded_by: string; recorded_at: Date; recorded_at_text: string;
}
interface AgreementRow { id: string; record_version: number; hash_format: string; content_hash: string; field_hashes: Record<string, string>; agreed_at: Date }
interface AddendumRow { id: string; agreement_id: string; record_type: AgreedRecordType; record_id: string; text: string; recorded_by: string; recorded_at: Date }

const RESOURCE_OF: Record<AgreedRecordType, ResourceType> = {
  [AgreedRecordType.Conversation]: ResourceType.Conversation,
  [AgreedRecordType.Meeting]: ResourceType.Meeting,
};
/** Who may add an addendum or record an external agreement: whoever may record that kind of record on the case. */
const WRITE_ACTION_OF: Record<AgreedRecordType, CaseAction> = {
  [AgreedRecordType.Conversation]: CaseAction.RecordConversation,
  [AgreedRecordType.Meeting]: CaseAction.RecordMeeting,
};

const toAttestation = (r: AttestationRow): AttestationDto => ({
  id: r.id, recordType: r.record_type, recordId: r.record_id, version: r.record_version, userId: r.user_id, attestedAt: iso(r.attested_at)!,
});
const toExternal = (r: ExternalRow): ExternalAgreementDto => ({
  id: r.id, recordType: r.record_type, recordId: r.record_id, counterparty: r.counterparty, organisation: r.organisation, agreedByRole: r.agreed_by_role,
  agreedOn: isoDate(r.agreed_on), method: r.method, recordedBy: r.recorded_by, recordedAt: iso(r.recorded_at)!,
});
const toAgreement = (r: AgreementRow): AgreementDto => ({
  id: r.id, version: r.record_version, hashFormat: r.hash_format, contentHash: r.content_hash, agreedAt: iso(r.agreed_at)!,
});
const toAddendum = (r: AddendumRow): AddendumDto => ({
  id: r.id, agreementId: r.agreement_id, recordType: r.record_type, recordId: r.record_id, text: r.text, recordedBy: r.recorded_by, recordedAt: iso(r.recorded_at)!,
});

const EXTERNAL_COLUMNS = `id, record_type, record_id, counterparty, organisation, agreed_by_role, to_char(agreed_on, 'YYYY-MM-DD') AS agreed_on, method,
  recorded_by, recorded_at, ${TS('recorded_at')} AS recorded_at_text`;

/**
 * Agreed records (issue 8, point 3): attestation by the named participants, the seal (a hash of
 * the record's plaintext content and metadata, carried by an audit record into the Merkle tree),
 * external agreements, addenda, and the verification of a seal. Every command is one
 * `CaseFileTransactions.run`: the caller's policy, row-level security and the audit trail.
 */
@Injectable()
export class AgreedRecordsService {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly cipher: FieldCipher,
    private readonly sealer: AuditSealer,
  ) {}

  status(actor: Actor, type: AgreedRecordType, recordId: string): Promise<AgreementStatusDto> {
    return this.transactions.run(actor, async (tx) => {
      const record = await this.openRecord(tx, type, recordId, CaseAction.Read, AuditAction.Read);
      tx.audit({ action: AuditAction.Read, resourceType: RESOURCE_OF[type], resourceId: recordId, caseId: record.caseId, rule: 'agreement_status' });
      return this.statusOf(tx, record);
    });
  }

  /** A named participant attests the latest version; the last one to do so seals the record. */
  attest(actor: Actor, type: AgreedRecordType, recordId: string, dto: AttestDto): Promise<AttestationDto> {
    return this.transactions.run(actor, async (tx) => {
      // The case row lock serialises attestations with each other and with corrections.
      const record = await this.openRecord(tx, type, recordId, CaseAction.Read, AuditAction.AttestRecord, true);
      const facts = await this.factsOf(tx, record);
      const decision = AgreedRecordPolicy.mayAttest(actor.principal.userId, facts);
      if (!decision.allowed) this.refuse(tx, record, decision, AuditAction.AttestRecord);
      if (dto.version !== record.version) throw new VersionConflictError('The record');
      const [row]: AttestationRow[] = await tx.manager.query(
        `INSERT INTO record_attestations (record_type, record_id, record_version, case_id, user_id) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, record_type, record_id, record_version, user_id, attested_at`,
        [type, recordId, record.version, record.caseId, actor.userId],
      );
      tx.audit({ action: AuditAction.AttestRecord, resourceType: RESOURCE_OF[type], resourceId: recordId, caseId: record.caseId, rule: `version:${record.version}` });
      if (AgreedRecordPolicy.isAgreedWith(facts, actor.principal.userId)) await this.seal(tx, record);
      return toAttestation(row);
    });
  }

  recordExternalAgreement(actor: Actor, type: AgreedRecordType, recordId: string, dto: RecordExternalAgreementDto): Promise<ExternalAgreementDto> {
    return this.transactions.run(actor, async (tx) => {
      const record = await this.openRecord(tx, type, recordId, WRITE_ACTION_OF[type], AuditAction.RecordExternalAgreement, true);
      const decision = AgreedRecordPolicy.mayRecordExternalAgreement(await this.factsOf(tx, record));
      if (!decision.allowed) this.refuse(tx, record, decision, AuditAction.RecordExternalAgreement);
      const [row]: ExternalRow[] = await tx.manager.query(
        `INSERT INTO record_external_agreements (record_type, record_id, case_id, counterparty, organisation, agreed_by_role, agreed_on, method, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${EXTERNAL_COLUMNS}`,
        [type, recordId, record.caseId, dto.counterparty, dto.organisation, dto.agreedByRole ?? null, dto.agreedOn, dto.method, actor.userId],
      );
      tx.audit({ action: AuditAction.RecordExternalAgreement, resourceType: RESOURCE_OF[type], resourceId: recordId, caseId: record.caseId, rule: `${dto.counterparty}:${dto.method}` });
      return toExternal(row);
    });
  }

  addAddendum(actor: Actor, type: AgreedRecordType, recordId: string, dto: AddAddendumDto): Promise<AddendumDto> {
    return this.transactions.run(actor, async (tx) => {
      const record = await this.openRecord(tx, type, recordId, WRITE_ACTION_OF[type], AuditAction.Create, true);
      const facts = await this.factsOf(tx, record);
      const decision = AgreedRecordPolicy.mayAddAddendum(facts);
      if (!decision.allowed) this.refuse(tx, record, decision, AuditAction.Create);
      const [row]: AddendumRow[] = await tx.manager.query(
        `INSERT INTO record_addenda (agreement_id, record_type, record_id, case_id, text, recorded_by)
         SELECT a.id, a.record_type, a.record_id, a.case_id, $3, $4 FROM record_agreements a WHERE a.record_type = $1 AND a.record_id = $2
         RETURNING id, agreement_id, record_type, record_id, text, recorded_by, recorded_at`,
        [type, recordId, dto.text, actor.userId],
      );
      tx.audit({ action: AuditAction.Create, resourceType: ResourceType.RecordAddendum, resourceId: row.id, caseId: record.caseId, rule: `${type}:${recordId}` });
      return toAddendum(row);
    });
  }

  /**
   * Recomputes the record's hash and checks it against the agreement, that the agreement's audit
   * record carries that hash, and that the audit record is sealed in the Merkle tree under a
   * signed checkpoint. Problems are answered (200), not thrown: this is a report. After retention
   * destroyed the case's content the answer is `content_destroyed` with the deletion certificate,
   * never a hash mismatch; the agreement's audit record is still checked.
   */
  verify(actor: Actor, type: AgreedRecordType, recordId: string): Promise<AgreementVerificationDto> {
    return this.transactions.run(actor, async (tx) => {
      const record = await this.openRecord(tx, type, recordId, CaseAction.Read, AuditAction.Verify);
      const [agreement]: AgreementRow[] = await tx.manager.query(
        `SELECT id, record_version, hash_format, content_hash, field_hashes, agreed_at FROM record_agreements WHERE record_type = $1 AND record_id = $2`, [type, recordId]);
      if (!agreement) throw new PreconditionFailedError('The record has not been agreed: there is no seal to verify', { precondition: 'record_agreed' });
      const problems: AgreementProblemDto[] = [];
      // Retention destroyed the content (and its keys): nothing is left to hash, which is not tampering.
      const destruction = await this.destructionOf(tx, record.caseId);
      let recomputedHash: string | null = null;
      if (!destruction) {
        const seal = sealOf(type, await this.sealFields(tx, { ...record, version: agreement.record_version }, true));
        recomputedHash = seal.contentHash;
        if (seal.contentHash !== agreement.content_hash) {
          const fields = changedFields(agreement.field_hashes, seal.fieldHashes);
          problems.push({
            code: 'content_hash_mismatch', fields,
            message: `The ${type} record ${recordId} (version ${agreement.record_version}) no longer matches its agreement ${agreement.id}: changed ${fields.join(', ') || 'content'}`,
          });
        }
      }
      const audit = await this.checkAuditSeal(tx, agreement, problems);
      const state = sealVerificationState({ contentDestroyed: destruction !== null, problems: problems.length });
      tx.audit({ action: AuditAction.Verify, resourceType: ResourceType.AgreedRecord, resourceId: agreement.id, caseId: record.caseId, rule: VERIFICATION_AUDIT_RULE[state] });
      return {
        recordType: type, recordId, agreementId: agreement.id, state, valid: state === SealVerificationState.Intact, storedHash: agreement.content_hash, recomputedHash,
        destruction, ...audit, problems,
      };
    });
  }

  /** When retention destroyed the case's content, and the certificate it issued; null while the content exists. */
  private async destructionOf(tx: CaseFileTx, caseId: string): Promise<ContentDestructionDto | null> {
    const [row]: Array<{ destroyed_at: string | null; certificate_id: string | null; certificate_hash: string | null }> = await tx.manager.query(
      `SELECT ${TS('c.content_destroyed_at')} AS destroyed_at, d.id AS certificate_id, encode(d.certificate_hash, 'hex') AS certificate_hash
         FROM cases c
         LEFT JOIN LATERAL (SELECT id, certificate_hash FROM deletion_certificates WHERE case_id = c.id ORDER BY issued_at DESC LIMIT 1) d ON TRUE
        WHERE c.id = $1`,
      [caseId],
    );
    if (!row?.destroyed_at) return null;
    return { destroyedAt: row.destroyed_at, deletionCertificateId: row.certificate_id, deletionCertificateHash: row.certificate_hash };
  }

  /** Answers a retried create (Idempotency-Key) by reading what it created, as the caller may read it now. */
  replay(actor: Actor, resource: IdempotentResource, id: string): Promise<unknown> {
    return this.transactions.run(actor, async (tx) => {
      const table = {
        [IdempotentResource.RecordAttestation]: 'record_attestations',
        [IdempotentResource.RecordExternalAgreement]: 'record_external_agreements',
        [IdempotentResource.RecordAddendum]: 'record_addenda',
      }[resource as IdempotentResource.RecordAttestation];
      const [found]: Array<{ record_type: AgreedRecordType; record_id: string }> = table
        ? await tx.manager.query(`SELECT record_type, record_id FROM ${table} WHERE id = $1`, [id]) : [];
      if (!found) tx.refuseHiddenItem(ResourceType.AgreedRecord, id, null, 'agreed_record_item_not_found');
      const record = await this.openRecord(tx, found.record_type, found.record_id, CaseAction.Read, AuditAction.Read);
      tx.audit({ action: AuditAction.Read, resourceType: RESOURCE_OF[record.type], resourceId: record.recordId, caseId: record.caseId, rule: REPLAY_AUDIT_RULE });
      if (resource === IdempotentResource.RecordAttestation) {
        const [r]: AttestationRow[] = await tx.manager.query(`SELECT id, record_type, record_id, record_version, user_id, attested_at FROM record_attestations WHERE id = $1`, [id]);
        return toAttestation(r);
      }
      if (resource === IdempotentResource.RecordExternalAgreement) {
        const [r]: ExternalRow[] = await tx.manager.query(`SELECT ${EXTERNAL_COLUMNS} FROM record_external_agreements WHERE id = $1`, [id]);
        return toExternal(r);
      }
      const [r]: AddendumRow[] = await tx.manager.query(`SELECT id, agreement_id, record_type, record_id, text, recorded_by, recorded_at FROM record_addenda WHERE id = $1`, [id]);
      return toAddendum(r);
    });
  }

  /**
   * Loads a record's latest version and checks the caller may see it and do `action` on its case:
   * a record they may not see is "not found", exactly like one that does not exist.
   */
  private async openRecord(tx: CaseFileTx, type: AgreedRecordType, recordId: string, action: CaseAction, auditAction: AuditAction, lock = false): Promise<OpenedRecord> {
    const resourceType = RESOURCE_OF[type];
    if (type === AgreedRecordType.Conversation) {
      const [v]: Array<{ case_id: string; version: number; internal_participant_ids: string[]; handling: ItemHandling; party_id: string | null; named_user_ids: string[] }> =
        await tx.manager.query(
          `SELECT case_id, version, internal_participant_ids, handling, party_id, named_user_ids FROM conversation_records WHERE record_id = $1 ORDER BY version DESC LIMIT 1`,
          [recordId],
        );
      if (!v) return tx.refuseUnseenItem('conversation', resourceType, recordId, auditAction);
      await tx.openCase(v.case_id, action, { lock, resourceType, auditAction, hiddenAs: resourceType });
      const visible = itemVisibility(tx.actor.principal, { handling: v.handling, partyId: v.party_id, namedUserIds: v.named_user_ids });
      if (!visible.allowed) tx.refuseHiddenItem(resourceType, recordId, v.case_id, visible.rule, auditAction);
      return { type, recordId, caseId: v.case_id, version: v.version, participantIds: v.internal_participant_ids };
    }
    const [m]: Array<{ case_id: string; version: number; participant_user_ids: string[] }> = await tx.manager.query(
      `SELECT case_id, version, participant_user_ids FROM pre_intervention_meetings WHERE id = $1`, [recordId]);
    if (!m) return tx.refuseUnseenItem('meeting', resourceType, recordId, auditAction);
    await tx.openCase(m.case_id, action, { lock, resourceType, auditAction, hiddenAs: resourceType });
    return { type, recordId, caseId: m.case_id, version: m.version, participantIds: m.participant_user_ids };
  }

  private async factsOf(tx: CaseFileTx, r: OpenedRecord): Promise<AgreementFacts> {
    const attested: Array<{ user_id: string }> = await tx.manager.query(
      `SELECT user_id FROM record_attestations WHERE record_type = $1 AND record_id = $2 AND record_version = $3`, [r.type, r.recordId, r.version]);
    const [agreement] = await tx.manager.query(`SELECT 1 FROM record_agreements WHERE record_type = $1 AND record_id = $2`, [r.type, r.recordId]);
    return { version: r.version, participantIds: r.participantIds, attestedBy: attested.map((a) => a.user_id), agreed: !!agreement };
  }

  /** A refusal by the agreement rules: 403 for someone not named, 409 for the rest; audited either way. */
  private refuse(tx: CaseFileTx, r: OpenedRecord, d: Decision, action: AuditAction): never {
    const audit = { action, resourceType: RESOURCE_OF[r.type], resourceId: r.recordId, caseId: r.caseId, rule: d.rule };
    switch (d.rule) {
      case AgreedRecordRule.NotNamedParticipant:
        return tx.refuse(new ForbiddenError('Only the participants named on the record may attest it'), audit);
      case AgreedRecordRule.NoNamedParticipants:
        return tx.refuse(new PreconditionFailedError('The record names no participant who is a user: correct it to name who took part', { precondition: d.rule }), audit);
      case AgreedRecordRule.AlreadyAttested:
        return tx.refuse(new ConflictError('You have already attested this version of the record', { rule: d.rule }), audit);
      case AgreedRecordRule.AgreedRecordSealed:
        return tx.refuse(new ConflictError('The record has been agreed and sealed: add an addendum instead', { rule: d.rule }), audit);
      case AgreedRecordRule.AddendumNeedsAgreement:
        return tx.refuse(new ConflictError('The record is still a draft: correct it instead; addenda are for agreed records', { rule: d.rule }), audit);
      default:
        return tx.refuse(new ForbiddenError(), audit);
    }
  }

  /** Seals the record: its hash in record_agreements and, in the same transaction, in an audit record for the Merkle tree. */
  private async seal(tx: CaseFileTx, r: OpenedRecord): Promise<void> {
    const seal = sealOf(r.type, await this.sealFields(tx, r, false));
    const [row]: Array<{ id: string }> = await tx.manager.query(
      `INSERT INTO record_agreements (record_type, record_id, record_version, case_id, hash_format, content_hash, field_hashes)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [r.type, r.recordId, r.version, r.caseId, seal.format, seal.contentHash, JSON.stringify(seal.fieldHashes)],
    );
    tx.audit({
      action: AuditAction.AgreeRecord, resourceType: ResourceType.AgreedRecord, resourceId: row.id, caseId: r.caseId,
      rule: `${r.type}:${r.recordId}:v${r.version}`, justification: `sha256:${seal.contentHash}`,
    });
  }

  /**
   * The record's content and metadata as sealed: every stored field of the agreed version, with a
   * conversation's summary as PLAINTEXT (so that re-encryption onto a new key never breaks a seal),
   * the attestations of that version and the external agreements. `tolerant`: a summary that no
   * longer decrypts (tampered ciphertext) is sealed as unreadable, so verification names it.
   */
  private async sealFields(tx: CaseFileTx, r: OpenedRecord, tolerant: boolean): Promise<SealFields> {
    const attestations: Array<{ user_id: string; attested_at: string }> = await tx.manager.query(
      `SELECT user_id, ${TS('attested_at')} AS attested_at FROM record_attestations WHERE record_type = $1 AND record_id = $2 AND record_version = $3 ORDER BY user_id`,
      [r.type, r.recordId, r.version],
    );
    const external: ExternalRow[] = await tx.manager.query(
      `SELECT ${EXTERNAL_COLUMNS} FROM record_external_agreements WHERE record_type = $1 AND record_id = $2 ORDER BY id`, [r.type, r.recordId]);
    const metadata: SealFields = [
      ['attestations', attestations.map((a) => ({ userId: a.user_id, attestedAt: a.attested_at }))],
      ['externalAgreements', external.map((e) => ({
        id: e.id, counterparty: e.counterparty, organisation: e.organisation, agreedByRole: e.agreed_by_role, agreedOn: e.agreed_on, method: e.method,
        recordedBy: e.recorded_by, recordedAt: e.recorded_at_text,
      }))],
    ];
    if (r.type === AgreedRecordType.Conversation) {
      const [c]: Array<Record<string, unknown> & { id: string; case_id: string; summary: unknown }> = await tx.manager.query(
        `SELECT id, record_id, version, case_id, kind, to_char(held_on, 'YYYY-MM-DD') AS held_on, internal_participant_ids, external_participants, summary,
                agreed_actions, handling, party_id, named_user_ids, recorded_by, ${TS('recorded_at')} AS recorded_at, correction_reason
           FROM conversation_records WHERE record_id = $1 AND version = $2`,
        [r.recordId, r.version],
      );
      try {
        await this.cipher.openConversations(tx.manager, [c]);
      } catch (error) {
        if (!tolerant) throw error;
        c.summary = { unreadable: true };
      }
      return [
        ['recordId', c.record_id], ['version', c.version], ['caseId', c.case_id], ['kind', c.kind], ['heldOn', c.held_on],
        ['internalParticipantIds', c.internal_participant_ids], ['externalParticipants', c.external_participants], ['summary', c.summary],
        ['agreedActions', c.agreed_actions], ['handling', c.handling], ['partyId', c.party_id], ['namedUserIds', c.named_user_ids],
        ['recordedBy', c.recorded_by], ['recordedAt', c.recorded_at], ['correctionReason', c.correction_reason], ...metadata,
      ];
    }
    const [m]: Array<Record<string, unknown>> = await tx.manager.query(
      `SELECT id, case_id, to_char(meeting_on, 'YYYY-MM-DD') AS meeting_on, intervention_contemplated, attendees, agenda, participant_user_ids, outcome, outcome_notes,
              to_char(deferred_until, 'YYYY-MM-DD') AS deferred_until, outcome_recorded_by, ${TS('outcome_recorded_at')} AS outcome_recorded_at,
              recorded_by, ${TS('recorded_at')} AS recorded_at, version
         FROM pre_intervention_meetings WHERE id = $1`,
      [r.recordId],
    );
    return [
      ['id', m.id], ['version', m.version], ['caseId', m.case_id], ['meetingOn', m.meeting_on], ['interventionContemplated', m.intervention_contemplated],
      ['attendees', m.attendees], ['agenda', m.agenda], ['participantUserIds', m.participant_user_ids], ['outcome', m.outcome], ['outcomeNotes', m.outcome_notes],
      ['deferredUntil', m.deferred_until], ['outcomeRecordedBy', m.outcome_recorded_by], ['outcomeRecordedAt', m.outcome_recorded_at],
      ['recordedBy', m.recorded_by], ['recordedAt', m.recorded_at], ...metadata,
    ];
  }

  /** The agreement's audit record: present, carrying the hash, sealed, and included in the tree of a signed checkpoint. */
  private async checkAuditSeal(tx: CaseFileTx, agreement: AgreementRow, problems: AgreementProblemDto[]) {
    const out = { auditRecordId: null as string | null, auditSeq: null as number | null, checkpointTreeSize: null as number | null };
    const [event]: Array<Omit<SealedRecord, 'seq'>> = await tx.manager.query(
      `SELECT ${RECORD_COLUMNS} FROM audit_events e
        WHERE e.resource_type = $1 AND e.resource_id = $2 AND e.action = $3 AND e.outcome = 'allowed'`,
      [ResourceType.AgreedRecord, agreement.id, AuditAction.AgreeRecord],
    );
    if (!event) {
      problems.push({ code: 'audit_record_missing', message: `No audit record of agreement ${agreement.id}` });
      return out;
    }
    out.auditRecordId = event.id;
    if (event.justification !== `sha256:${agreement.content_hash}`) {
      problems.push({ code: 'audit_hash_mismatch', message: `The audit record ${event.id} does not carry the hash stored with agreement ${agreement.id}` });
    }
    const [seal]: Array<{ seq: string; leaf_hash: Buffer }> = await tx.manager.query(`SELECT seq::text AS seq, leaf_hash FROM audit_seals WHERE event_id = $1`, [event.id]);
    if (!seal) {
      problems.push({ code: 'audit_record_not_sealed', message: `The audit record ${event.id} of agreement ${agreement.id} is not sealed in the Merkle tree yet` });
      return out;
    }
    out.auditSeq = Number(seal.seq);
    if (!leafHash(canonicalRecord(event)).equals(Buffer.from(seal.leaf_hash))) {
      problems.push({ code: 'audit_leaf_mismatch', message: `The audit record ${event.id} no longer matches its leaf in the Merkle tree` });
    }
    const [cp]: Array<{ tree_size: string; root_hash: Buffer; tx_horizon: string; created_at: string; previous_hash: Buffer | null; key_id: string; signature: Buffer }> =
      await tx.manager.query(
        `SELECT tree_size::text AS tree_size, root_hash, tx_horizon::text AS tx_horizon, ${TS('created_at')} AS created_at, previous_hash, key_id, signature
           FROM audit_checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1`,
        [seal.seq],
      );
    if (!cp) {
      problems.push({ code: 'not_in_checkpoint', message: `No signed checkpoint covers the audit record ${event.id} yet` });
      return out;
    }
    out.checkpointTreeSize = Number(cp.tree_size);
    // The root over every leaf up to the checkpoint: the record's leaf is in the tree the checkpoint signs.
    const leaves: Array<{ leaf_hash: Buffer }> = await tx.manager.query(`SELECT leaf_hash FROM audit_seals WHERE seq <= $1 ORDER BY seq`, [cp.tree_size]);
    const rootMatches = leaves.length === Number(cp.tree_size) && rootOf(leaves.map((l) => Buffer.from(l.leaf_hash))).equals(Buffer.from(cp.root_hash));
    const body = {
      treeSize: Number(cp.tree_size), rootHash: Buffer.from(cp.root_hash).toString('hex'), txHorizon: cp.tx_horizon, createdAt: cp.created_at,
      previousHash: cp.previous_hash ? Buffer.from(cp.previous_hash).toString('hex') : null, keyId: cp.key_id,
    };
    // A checkpoint signed by an earlier key is checked by the full trail verification (audit:verify with that key).
    const signed = cp.key_id !== this.sealer.signer.keyId || verifySignature(this.sealer.signer.publicKeyRaw, checkpointMessage(body), Buffer.from(cp.signature));
    if (!rootMatches || !signed) {
      problems.push({ code: 'not_in_checkpoint', message: `The audit record ${event.id} is not included in the signed checkpoint of size ${cp.tree_size}` });
    }
    return out;
  }

  private async statusOf(tx: CaseFileTx, r: OpenedRecord): Promise<AgreementStatusDto> {
    const attestations: AttestationRow[] = await tx.manager.query(
      `SELECT id, record_type, record_id, record_version, user_id, attested_at FROM record_attestations WHERE record_type = $1 AND record_id = $2
        ORDER BY attested_at, id`, [r.type, r.recordId]);
    const external: ExternalRow[] = await tx.manager.query(
      `SELECT ${EXTERNAL_COLUMNS} FROM record_external_agreements WHERE record_type = $1 AND record_id = $2 ORDER BY recorded_at, id`, [r.type, r.recordId]);
    const [agreement]: AgreementRow[] = await tx.manager.query(
      `SELECT id, record_version, hash_format, content_hash, field_hashes, agreed_at FROM record_agreements WHERE record_type = $1 AND record_id = $2`, [r.type, r.recordId]);
    const addenda: AddendumRow[] = await tx.manager.query(
      `SELECT id, agreement_id, record_type, record_id, text, recorded_by, recorded_at FROM record_addenda WHERE record_type = $1 AND record_id = $2
        ORDER BY recorded_at, id`, [r.type, r.recordId]);
    const facts: AgreementFacts = {
      version: r.version, participantIds: r.participantIds, agreed: !!agreement,
      attestedBy: attestations.filter((a) => a.record_version === r.version).map((a) => a.user_id),
    };
    return {
      recordType: r.type, recordId: r.recordId, version: r.version, state: AgreedRecordPolicy.state(facts), participantIds: r.participantIds,
      pendingParticipantIds: facts.agreed ? [] : AgreedRecordPolicy.pending(facts), attestations: attestations.map(toAttestation),
      externalAgreements: external.map(toExternal), agreement: agreement ? toAgreement(agreement) : null, addenda: addenda.map(toAddendum),
    };
  }
}

