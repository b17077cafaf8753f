import { Injectable } from '@nestjs/common';
import { CaseAction } from '../access-control/case-access-policy';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { refuseEditOfAgreedRecord } from '../agreed-records/agreed-record-guard';
import { AgreedRecordType } from '../agreed-records/agreed-record-policy';
import { Actor } from '../auth/actor.decorator';
import { iso, isoDate } from '../cases/case-mappers';
import { CasesService } from '../cases/cases.service';
import { PreconditionFailedError, ValidationError, VersionConflictError } from '../common/domain-error';
import { DeadlineService } from '../deadlines/deadline.service';
import { CaseMove, CaseOutcome, CaseState, GovernmentPower, PreInterventionOutcome } from '../workflow/case-state';
import { MeetingDto, MeetingOutcomeDto, RecordMeetingDto } from './dto';

/** Exported for the idempotent replay of a create (src/idempotency). */
export interface MeetingRow {
  id: string;
  case_id: string;
  meeting_on: string;
  intervention_contemplated: GovernmentPower;
  attendees: MeetingDto['attendees'];
  agenda: string | null;
  participant_user_ids: string[];
  outcome: PreInterventionOutcome | null;
  outcome_notes: string | null;
  deferred_until: string | null;
  outcome_recorded_at: Date | null;
  recorded_by: string;
  recorded_at: Date;
  version: number;
}

/** Exported for the idempotent replay of a create (src/idempotency). */
export const COLUMNS = `id, case_id, to_char(meeting_on, 'YYYY-MM-DD') AS meeting_on, intervention_contemplated, attendees, agenda, participant_user_ids, outcome, outcome_notes,
  to_char(deferred_until, 'YYYY-MM-DD') AS deferred_until, outcome_recorded_at, recorded_by, recorded_at, version`;

/** Exported for the idempotent replay of a create (src/idempotency). */
export function toDto(r: MeetingRow): MeetingDto {
  return {
    id: r.id, caseId: r.case_id, meetingOn: isoDate(r.meeting_on), interventionContemplated: r.intervention_contemplated, attendees: r.attendees,
    agenda: r.agenda, participantUserIds: r.participant_user_ids, outcome: r.outcome, outcomeNotes: r.outcome_notes, deferredUntil: r.deferred_until, outcomeRecordedAt: iso(r.outcome_recorded_at),
    recordedBy: r.recorded_by, recordedAt: iso(r.recorded_at)!, version: r.version,
  };
}

/** What each meeting outcome does to the case (DOMAIN.md: the outcome drives the move). */
const MOVE_FOR_OUTCOME: Record<PreInterventionOutcome, CaseMove | null> = {
  [PreInterventionOutcome.SectorLedAlternativeAgreed]: CaseMove.ReturnToSectorLedSupport,
  [PreInterventionOutcome.InterventionProceeds]: CaseMove.Close,
  [PreInterventionOutcome.Deferred]: null,
};

