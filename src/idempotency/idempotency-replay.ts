import { Injectable } from '@nestjs/common';
import { CaseAction, itemVisibility } from '../access-control/case-access-policy';
import { compartmentOfRecord } from '../compartments/compartment-facts';
import { CaseFileTransactions, CaseFileTx } from '../access-control/case-file-transaction';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { Actor } from '../auth/actor.decorator';
import { ConcernRow, iso, toCaseSummary, toConcernDto } from '../cases/case-mappers';
import { CasesService, CONCERN_SELECT } from '../cases/cases.service';
import { LoggedConcernDto } from '../cases/dto';
import { FieldCipher } from '../encryption/field-cipher';
import { COLUMNS as CONVERSATION_COLUMNS, ConversationRow, toDto as toConversationDto } from '../conversations/conversations.service';
import { COLUMNS as MEETING_COLUMNS, MeetingRow, toDto as toMeetingDto } from '../meetings/meetings.service';
import { COLUMNS as SUPPORT_COLUMNS, SupportRow, toDto as toSupportDto } from '../support/support.service';
import { AgreedRecordsService } from '../agreed-records/agreed-records.service';
import { CreatedRef, IdempotentResource } from './idempotent-resource';

/** The audit rule of a replay's read: what was read, and that it was a retried create being answered. */
export const REPLAY_AUDIT_RULE = 'idempotent_replay';

/**
 * Answers a retried create by reading the record it created, through the same policy and audit
 * as any read (one transaction, `openCase` for the case, the item's own marking): nothing of the
 * first answer is cached, so a replay shows no more than the caller may see now. A caller who
 * lost access since gets the same 404 as for a record that does not exist. Each read is audited
 * as a read (rule `idempotent_replay`), never as a second create.
 *
 * The readers use each service's own SELECT and row mapper: a change in how a service turns rows
 * into its answer (e.g. decrypting fields) must be made here too. test/idempotency compares every
 * endpoint's replayed body with its first answer, so a divergence fails there.
 */
