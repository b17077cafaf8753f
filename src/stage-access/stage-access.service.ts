import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CaseAction } from '../access-control/case-access-policy';
import { CaseFileTransactions, CaseFileTx, RefusedAccess } from '../access-control/case-file-transaction';
import { Role } from '../access-control/role';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { iso, isoDate } from '../cases/case-mappers';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../common/domain-error';
import { inSystemContext, SystemContext } from '../database/row-security';
import { CaseState } from '../workflow/case-state';
import {
  LiaisonDto, NameLiaisonDto, PackDto, PackItemDto, PackItemKind, PackSummaryDto, ReleasePackItemDto, StageGrantDto,
} from './dto';
import { grantPeriod, liaisonPackAccess, mayNameLiaison, mayReleasePackItem, RELEASABLE_SUPPORT_STATUSES, StageFacts } from './stage-access-policy';

interface StageFactsRow {
  id: string;
  state: CaseState;
  stage_transition_id: string | null;
  stage_entered_at: Date | null;
  namings: Array<{ stageTransitionId: string; removedAt: string | null }>;
  reference: string | null;
  authority_name: string | null;
}

interface PackItemRow {
  id: string;
  kind: PackItemKind;
  title: string | null;
  summary: string | null;
  support_id: string | null;
  meeting_id: string | null;
  released_at: Date;
}

/** Ending a liaison naming or a pack item (`end`): how it is found, ended, checked and audited. */
interface Ending {
  /** Its case ($1: its id). */
  caseOf: string;
  /** Ends it unless it has ended already ($1: its id, $2: who ends it), returning its id. */
  endOnce: string;
  caseAction: CaseAction;
  resourceType: ResourceType;
  auditAction: AuditAction;
  missingRule: string;
  alreadyEnded: { message: string; precondition: string };
}
const LIAISON_REMOVAL: Ending = {
  caseOf: `SELECT case_id FROM stage_liaisons WHERE id = $1`,
  endOnce: `UPDATE stage_liaisons SET removed_at = now(), removed_by = $2 WHERE id = $1 AND removed_at IS NULL RETURNING id`,
  caseAction: CaseAction.ManageTeam, resourceType: ResourceType.StageLiaison, auditAction: AuditAction.RemoveLiaison,
  missingRule: 'liaison_naming_not_found', alreadyEnded: { message: 'The liaison is already removed', precondition: 'liaison_named' },
};
const PACK_WITHDRAWAL: Ending = {
  caseOf: `SELECT case_id FROM stage_pack_items WHERE id = $1`,
  endOnce: `UPDATE stage_pack_items SET withdrawn_at = now(), withdrawn_by = $2 WHERE id = $1 AND withdrawn_at IS NULL RETURNING id`,
  caseAction: CaseAction.RecordMeeting, resourceType: ResourceType.StagePack, auditAction: AuditAction.WithdrawPackItem,
  missingRule: 'pack_item_not_found', alreadyEnded: { message: 'The item is already withdrawn', precondition: 'pack_item_released' },
};

const factsOf = (r: StageFactsRow): StageFacts => ({ state: r.state, stageTransitionId: r.stage_transition_id, namings: r.namings });

/**
 * Stage-driven access (src/stage-access/stage-access-policy.ts): managers name government
 * liaisons for a case's pre-intervention meeting, clearing-house staff release items into its
 * pack, liaisons read the pack while the stage lasts, and auditors list who had stage access
 * when. Every step runs in one case-file transaction and is audited.
 */
