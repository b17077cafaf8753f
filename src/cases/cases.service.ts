import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AccessRule, CaseAction, caseScopeSql, itemScopeSql, itemVisibility, viaBreakGlassSql } from '../access-control/case-access-policy';
import { CASE_SELECT, CaseFileTransactions, CaseFileTx, CaseRow } from '../access-control/case-file-transaction';
import { CaseHandling, ItemHandling, TeamRole } from '../access-control/handling';
import { Role } from '../access-control/role';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { Actor } from '../auth/actor.decorator';
import { ConflictError, DomainError, ForbiddenError, PreconditionFailedError, ValidationError, VersionConflictError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { DeadlineService } from '../deadlines/deadline.service';
import { EncryptedField } from '../encryption/encrypted-field';
import { FieldCipher } from '../encryption/field-cipher';
import { CaseMove, CaseOutcome, CaseState, PreInterventionOutcome } from '../workflow/case-state';
import { availableMoves, CaseFacts, decideMove, RefusalKind } from '../workflow/case-workflow';
import { AppConfig } from '../config/app-config';
import { checkTeamConflicts } from '../conflicts/team-conflicts';
import { assertNamedUsers } from './named-users';
import { caseExtras, ConcernRow, iso, toCaseSummary, toConcernDto } from './case-mappers';
import {
  AddTeamMemberDto, CaseDto, CasePageDto, CaseRestrictionDto, ConcernDto, GovernmentTriggerDto, ListCasesQueryDto, LoggedConcernDto, LogConcernDto, MoveCaseDto,
  TransitionDto,
} from './dto';

/** Exported for the idempotent replay of a create (src/idempotency). */
export const CONCERN_SELECT = `
  SELECT i.id, i.case_id, to_char(i.received_on, 'YYYY-MM-DD') AS received_on, i.channel, i.area, i.description, i.signals,
         i.handling, i.named_user_ids, i.logged_by, i.logged_at, ch_concern_has_source(i.id) AS has_source`;
// has_source through ch_concern_has_source: the source's own row is hidden by row-level security from all but
// managers and release holders (migrations/1764381300000-RowLevelSecurity.ts), yet officers see that one exists.
// Never the source's identity: concern reads say only that a source exists (has_source) and how the
// concern arrived (channel). The identity is read only in src/source-identity (a manager's reason, or a
// release approved by a second manager).

/** Which team roles a user of each role may hold. */
const TEAM_ROLES_OF: Record<Role, readonly TeamRole[]> = {
  [Role.ClearingHouseOfficer]: [TeamRole.CaseLead, TeamRole.CaseOfficer],
  [Role.ClearingHouseManager]: [TeamRole.CaseLead, TeamRole.CaseOfficer],
  [Role.LeadPoliticalPeer]: [TeamRole.LeadPoliticalPeer],
  [Role.RiepFacilitator]: [TeamRole.RiepFacilitator],
  [Role.Auditor]: [],
  [Role.Administrator]: [],
  [Role.BoardMember]: [],
  [Role.GovernmentLiaison]: [],
};

@Injectable()
export class CasesService {
  constructor(
    private readonly transactions: CaseFileTransactions,
    private readonly deadlines: DeadlineService,
    private readonly cipher: FieldCipher,
    private readonly config: AppConfig,
  ) {}

  /** Logs a concern: it opens a new case, or joins the open case named by `caseId`. */
  logConcern(actor: Actor, dto: LogConcernDto): Promise<LoggedConcernDto> {
    return this.transactions.run(actor, async (tx) => {
      const m = tx.manager;
      if (dto.receivedOn > new Date().toISOString().slice(0, 10)) {
        throw new ValidationError([{ field: 'receivedOn', messages: ['receivedOn must not be in the future'] }]);
      }
      const [authority]: Array<{ id: string; is_current: boolean }> = await m.query(
        `SELECT id, is_current FROM authorities WHERE code = $1 OR gss_code = $1`, [dto.authority]);
      if (!authority) throw new ValidationError([{ field: 'authority', messages: ['authority is not in the register'] }]);
      if (!authority.is_current) throw new ValidationError([{ field: 'authority', messages: ['authority is no longer current'] }]);
      const handling = dto.handling ?? ItemHandling.Normal;
      const named = dto.namedUserIds ?? [];
      await assertNamedUsers(tx.manager, handling, named);

      let caseRow: CaseRow;
      let openedNewCase = false;
      const warnings: LoggedConcernDto['warnings'] = [];
      if (dto.caseId) {
        caseRow = await tx.openCase(dto.caseId, CaseAction.LogConcern, { lock: true, resourceType: ResourceType.Concern, auditAction: AuditAction.Create });
        if (caseRow.authority_id !== authority.id) throw new ValidationError([{ field: 'caseId', messages: ['caseId names a case on another authority'] }]);
        if (caseRow.state === CaseState.Closed) throw new PreconditionFailedError('The case is closed: a manager must reopen it before a concern is attached', { precondition: 'case_open' });
        await m.query(`UPDATE cases SET updated_at = now(), version = version + 1 WHERE id = $1`, [caseRow.id]);
      } else {
        const open: Array<{ reference: string }> = await m.query(
          `SELECT reference FROM cases WHERE authority_id = $1 AND state <> 'closed' ORDER BY opened_at`, [authority.id]);
        if (open.length > 0) {
          warnings.push({
            code: 'OPEN_CASE_EXISTS',
            message: 'This authority already has an open case; this concern opened a new one. Attach future concerns with caseId if they belong together.',
            caseReferences: open.map((o) => o.reference),
          });
        }
        const reference = await this.nextReference(tx);
        const [created]: Array<{ id: string }> = await m.query(
          `INSERT INTO cases (reference, authority_id, state, handling, opened_by) VALUES ($1, $2, 'concern_raised', $3, $4) RETURNING id`,
          [reference, authority.id, dto.caseHandling ?? CaseHandling.OfficialSensitive, actor.userId],
        );
        await m.query(
          `INSERT INTO case_transitions (case_id, sequence, move, from_state, to_state, actor_id, actor_role, reason) VALUES ($1, 1, 'open', NULL, 'concern_raised', $2, $3, NULL)`,
          [created.id, actor.userId, actor.role],
        );
        caseRow = (await m.query(`${CASE_SELECT} WHERE c.id = $1`, [created.id]))[0];
        openedNewCase = true;
        tx.audit({ action: AuditAction.Create, resourceType: ResourceType.Case, resourceId: created.id, caseId: created.id });
      }
      // The id is chosen here because the ciphertext is bound to its row (src/encryption).
      const concernId = randomUUID();
      const description = await this.cipher.encrypt(m, EncryptedField.ConcernDescription, caseRow.id, concernId, dto.description);
      const [concern]: Array<{ id: string }> = await m.query(
        `INSERT INTO concerns (id, case_id, received_on, channel, area, description, signals, handling, named_user_ids, logged_by)
         VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [caseRow.id, dto.receivedOn, dto.channel, dto.area, description, dto.signals ?? [], handling, named, actor.userId, concernId],
      );
      if (dto.source) {
        const identity = await this.cipher.sealSourceIdentity(m, caseRow.id, concern.id, {
          name: dto.source.name, role: dto.source.role ?? null, organisation: dto.source.organisation ?? null, contact: dto.source.contact ?? null,
        });
        await m.query(`INSERT INTO concern_sources (concern_id, identity) VALUES ($1, $2)`, [concern.id, identity]);
        tx.audit({ action: AuditAction.Create, resourceType: ResourceType.ConcernSource, resourceId: concern.id, caseId: caseRow.id });
      }
      tx.audit({ action: AuditAction.Create, resourceType: ResourceType.Concern, resourceId: concern.id, caseId: caseRow.id });
      await this.deadlines.concernLogged(m, caseRow.id, concern.id, dto.receivedOn);
      const [row]: ConcernRow[] = await this.cipher.openConcerns(m, await m.query(`${CONCERN_SELECT} FROM concerns i LEFT JOIN concern_sources s ON s.concern_id = i.id WHERE i.id = $1`, [concern.id]));
      const fresh: CaseRow = (await m.query(`${CASE_SELECT} WHERE c.id = $1`, [caseRow.id]))[0];
      return { concern: toConcernDto(row), case: toCaseSummary(fresh), openedNewCase, warnings };
    });
  }

  /**
   * The case register as the caller may see it, filtered and paged in SQL. The page reads only its
   * own rows (in `cases_list_idx` order); the total is counted separately and only as far as it is
   * useful: exactly on the last page from the page itself, otherwise up to CASE_LIST_COUNT_CAP (or the
   * end of the page, if further). Counting every visible row on each page made an officer's list
   * take seconds at 100,000 cases (bench/README.md, section 5).
   */
  list(actor: Actor, q: ListCasesQueryDto): Promise<CasePageDto> {
    const limit = q.limit ?? 25;
    const offset = q.offset ?? 0;
    return this.transactions.run(actor, async (tx) => {
      const params: unknown[] = [];
      const where: string[] = [];
      const add = (sql: (n: number) => string, value: unknown) => {
        params.push(value);
        where.push(sql(params.length));
      };
      const scope = caseScopeSql(actor.principal, 1);
      params.push(...scope.params);
      where.push(scope.sql);
      if (q.state) add((n) => `c.state = $${n}`, q.state);
      if (q.authority) add((n) => `(a.code = $${n} OR a.gss_code = $${n})`, q.authority);
      if (q.region) add((n) => `a.region = $${n}`, q.region);
      if (q.teamMember) add((n) => `EXISTS (SELECT 1 FROM case_team_members f WHERE f.case_id = c.id AND f.user_id = $${n} AND f.removed_at IS NULL)`, q.teamMember);
      if (q.openedFrom) add((n) => `c.opened_at >= $${n}::date`, q.openedFrom);
      if (q.openedTo) add((n) => `c.opened_at < ($${n}::date + 1)`, q.openedTo);
      if (q.area) {
        const items = itemScopeSql(actor.principal, params.length + 2, { partyMarking: false });
        params.push(q.area, ...items.params);
        where.push(`EXISTS (SELECT 1 FROM concerns i WHERE i.case_id = c.id AND i.area = $${params.length - items.params.length} AND ${items.sql})`);
      }
      const filter = `FROM cases c JOIN authorities a ON a.id = c.authority_id WHERE ${where.join(' AND ')}`;
      const filterParams = [...params];
      const viaGrant = viaBreakGlassSql(actor.principal, params.length + 1);
      params.push(...viaGrant.params, limit, offset);
      const rows: Array<CaseRow & { via_break_glass: boolean }> = await tx.manager.query(
        `SELECT c.id, c.reference, c.authority_id, a.code AS authority_code, a.official_name AS authority_name, a.region AS authority_region,
                c.state, c.handling, c.opened_at, c.updated_at, c.version, ${viaGrant.sql} AS via_break_glass
           ${filter}
          ORDER BY c.opened_at DESC, c.id DESC
          LIMIT $${params.length - 1} OFFSET $${params.length}`,
        params,
      );
      let total = offset + rows.length;
      let totalIsLowerBound = false;
      // A full page, or nothing past the first page: count, but stop after `bound` + 1 rows.
      if (rows.length === limit || (rows.length === 0 && offset > 0)) {
        const bound = Math.max(this.config.get('CASE_LIST_COUNT_CAP'), offset + limit);
        const [c]: Array<{ n: number }> = await tx.manager.query(
          `SELECT count(*)::int AS n FROM (SELECT 1 ${filter} LIMIT $${filterParams.length + 1}) AS s`,
          [...filterParams, bound + 1],
        );
        totalIsLowerBound = c.n > bound;
        total = Math.min(c.n, bound);
      }
      tx.audit({ action: AuditAction.List, resourceType: ResourceType.Case });
      // A restricted case listed only because of a break-glass grant: a read under the grant.
      for (const r of rows.filter((row) => row.via_break_glass)) {
        tx.audit({ action: AuditAction.List, resourceType: ResourceType.Case, resourceId: r.id, caseId: r.id, rule: AccessRule.BreakGlass });
      }
      return { items: rows.map(toCaseSummary), total, totalIsLowerBound, limit, offset };
    });
  }

  get(actor: Actor, id: string): Promise<CaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.Read);
      const concerns = await this.visibleConcerns(tx, row.id);
      tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id });
      return this.toCaseDto(tx, row, concerns);
    });
  }

  getConcern(actor: Actor, concernId: string): Promise<ConcernDto> {
    return this.transactions.run(actor, async (tx) => {
      const [found]: Array<{ case_id: string }> = await tx.manager.query(`SELECT case_id FROM concerns WHERE id = $1`, [concernId]);
      if (!found) return tx.refuseUnseenItem('concern', ResourceType.Concern, concernId);
      const row = await tx.openCase(found.case_id, CaseAction.Read, { resourceType: ResourceType.Concern, hiddenAs: ResourceType.Concern });
      const [concern]: ConcernRow[] = await tx.manager.query(
        `${CONCERN_SELECT} FROM concerns i LEFT JOIN concern_sources s ON s.concern_id = i.id WHERE i.id = $1`, [concernId]);
      const visible = itemVisibility(actor.principal, { handling: concern.handling, partyId: null, namedUserIds: concern.named_user_ids });
      if (!visible.allowed) tx.refuseHiddenItem(ResourceType.Concern, concernId, row.id, visible.rule);
      await this.cipher.openConcerns(tx.manager, [concern]);
      tx.audit({ action: AuditAction.Read, resourceType: ResourceType.Concern, resourceId: concernId, caseId: row.id });
      return toConcernDto(concern);
    });
  }

  history(actor: Actor, id: string): Promise<TransitionDto[]> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.Read, { resourceType: ResourceType.History });
      const rows: Array<{ sequence: number; move: string; from_state: CaseState | null; to_state: CaseState; actor_id: string; actor_name: string; actor_role: string; reason: string | null; occurred_at: Date }> =
        await tx.manager.query(
          `SELECT t.sequence, t.move, t.from_state, t.to_state, t.actor_id, u.display_name AS actor_name, t.actor_role, t.reason, t.occurred_at
             FROM case_transitions t JOIN users u ON u.id = t.actor_id WHERE t.case_id = $1 ORDER BY t.sequence`,
          [row.id],
        );
      tx.audit({ action: AuditAction.Read, resourceType: ResourceType.History, resourceId: row.id, caseId: row.id });
      return rows.map((r) => ({
        sequence: r.sequence, move: r.move, from: r.from_state, to: r.to_state, actorId: r.actor_id, actorName: r.actor_name,
        actorRole: r.actor_role, reason: r.reason, occurredAt: iso(r.occurred_at)!,
      }));
    });
  }

  /** Applies one workflow move, checked against the table, under the case's row lock and version. */
  move(actor: Actor, id: string, dto: MoveCaseDto): Promise<CaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.Read, { lock: true, auditAction: AuditAction.Move });
      if (row.version !== dto.version) throw new VersionConflictError('The case');
      await this.applyMove(tx, row, { move: dto.move, reason: dto.reason ?? null, outcome: dto.outcome ?? null });
      return this.reload(tx, row.id);
    });
  }

  /**
   * Checks a move against the workflow and applies it. Shared with commands whose outcome
   * drives a move (the pre-intervention meeting's outcome).
   */
  async applyMove(tx: CaseFileTx, row: CaseRow, req: { move: CaseMove; reason: string | null; outcome: CaseOutcome | null }): Promise<void> {
    const facts = await this.workflowFacts(tx, row);
    const decision = decideMove(facts, { move: req.move, role: tx.actor.principal.role, reason: req.reason, outcome: req.outcome });
    if (!decision.allowed) {
      const error =
        decision.kind === RefusalKind.RoleMayNotMove
          ? new ForbiddenError(decision.message)
          : new DomainError(ErrorCode.PreconditionFailed, decision.message, undefined, {
              move: req.move, state: row.state, ...(decision.precondition ? { precondition: decision.precondition } : { refusal: decision.kind }),
            });
      tx.refuse(error, {
        action: AuditAction.Move, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id,
        rule: `${AccessRule.WorkflowRefused}:${decision.precondition ?? decision.kind}`,
      });
    }
    const to = decision.to;
    const closing = to === CaseState.Closed;
    await tx.manager.query(
      `UPDATE cases SET state = $2, version = version + 1, updated_at = now(),
              referred_to_riep_at = CASE WHEN $2 = 'riep_discussion' THEN coalesce(referred_to_riep_at, now()) ELSE referred_to_riep_at END,
              outcome = CASE WHEN $3 THEN $4 ELSE NULL END,
              outcome_reason = CASE WHEN $3 THEN $5 ELSE NULL END,
              closed_at = CASE WHEN $3 THEN now() ELSE NULL END
        WHERE id = $1`,
      [row.id, to, closing, closing ? req.outcome : null, closing ? req.reason : null],
    );
    await tx.manager.query(
      `INSERT INTO case_transitions (case_id, sequence, move, from_state, to_state, actor_id, actor_role, reason, outcome)
       SELECT $1, coalesce(max(sequence), 0) + 1, $2, $3, $4, $5, $6, $7, $8 FROM case_transitions WHERE case_id = $1`,
      [row.id, req.move, decision.from, to, tx.actor.userId, tx.actor.role, req.reason, closing ? req.outcome : null],
    );
    await this.deadlines.caseMoved(tx.manager, row.id, decision.from, to);
    tx.audit({ action: AuditAction.Move, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id, rule: `${decision.from}->${to}` });
  }

  recordGovernmentTrigger(actor: Actor, id: string, dto: GovernmentTriggerDto): Promise<CaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.RecordGovernmentTrigger, { lock: true });
      if (row.version !== dto.version) throw new VersionConflictError('The case');
      if (row.state === CaseState.Closed) throw new PreconditionFailedError('The case is closed', { precondition: 'case_open' });
      await tx.manager.query(
        `UPDATE cases SET government_department = $2, government_power = $3, government_trigger_at = now(), version = version + 1, updated_at = now() WHERE id = $1`,
        [row.id, dto.department, dto.power],
      );
      tx.audit({ action: AuditAction.Update, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id, rule: 'government_trigger' });
      return this.reload(tx, row.id);
    });
  }

  /**
   * Restricts the case to its team (only its current members and this manager then see it;
   * other managers may open it only through break-glass), or lifts the restriction.
   */
  setRestriction(actor: Actor, id: string, dto: CaseRestrictionDto): Promise<CaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.Restrict, { lock: true, auditAction: AuditAction.SetCaseRestriction });
      if (row.version !== dto.version) throw new VersionConflictError('The case');
      await tx.manager.query(
        `UPDATE cases SET restricted_to_team = $2, restricted_by = CASE WHEN $2 THEN $3::uuid END, restricted_at = CASE WHEN $2 THEN now() END,
                version = version + 1, updated_at = now()
          WHERE id = $1`,
        [row.id, dto.restricted, actor.userId],
      );
      tx.audit({
        action: AuditAction.SetCaseRestriction, resourceType: ResourceType.Case, resourceId: row.id, caseId: row.id,
        rule: dto.restricted ? 'restricted_to_team' : 'restriction_lifted',
      });
      return this.reload(tx, row.id);
    });
  }

  addTeamMember(actor: Actor, id: string, dto: AddTeamMemberDto): Promise<CaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.ManageTeam, { lock: true, resourceType: ResourceType.Team, auditAction: AuditAction.AddTeamMember });
      const [user]: Array<{ role: Role; region: string | null; disabled_at: Date | null }> = await tx.manager.query(
        `SELECT role, region, disabled_at FROM users WHERE id = $1`, [dto.userId]);
      if (!user || user.disabled_at) throw new ValidationError([{ field: 'userId', messages: ['userId must name an active user'] }]);
      if (!TEAM_ROLES_OF[user.role].includes(dto.teamRole)) {
        throw new ValidationError([{ field: 'teamRole', messages: [`a user with role ${user.role} cannot be ${dto.teamRole} on a case`] }]);
      }
      if (dto.teamRole === TeamRole.RiepFacilitator && user.region !== row.authority_region) {
        throw new PreconditionFailedError("A RIEP facilitator joins only cases on authorities in their own region", { precondition: 'riep_same_region' });
      }
      if (row.team.some((m) => m.userId === dto.userId)) throw new ConflictError('The user is already on the case team');
      // Declared ties to the authority and recusals from the case (src/conflicts).
      await checkTeamConflicts(tx, row, dto.userId, dto);
      await tx.manager.query(`INSERT INTO case_team_members (case_id, user_id, team_role, added_by) VALUES ($1, $2, $3, $4)`, [row.id, dto.userId, dto.teamRole, actor.userId]);
      await tx.manager.query(`UPDATE cases SET version = version + 1, updated_at = now() WHERE id = $1`, [row.id]);
      tx.audit({ action: AuditAction.AddTeamMember, resourceType: ResourceType.Team, resourceId: dto.userId, caseId: row.id, rule: dto.teamRole });
      return this.reload(tx, row.id);
    });
  }

  /** Takes effect on the removed user's very next request: access is decided from the team as it is now. */
  removeTeamMember(actor: Actor, id: string, userId: string): Promise<CaseDto> {
    return this.transactions.run(actor, async (tx) => {
      const row = await tx.openCase(id, CaseAction.ManageTeam, { lock: true, resourceType: ResourceType.Team, auditAction: AuditAction.RemoveTeamMember });
      const [, affected]: [unknown, number] = await tx.manager.query(
        `UPDATE case_team_members SET removed_at = now(), removed_by = $3 WHERE case_id = $1 AND user_id = $2 AND removed_at IS NULL`,
        [row.id, userId, actor.userId],
      );
      if (affected === 0) tx.refuseHiddenItem(ResourceType.Team, userId, row.id, 'not_on_team', AuditAction.RemoveTeamMember);
      await tx.manager.query(`UPDATE cases SET version = version + 1, updated_at = now() WHERE id = $1`, [row.id]);
      tx.audit({ action: AuditAction.RemoveTeamMember, resourceType: ResourceType.Team, resourceId: userId, caseId: row.id });
      return this.reload(tx, row.id);
    });
  }

  private async reload(tx: CaseFileTx, caseId: string): Promise<CaseDto> {
    const [row]: CaseRow[] = await tx.manager.query(`${CASE_SELECT} WHERE c.id = $1`, [caseId]);
    const concerns = await this.visibleConcerns(tx, caseId);
    return this.toCaseDto(tx, row, concerns);
  }

  private async toCaseDto(tx: CaseFileTx, row: CaseRow, concerns: ConcernDto[]): Promise<CaseDto> {
    const facts = await this.workflowFacts(tx, row);
    const viaBreakGlass = tx.viaBreakGlass(row.id);
    return {
      ...toCaseSummary(row),
      ...caseExtras(row),
      // Break-glass reads only: no moves to offer.
      availableMoves: viaBreakGlass ? [] : availableMoves(facts, tx.actor.principal.role),
      concerns,
      readViaBreakGlass: viaBreakGlass,
    };
  }

  /** The concerns of a case that the caller may see (never the source's identity: see src/source-identity). */
  private async visibleConcerns(tx: CaseFileTx, caseId: string): Promise<ConcernDto[]> {
    const scope = itemScopeSql(tx.actor.principal, 2, { partyMarking: false });
    const rows: ConcernRow[] = await tx.manager.query(
      `${CONCERN_SELECT} FROM concerns i LEFT JOIN concern_sources s ON s.concern_id = i.id
        WHERE i.case_id = $1 AND ${scope.sql} ORDER BY i.received_on, i.logged_at, i.id`,
      [caseId, ...scope.params],
    );
    await this.cipher.openConcerns(tx.manager, rows);
    return rows.map(toConcernDto);
  }

  private async workflowFacts(tx: CaseFileTx, row: CaseRow): Promise<CaseFacts> {
    const [f]: Array<{ sensitive: boolean; agreed: boolean; meeting_outcome: PreInterventionOutcome | null }> = await tx.manager.query(
      // Whether one was recorded counts even when its marking hides it from the caller (row-level security would hide the row).
      `SELECT ch_case_has_sensitive_conversation($1) AS sensitive,
              EXISTS (SELECT 1 FROM improvement_support WHERE case_id = $1 AND status IN ('agreed','in_progress','completed')) AS agreed,
              (SELECT outcome FROM pre_intervention_meetings WHERE case_id = $1 AND outcome IS NOT NULL
                ORDER BY outcome_recorded_at DESC LIMIT 1) AS meeting_outcome`,
      [row.id],
    );
    return {
      state: row.state,
      hasSensitiveConversation: f.sensitive,
      hasAgreedWayForward: f.agreed,
      hasGovernmentTrigger: row.government_department !== null && row.government_power !== null,
      latestPreInterventionOutcome: f.meeting_outcome,
    };
  }

  private async nextReference(tx: CaseFileTx): Promise<string> {
    const year = new Date().getUTCFullYear();
    // The counter row stays locked until commit, so references are gapless and never reused.
    const [{ last_number }]: Array<{ last_number: number }> = await tx.manager.query(
      `INSERT INTO case_reference_counters (year, last_number) VALUES ($1, 1)
       ON CONFLICT (year) DO UPDATE SET last_number = case_reference_counters.last_number + 1 RETURNING last_number`,
      [year],
    );
    return `CH-${year}-${String(last_number).padStart(4, '0')}`;
  }

}