@Injectable()
export class IdempotencyReplay {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly cases: CasesService,
    private readonly cipher: FieldCipher,
    private readonly agreedRecords: AgreedRecordsService,
  ) {}

  read(actor: Actor, resource: IdempotentResource, created: CreatedRef): Promise<unknown> {
    switch (resource) {
      case IdempotentResource.Concern:
        return this.transactions.run(actor, (tx) => this.concern(tx, created.id));
      case IdempotentResource.Conversation:
        return this.transactions.run(actor, (tx) => this.conversation(tx, created));
      case IdempotentResource.Meeting:
        return this.transactions.run(actor, (tx) => this.meeting(tx, created.id));
      case IdempotentResource.Support:
        return this.transactions.run(actor, (tx) => this.support(tx, created.id));
      case IdempotentResource.ProgressNote:
        return this.transactions.run(actor, (tx) => this.progressNote(tx, created.id));
      case IdempotentResource.TeamMember:
        // Adding a team member answers with the case: the ordinary case read (audited as one).
        return this.cases.get(actor, created.id);
      case IdempotentResource.RecordAttestation:
      case IdempotentResource.RecordExternalAgreement:
      case IdempotentResource.RecordAddendum:
        return this.agreedRecords.replay(actor, resource, created.id);
    }
  }

  /** The answer of POST /concerns: the concern, its case, whether it opened the case, and the open-case warning. */
  private async concern(tx: CaseFileTx, concernId: string): Promise<LoggedConcernDto> {
    const [found]: Array<{ case_id: string }> = await tx.manager.query(`SELECT case_id FROM concerns WHERE id = $1`, [concernId]);
    if (!found) tx.refuseHiddenItem(ResourceType.Concern, concernId, null, 'concern_not_found');
    const caseRow = await tx.openCase(found.case_id, CaseAction.Read, { resourceType: ResourceType.Concern, hiddenAs: ResourceType.Concern });
    // Never the source's identity, as in every concern read (issue 5.3: src/source-identity).
    const [concern]: ConcernRow[] = await tx.manager.query(
      `${CONCERN_SELECT} FROM concerns i LEFT JOIN concern_sources s ON s.concern_id = i.id WHERE i.id = $1`, [concernId]);
    const visible = itemVisibility(tx.actor.principal, { handling: concern.handling, partyId: null, namedUserIds: concern.named_user_ids });
    if (!visible.allowed) tx.refuseHiddenItem(ResourceType.Concern, concernId, caseRow.id, visible.rule);
    tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Concern, resourceId: concernId, caseId: caseRow.id, rule: REPLAY_AUDIT_RULE });
    await this.cipher.openConcerns(tx.manager, [concern]);
    // A concern that opened its case was written in the same transaction as the case, so both
    // carry that transaction's now(): derived, not stored, like everything else in a replay.
    const openedNewCase = new Date(concern.logged_at).getTime() === new Date(caseRow.opened_at).getTime();
    const warnings: LoggedConcernDto['warnings'] = [];
    if (openedNewCase) {
      const open: Array<{ reference: string }> = await tx.manager.query(
        `SELECT reference FROM cases WHERE authority_id = $1 AND state <> 'closed' AND id <> $2 AND opened_at < $3 ORDER BY opened_at`,
        [caseRow.authority_id, caseRow.id, caseRow.opened_at],
      );
      if (open.length > 0) {
        warnings.push({
          code: 'OPEN_CASE_EXISTS',
          message: 'This authority already has an open case; this concern opened a new one. Attach future concerns with caseId if they belong together.',
          caseReferences: open.map((o) => o.reference),
        });
      }
    }
    return { concern: toConcernDto(concern), case: toCaseSummary(caseRow), openedNewCase, warnings };
  }

  /** The version of a conversation record that the request created (the record or its correction). */
  private async conversation(tx: CaseFileTx, created: CreatedRef) {
    const versions: ConversationRow[] = await tx.manager.query(
      `SELECT ${CONVERSATION_COLUMNS} FROM conversation_records i WHERE i.record_id = $1 ORDER BY i.version DESC`, [created.id]);
    if (versions.length === 0) tx.refuseHiddenItem(ResourceType.Conversation, created.id, null, 'conversation_not_found');
    const caseRow = await tx.openCase(versions[0].case_id, CaseAction.Read, { resourceType: ResourceType.Conversation, hiddenAs: ResourceType.Conversation });
    // The marking is the original's and never changes, so one decision covers every version.
    const latest = versions[0];
    const compartment = await compartmentOfRecord(tx.manager, created.id);
    const visible = itemVisibility(tx.actor.principal, { handling: latest.handling, partyId: latest.party_id, namedUserIds: latest.named_user_ids, compartment });
    if (!visible.allowed) tx.refuseHiddenItem(ResourceType.Conversation, created.id, caseRow.id, visible.rule);
    const version = versions.find((v) => v.version === created.version);
    if (!version) tx.refuseHiddenItem(ResourceType.Conversation, created.id, caseRow.id, 'conversation_version_not_found');
    tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Conversation, resourceId: created.id, caseId: caseRow.id, rule: REPLAY_AUDIT_RULE });
    await this.cipher.openConversations(tx.manager, [version!]);
    return toConversationDto(version);
  }

  private async meeting(tx: CaseFileTx, meetingId: string) {
    const [meeting]: MeetingRow[] = await tx.manager.query(`SELECT ${MEETING_COLUMNS} FROM pre_intervention_meetings WHERE id = $1`, [meetingId]);
    if (!meeting) tx.refuseHiddenItem(ResourceType.Meeting, meetingId, null, 'meeting_not_found');
    const caseRow = await tx.openCase(meeting.case_id, CaseAction.Read, { resourceType: ResourceType.Meeting, hiddenAs: ResourceType.Meeting });
    tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Meeting, resourceId: meetingId, caseId: caseRow.id, rule: REPLAY_AUDIT_RULE });
    return toMeetingDto(meeting);
  }

  private async support(tx: CaseFileTx, supportId: string) {
    const [support]: SupportRow[] = await tx.manager.query(`SELECT ${SUPPORT_COLUMNS} FROM improvement_support WHERE id = $1`, [supportId]);
    if (!support) tx.refuseHiddenItem(ResourceType.Support, supportId, null, 'support_not_found');
    const caseRow = await tx.openCase(support.case_id, CaseAction.Read, { resourceType: ResourceType.Support, hiddenAs: ResourceType.Support });
    tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Support, resourceId: supportId, caseId: caseRow.id, rule: REPLAY_AUDIT_RULE });
    return toSupportDto(support);
  }

  private async progressNote(tx: CaseFileTx, noteId: string) {
    const [note]: Array<{ id: string; support_id: string; case_id: string; note: string; recorded_by: string; recorded_at: Date }> = await tx.manager.query(
      `SELECT n.id, n.support_id, s.case_id, n.note, n.recorded_by, n.recorded_at
         FROM support_progress_notes n JOIN improvement_support s ON s.id = n.support_id WHERE n.id = $1`,
      [noteId],
    );
    if (!note) tx.refuseHiddenItem(ResourceType.ProgressNote, noteId, null, 'progress_note_not_found');
    const caseRow = await tx.openCase(note.case_id, CaseAction.Read, { resourceType: ResourceType.ProgressNote, hiddenAs: ResourceType.ProgressNote });
    tx.audit({ action: AuditAction.Read, resourceType: ResourceType.ProgressNote, resourceId: noteId, caseId: caseRow.id, rule: REPLAY_AUDIT_RULE });
    return { id: note.id, supportId: note.support_id, note: note.note, recordedBy: note.recorded_by, recordedAt: iso(note.recorded_at)! };
  }
}