@Injectable()
export class MeetingsService {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly cases: CasesService,
    private readonly deadlines: DeadlineService,
  ) {}

  record(actor: Actor, caseId: string, dto: RecordMeetingDto): Promise<MeetingDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.RecordMeeting, { lock: true, resourceType: ResourceType.Meeting, auditAction: AuditAction.Create });
      if (row.state !== CaseState.PreIntervention) {
        throw new PreconditionFailedError('A pre-intervention meeting is recorded once the case has moved to the pre-intervention stage', { precondition: 'case_in_pre_intervention' });
      }
      const participants = dto.participantUserIds ?? [];
      const [{ n }] = await tx.manager.query(`SELECT count(*)::int AS n FROM users WHERE id = ANY ($1::uuid[])`, [participants]);
      if (n !== participants.length) throw new ValidationError([{ field: 'participantUserIds', messages: ['participantUserIds must name users of the system'] }]);
      const [created]: MeetingRow[] = await tx.manager.query(
        `INSERT INTO pre_intervention_meetings (case_id, meeting_on, intervention_contemplated, attendees, agenda, recorded_by, participant_user_ids)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [row.id, dto.meetingOn, dto.interventionContemplated, JSON.stringify(dto.attendees), dto.agenda ?? null, actor.userId, participants],
      );
      await tx.manager.query(`UPDATE cases SET updated_at = now(), version = version + 1 WHERE id = $1`, [row.id]);
      tx.audit({ action: AuditAction.Create, resourceType: ResourceType.Meeting, resourceId: created.id, caseId: row.id });
      await this.deadlines.meetingScheduled(tx.manager, row.id, created.id, created.meeting_on);
      return toDto(created);
    });
  }

  list(actor: Actor, caseId: string): Promise<MeetingDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.Meeting, auditAction: AuditAction.List });
      const rows: MeetingRow[] = await tx.manager.query(`SELECT ${COLUMNS} FROM pre_intervention_meetings WHERE case_id = $1 ORDER BY meeting_on DESC, id`, [row.id]);
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Meeting, caseId: row.id });
      return rows.map(toDto);
    });
  }

  /** Records the outcome and, in the same transaction, makes the move it drives (or refuses both). */
  recordOutcome(actor: Actor, meetingId: string, dto: MeetingOutcomeDto): Promise<MeetingDto> {
    return this.transactions.run(actor, async (tx) => {
      const [found]: Array<{ case_id: string }> = await tx.manager.query(`SELECT case_id FROM pre_intervention_meetings WHERE id = $1`, [meetingId]);
      if (!found) return tx.refuseUnseenItem('meeting', ResourceType.Meeting, meetingId, AuditAction.Update);
      const row = await tx.openCase(found.case_id, CaseAction.RecordMeeting, { lock: true, resourceType: ResourceType.Meeting, auditAction: AuditAction.Update, hiddenAs: ResourceType.Meeting });
      // An agreed meeting record is sealed: its outcome can no longer change (src/agreed-records).
      await refuseEditOfAgreedRecord(tx, AgreedRecordType.Meeting, meetingId, row.id, AuditAction.Update, ResourceType.Meeting);
      if (dto.outcome === PreInterventionOutcome.Deferred && !dto.deferredUntil) {
        throw new ValidationError([{ field: 'deferredUntil', messages: ['deferredUntil is required when the meeting is deferred'] }]);
      }
      if (dto.outcome !== PreInterventionOutcome.Deferred && dto.deferredUntil) {
        throw new ValidationError([{ field: 'deferredUntil', messages: ['deferredUntil is only for a deferred meeting'] }]);
      }
      if (dto.outcome === PreInterventionOutcome.InterventionProceeds && !dto.closeReason) {
        throw new ValidationError([{ field: 'closeReason', messages: ['closeReason is required when intervention proceeds (the case closes)'] }]);
      }
      if (row.state !== CaseState.PreIntervention) {
        throw new PreconditionFailedError('The case is no longer at the pre-intervention stage', { precondition: 'case_in_pre_intervention' });
      }
      const [[updated]]: [MeetingRow[], number] = await tx.manager.query(
        `UPDATE pre_intervention_meetings
            SET outcome = $3, outcome_notes = $4, deferred_until = $5, outcome_recorded_by = $6, outcome_recorded_at = clock_timestamp(), version = version + 1
          WHERE id = $1 AND version = $2 RETURNING ${COLUMNS}`,
        [meetingId, dto.version, dto.outcome, dto.notes ?? null, dto.deferredUntil ?? null, actor.userId],
      );
      if (!updated) throw new VersionConflictError('The meeting');
      tx.audit({ action: AuditAction.Update, resourceType: ResourceType.Meeting, resourceId: meetingId, caseId: row.id, rule: `outcome:${dto.outcome}` });
      await this.deadlines.meetingOutcomeRecorded(tx.manager, row.id, meetingId, updated.deferred_until);
      const move = MOVE_FOR_OUTCOME[dto.outcome];
      if (move) {
        await this.cases.applyMove(tx, row, {
          move,
          reason: move === CaseMove.Close ? dto.closeReason! : 'Pre-intervention meeting agreed a sector-led alternative',
          outcome: move === CaseMove.Close ? CaseOutcome.GovernmentIntervention : null,
        });
      }
      return toDto(updated);
    });
  }
}