@Injectable()
export class StageAccessService {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly auditWriter: AuditWriter,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  nameLiaison(actor: Actor, caseId: string, dto: NameLiaisonDto): Promise<LiaisonDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.ManageTeam, { lock: true, resourceType: ResourceType.StageLiaison, auditAction: AuditAction.NameLiaison });
      if (!mayNameLiaison(actor.principal, row.state)) {
        throw new PreconditionFailedError('A liaison is named only while the case is at its pre-intervention meeting stage', { precondition: 'case_at_pre_intervention' });
      }
      const [user]: Array<{ role: Role }> = await tx.manager.query(`SELECT role FROM users WHERE id = $1 AND disabled_at IS NULL`, [dto.userId]);
      if (user?.role !== Role.GovernmentLiaison) throw new ValidationError([{ field: 'userId', messages: ['userId must name an active government liaison'] }]);
      const [inserted]: Array<{ id: string }> = await tx.manager.query(
        `INSERT INTO stage_liaisons (case_id, stage_transition_id, user_id, named_by, reason)
         SELECT $1, ch_current_stage($1), $2, $3, $4
          WHERE NOT EXISTS (SELECT 1 FROM stage_liaisons WHERE stage_transition_id = ch_current_stage($1) AND user_id = $2 AND removed_at IS NULL)
         RETURNING id`,
        [row.id, dto.userId, actor.userId, dto.reason]);
      if (!inserted) throw new PreconditionFailedError('That liaison is already named for this meeting', { precondition: 'not_already_named' });
      tx.audit({ action: AuditAction.NameLiaison, resourceType: ResourceType.StageLiaison, resourceId: inserted.id, caseId: row.id, justification: dto.reason });
      return (await this.liaisons(tx, row.id)).find((l) => l.id === inserted.id)!;
    });
  }

  removeLiaison(actor: Actor, namingId: string): Promise<LiaisonDto> {
    return this.transactions.run(actor, async (tx) => {
      const caseId = await this.end(tx, LIAISON_REMOVAL, namingId);
      return (await this.liaisons(tx, caseId)).find((l) => l.id === namingId)!;
    });
  }

  listLiaisons(actor: Actor, caseId: string): Promise<LiaisonDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.StageLiaison, auditAction: AuditAction.List });
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.StageLiaison, caseId: row.id });
      return this.liaisons(tx, row.id);
    });
  }

  release(actor: Actor, caseId: string, dto: ReleasePackItemDto): Promise<PackItemDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(caseId, CaseAction.RecordMeeting, { lock: true, resourceType: ResourceType.StagePack, auditAction: AuditAction.ReleasePackItem });
      if (!mayReleasePackItem(actor.principal, row.state)) {
        throw new PreconditionFailedError('Items are released into a pack only while the case is at its pre-intervention meeting stage', { precondition: 'case_at_pre_intervention' });
      }
      if (dto.kind === PackItemKind.Support) {
        const [s]: Array<{ status: string }> = await tx.manager.query(`SELECT status FROM improvement_support WHERE id = $1 AND case_id = $2`, [dto.supportId, row.id]);
        if (!s || !RELEASABLE_SUPPORT_STATUSES.includes(s.status)) {
          throw new ValidationError([{ field: 'supportId', messages: ['supportId must name support of this case that is agreed, in progress or completed'] }]);
        }
      }
      if (dto.kind === PackItemKind.Meeting) {
        const [m] = await tx.manager.query(`SELECT 1 FROM pre_intervention_meetings WHERE id = $1 AND case_id = $2`, [dto.meetingId, row.id]);
        if (!m) throw new ValidationError([{ field: 'meetingId', messages: ['meetingId must name a pre-intervention meeting of this case'] }]);
      }
      const [created]: Array<{ id: string }> = await tx.manager.query(
        `INSERT INTO stage_pack_items (case_id, stage_transition_id, kind, title, summary, support_id, meeting_id, released_by)
         VALUES ($1, ch_current_stage($1), $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id`,
        [row.id, dto.kind, dto.title ?? null, dto.kind === PackItemKind.Summary ? dto.summary : null,
          dto.kind === PackItemKind.Support ? dto.supportId : null, dto.kind === PackItemKind.Meeting ? dto.meetingId : null, actor.userId]);
      if (!created) throw new PreconditionFailedError('That item is already in the pack', { precondition: 'not_already_released' });
      tx.audit({ action: AuditAction.ReleasePackItem, resourceType: ResourceType.StagePack, resourceId: created.id, caseId: row.id, rule: dto.kind });
      return (await this.items(tx, row.id, { includeWithdrawnId: created.id })).find((i) => i.id === created.id)!;
    });
  }

  withdraw(actor: Actor, itemId: string): Promise<void> {
    return this.transactions.run(actor, async (tx) => {
      await this.end(tx, PACK_WITHDRAWAL, itemId);
    });
  }

  /**
   * Ends a liaison naming or a pack item, once, by its id: one on a case the caller may not see
   * (or that does not exist) answers as missing. Answers the id of its case.
   */
  private async end(tx: CaseFileTx, ending: Ending, id: string): Promise<string> {
    const { resourceType, auditAction } = ending;
    const [found]: Array<{ case_id: string }> = await tx.manager.query(ending.caseOf, [id]);
    if (!found) tx.refuseHiddenItem(resourceType, id, null, ending.missingRule, auditAction);
    const row = await tx.openCase(found.case_id, ending.caseAction, { lock: true, resourceType, auditAction, hiddenAs: resourceType });
    const [[ended]]: [unknown[], number] = await tx.manager.query(ending.endOnce, [id, tx.actor.userId]);
    if (!ended) throw new PreconditionFailedError(ending.alreadyEnded.message, { precondition: ending.alreadyEnded.precondition });
    tx.audit({ action: auditAction, resourceType, resourceId: id, caseId: row.id });
    return row.id;
  }

  /**
   * The pack of the case's current pre-intervention stage. A government liaison reads it only
   * while named for that stage; otherwise the answer is that of a case that does not exist.
   * Clearing-house staff read it for any case they see (empty when the case is at another stage).
   */
  pack(actor: Actor, caseId: string): Promise<PackDto> {
    return this.transactions.run(actor, async (tx) => {
      if (actor.principal.role === Role.GovernmentLiaison) {
        const facts = await this.openAsLiaison(tx, caseId, AuditAction.Read);
        const items = await this.items(tx, facts.id);
        tx.audit({ action: AuditAction.Read, resourceType: ResourceType.StagePack, resourceId: facts.id, caseId: facts.id, rule: 'liaison_named_for_stage' });
        return { caseId: facts.id, reference: facts.reference!, authorityName: facts.authority_name!, stageEnteredAt: iso(facts.stage_entered_at), items };
      }
      const row = await tx.openCase(caseId, CaseAction.Read, { resourceType: ResourceType.StagePack });
      const [{ entered }]: Array<{ entered: Date | null }> = await tx.manager.query(
        `SELECT (SELECT occurred_at FROM case_transitions WHERE id = ch_current_stage($1)) AS entered`, [row.id]);
      const items = entered ? await this.items(tx, row.id) : [];
      tx.audit({ action: AuditAction.Read, resourceType: ResourceType.StagePack, resourceId: row.id, caseId: row.id });
      return { caseId: row.id, reference: row.reference, authorityName: row.authority_name, stageEnteredAt: iso(entered), items };
    });
  }

  /** The packs open to the caller now: for a government liaison, the cases at a stage they are named for; for anyone else, none. */
  myPacks(actor: Actor): Promise<PackSummaryDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const rows: Array<{ case_id: string }> = await tx.manager.query(
        `SELECT DISTINCT l.case_id FROM stage_liaisons l
          WHERE l.user_id = $1 AND l.removed_at IS NULL AND l.stage_transition_id = ch_current_stage(l.case_id)`, [actor.userId]);
      const out: PackSummaryDto[] = [];
      for (const { case_id } of rows) {
        const [f]: StageFactsRow[] = await tx.manager.query(`SELECT * FROM ch_stage_facts($1)`, [case_id]);
        if (f && liaisonPackAccess(actor.principal, factsOf(f)).allowed) {
          out.push({ caseId: f.id, reference: f.reference!, authorityName: f.authority_name!, stageEnteredAt: iso(f.stage_entered_at)! });
        }
      }
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.StagePack });
      return out.sort((a, b) => a.reference.localeCompare(b.reference));
    });
  }

  /**
   * For auditors: who gained stage-driven access to which case, when, and when it ended —
   * government liaisons (from their namings and the case transitions into and out of the
   * pre-intervention stage) and referrals to the RIEP (every facilitator of the region). Never
   * case content.
   */
  async grants(actor: RequestActor, caseId: string | undefined): Promise<StageGrantDto[]> {
    const out = await inSystemContext(this.dataSource, SystemContext.Audit, async (m) => {
      const liaisons: Array<{
        case_id: string; reference: string; entered_at: Date; ended_at: Date | null; ended_by_move: string | null;
        user_id: string; display_name: string; named_by: string; named_at: Date; removed_at: Date | null;
      }> = await m.query(
        `SELECT e.case_id, e.reference, e.entered_at, e.ended_at, e.ended_by_move, l.user_id, u.display_name, l.named_by, l.named_at, l.removed_at
           FROM ch_stage_episodes($1::uuid) e JOIN stage_liaisons l ON l.stage_transition_id = e.stage_transition_id JOIN users u ON u.id = l.user_id
          ORDER BY e.entered_at, l.named_at, l.id`, [caseId ?? null]);
      const referrals: Array<{ id: string; reference: string; region: string | null; referred_to_riep_at: Date }> = await m.query(
        `SELECT c.id, c.reference, a.region, c.referred_to_riep_at FROM cases c JOIN authorities a ON a.id = c.authority_id
          WHERE c.referred_to_riep_at IS NOT NULL AND ($1::uuid IS NULL OR c.id = $1::uuid) ORDER BY c.referred_to_riep_at, c.id`, [caseId ?? null]);
      const grants: StageGrantDto[] = liaisons.map((l) => {
        const period = grantPeriod({ namedAt: l.named_at, removedAt: l.removed_at }, { enteredAt: l.entered_at, endedAt: l.ended_at });
        return {
          caseId: l.case_id, reference: l.reference, kind: 'government_liaison', userId: l.user_id, displayName: l.display_name, region: null,
          grantedBy: l.named_by, from: iso(period.from)!, until: iso(period.until), endedBecause: period.endedBecause,
          endedByMove: period.endedBecause === 'stage_ended' ? l.ended_by_move : null, stageEnteredAt: iso(l.entered_at), stageEndedAt: iso(l.ended_at),
        };
      });
      for (const r of referrals) {
        grants.push({
          caseId: r.id, reference: r.reference, kind: 'riep_referral', userId: null, displayName: null, region: r.region, grantedBy: null,
          from: iso(r.referred_to_riep_at)!, until: null, endedBecause: null, endedByMove: null, stageEnteredAt: null, stageEndedAt: null,
        });
      }
      return grants;
    });
    await this.auditWriter.recordNow(actor, {
      action: AuditAction.Search, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, caseId: caseId ?? null, rule: 'stage_access_grants',
    });
    return out;
  }

  /** The stage facts of a case for a liaison, refused (404, audited) unless the stage-access policy admits them now. */
  private async openAsLiaison(tx: CaseFileTx, caseId: string, auditAction: AuditAction): Promise<StageFactsRow> {
    const [f]: StageFactsRow[] = await tx.manager.query(`SELECT * FROM ch_stage_facts($1)`, [caseId]);
    const decision = f ? liaisonPackAccess(tx.actor.principal, factsOf(f)) : null;
    if (!f || !decision!.allowed || !f.reference) {
      // Exactly the answer for a case that does not exist: a liaison must not learn which cases there are.
      throw new RefusedAccess(new NotFoundError('Case'), {
        action: auditAction, resourceType: ResourceType.StagePack, resourceId: f?.id ?? caseId.slice(0, 64), caseId: f?.id ?? null,
        outcome: AuditOutcome.Denied, rule: !f ? 'case_not_found' : decision!.allowed ? 'row_security' : decision!.rule,
      });
    }
    return f;
  }

  private async liaisons(tx: CaseFileTx, caseId: string): Promise<LiaisonDto[]> {
    const rows: Array<{ id: string; user_id: string; display_name: string; named_by: string; named_at: Date; removed_at: Date | null; current: boolean }> =
      await tx.manager.query(
        `SELECT l.id, l.user_id, u.display_name, l.named_by, l.named_at, l.removed_at,
                (l.removed_at IS NULL AND l.stage_transition_id IS NOT DISTINCT FROM ch_current_stage(l.case_id)) AS current
           FROM stage_liaisons l JOIN users u ON u.id = l.user_id WHERE l.case_id = $1 ORDER BY l.named_at, l.id`, [caseId]);
    return rows.map((r) => ({
      id: r.id, caseId, userId: r.user_id, displayName: r.display_name, namedBy: r.named_by, namedAt: iso(r.named_at)!, removedAt: iso(r.removed_at), current: r.current,
    }));
  }

  /** The items released into the case's current stage's pack and not withdrawn. */
  private async items(tx: CaseFileTx, caseId: string, opts: { includeWithdrawnId?: string } = {}): Promise<PackItemDto[]> {
    const rows: PackItemRow[] = await tx.manager.query(
      `SELECT p.id, p.kind, p.title, p.summary, p.support_id, p.meeting_id, p.released_at FROM stage_pack_items p
        WHERE p.case_id = $1 AND p.stage_transition_id = ch_current_stage($1) AND (p.withdrawn_at IS NULL OR p.id = $2)
        ORDER BY p.released_at, p.id`, [caseId, opts.includeWithdrawnId ?? null]);
    const supportIds = rows.filter((r) => r.support_id).map((r) => r.support_id);
    const meetingIds = rows.filter((r) => r.meeting_id).map((r) => r.meeting_id);
    const supports: Array<Record<string, unknown> & { id: string }> = supportIds.length === 0 ? [] : await tx.manager.query(
      `SELECT id, kind, status, description, providers, outcomes, to_char(starts_on, 'YYYY-MM-DD') AS starts_on, to_char(ends_on, 'YYYY-MM-DD') AS ends_on
         FROM improvement_support WHERE id = ANY ($1::uuid[])`, [supportIds]);
    const meetings: Array<Record<string, unknown> & { id: string }> = meetingIds.length === 0 ? [] : await tx.manager.query(
      `SELECT id, to_char(meeting_on, 'YYYY-MM-DD') AS meeting_on, intervention_contemplated, attendees, agenda, outcome, outcome_notes,
              to_char(deferred_until, 'YYYY-MM-DD') AS deferred_until
         FROM pre_intervention_meetings WHERE id = ANY ($1::uuid[])`, [meetingIds]);
    return rows.flatMap((r): PackItemDto[] => {
      const base = { id: r.id, kind: r.kind, title: r.title, releasedAt: iso(r.released_at)! };
      if (r.kind === PackItemKind.Summary) return [{ ...base, summary: r.summary }];
      if (r.kind === PackItemKind.Support) {
        const s = supports.find((x) => x.id === r.support_id);
        // Row-level security shows nothing it does not admit: an item whose record it hides is left out, never half-shown.
        if (!s) return [];
        return [{ ...base, support: {
          id: s.id, kind: s.kind as string, status: s.status as string, description: s.description as string, providers: s.providers as unknown[],
          outcomes: s.outcomes as unknown[], startsOn: (s.starts_on as string | null), endsOn: (s.ends_on as string | null),
        } }];
      }
      const m = meetings.find((x) => x.id === r.meeting_id);
      if (!m) return [];
      return [{ ...base, meeting: {
        id: m.id, meetingOn: isoDate(m.meeting_on as string), interventionContemplated: m.intervention_contemplated as string, attendees: m.attendees as unknown[],
        agenda: m.agenda as string | null, outcome: m.outcome as string | null, outcomeNotes: m.outcome_notes as string | null, deferredUntil: m.deferred_until as string | null,
      } }];
    });
  }
}
