import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { inUserContext } from '../database/row-security';
import { AccessReviewState, ReviewDecision, signOffBlocker } from './access-review-sample';
import { AccessReviewDto, AccessReviewItemDto, CreateAccessReviewDto } from './dto';
import { CASE_CONTENT_RESOURCES } from './flag-rules';
import { FlagScanner } from './flag-scanner.service';

interface ReviewRow {
  id: string;
  period_from: Date;
  period_to: Date;
  sample_size: number;
  seed: string;
  population_tree_size: string;
  population_count: number;
  state: string;
  created_by: string;
  created_at: Date;
  signed_off_by: string | null;
  signed_off_at: Date | null;
  sign_off_note: string | null;
  undecided: number;
}

const REVIEW_SELECT = `SELECT r.*, (SELECT count(*)::int FROM access_review_items i WHERE i.review_id = r.id AND i.decision IS NULL) AS undecided FROM access_reviews r`;

const ITEM_SELECT = `
  SELECT i.id, i.position, i.seq, i.event_id AS "eventId", to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt",
         e.actor_id AS "actorId", u.display_name AS "actorName", e.actor_role AS "actorRole", e.action, e.resource_type AS "resourceType",
         e.resource_id AS "resourceId", e.case_id AS "caseId", audit_case_reference(e.case_id) AS "caseReference", e.rule, i.decision, i.note, i.decided_by AS "decidedBy", i.decided_at AS "decidedAt"
    FROM access_review_items i
    JOIN audit_events e ON e.id = i.event_id AND e.occurred_at = i.event_occurred_at
    LEFT JOIN users u ON u.id = e.actor_id`;

/** A period bound as ISO text, within years 1970 to 9999 (what both JavaScript and PostgreSQL read the same way). */
function periodBound(value: string, field: 'from' | 'to'): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || ms < 0 || ms >= Date.UTC(10_000, 0, 1)) throw new ValidationError([{ field, messages: [`${field} must be a date between 1970 and 9999`] }]);
  return new Date(ms).toISOString();
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toDto(r: ReviewRow, items?: Array<AccessReviewItemDto & { seq: string | number; decidedAt: string | Date | null }>): AccessReviewDto {
  return {
    id: r.id, from: iso(r.period_from)!, to: iso(r.period_to)!, sampleSize: r.sample_size, seed: r.seed, populationTreeSize: Number(r.population_tree_size),
    populationCount: r.population_count, state: r.state, createdBy: r.created_by, createdAt: iso(r.created_at)!, signedOffBy: r.signed_off_by,
    signedOffAt: iso(r.signed_off_at), signOffNote: r.sign_off_note, undecided: r.undecided,
    ...(items ? { items: items.map((i) => ({ ...i, seq: Number(i.seq), decidedAt: iso(i.decidedAt as Date | null) })) } : {}),
  };
}

/**
 * Sampled access reviews: an auditor draws a random, reproducible sample of one period's case
 * accesses (allowed reads and changes of case content by signed-in people, sealed into the
 * trail), confirms or queries each with a note, and signs off once every item is decided.
 */
@Injectable()
export class AccessReviewsService {
  private readonly defaultSize: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly scanner: FlagScanner,
    private readonly audit: AuditWriter,
    config: AppConfig,
  ) {
    this.defaultSize = config.get('AUDIT_REVIEW_SAMPLE_SIZE');
  }

  async create(actor: Actor, dto: CreateAccessReviewDto): Promise<AccessReviewDto> {
    const from = periodBound(dto.from, 'from');
    const to = periodBound(dto.to, 'to');
    if (to <= from) throw new ValidationError([{ field: 'to', messages: ['to must be after from'] }]);
    dto = { ...dto, from, to };
    // The population is what is sealed: seal first so that the period's latest accesses are in it.
    await this.scanner.sealOnly();
    const size = dto.sampleSize ?? this.defaultSize;
    const seed = dto.seed ?? randomBytes(32).toString('hex');
    // Every read and write of the reviews runs as the auditor (row-level security admits auditors only).
    return inUserContext(this.dataSource, actor.principal.userId, async (m) => {
      const [{ tree_size }] = await m.query(`SELECT coalesce(max(tree_size), 0) AS tree_size FROM audit_checkpoints`);
      const population = `FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at
         WHERE s.seq <= $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.outcome = 'allowed'
           AND e.actor_id IS NOT NULL AND e.case_id IS NOT NULL AND e.resource_type = ANY($4::text[])`;
      const params = [tree_size, dto.from, dto.to, CASE_CONTENT_RESOURCES];
      const [{ n }] = await m.query(`SELECT count(*)::int AS n ${population}`, params);
      const [review] = await m.query(
        `INSERT INTO access_reviews (period_from, period_to, sample_size, seed, population_tree_size, population_count, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [dto.from, dto.to, size, seed, tree_size, n, actor.userId],
      );
      // The SQL twin of drawSample (access-review-sample.ts): the smallest SHA-256(seed || id) keys.
      await m.query(
        `INSERT INTO access_review_items (review_id, position, event_id, event_occurred_at, seq)
         SELECT $6, row_number() OVER (ORDER BY k), id, occurred_at, seq
           FROM (SELECT e.id, e.occurred_at, s.seq, sha256(decode($5, 'hex') || convert_to(e.id::text, 'UTF8')) AS k ${population}
                  ORDER BY k LIMIT $7) sample`,
        [...params, seed, review.id, size],
      );
      await this.audit.record(m, actor, {
        action: AuditAction.CreateAccessReview, resourceType: ResourceType.AccessReview, resourceId: review.id, outcome: AuditOutcome.Allowed,
        rule: `${dto.from}..${dto.to}:sample ${Math.min(size, n)} of ${n}`,
      });
      return this.load(m, review.id, true);
    });
  }

  async list(actor: Actor): Promise<AccessReviewDto[]> {
    const rows: ReviewRow[] = await inUserContext(this.dataSource, actor.principal.userId, (m) =>
      m.query(`${REVIEW_SELECT} ORDER BY (r.state = 'open') DESC, r.created_at DESC LIMIT 500`));
    await this.audit.recordNow(actor, { action: AuditAction.List, resourceType: ResourceType.AccessReview, outcome: AuditOutcome.Allowed });
    return rows.map((r) => toDto(r));
  }

  async get(actor: Actor, id: string): Promise<AccessReviewDto> {
    const dto = await inUserContext(this.dataSource, actor.principal.userId, (m) => this.load(m, id, true));
    await this.audit.recordNow(actor, { action: AuditAction.Read, resourceType: ResourceType.AccessReview, resourceId: id, outcome: AuditOutcome.Allowed });
    return dto;
  }

  /** Confirms or queries one item (a query needs a note); may be changed until sign-off. */
  async decide(actor: Actor, id: string, itemId: string, decision: ReviewDecision, note: string | undefined): Promise<AccessReviewDto> {
    if (decision === ReviewDecision.Queried && !note) throw new ValidationError([{ field: 'note', messages: ['a queried access needs a note'] }]);
    return inUserContext(this.dataSource, actor.principal.userId, async (m) => {
      const review = await this.lock(m, id);
      if (review.state !== AccessReviewState.Open) throw new PreconditionFailedError('This review is signed off', { precondition: 'review_open' });
      const [updated]: [Array<{ event_id: string }>, number] = await m.query(
        `UPDATE access_review_items SET decision = $3, note = $4, decided_by = $5, decided_at = now() WHERE id = $2 AND review_id = $1 RETURNING event_id`,
        [id, itemId, decision, note ?? null, actor.userId],
      );
      if (updated.length === 0) throw new NotFoundError('Review item');
      await this.audit.record(m, actor, {
        action: AuditAction.DecideAccessReviewItem, resourceType: ResourceType.AccessReview, resourceId: id, outcome: AuditOutcome.Allowed,
        rule: `${decision}:${updated[0].event_id}`, justification: note ?? null,
      });
      return this.load(m, id, true);
    });
  }

  /** Signs off a review whose every item is decided; refused before, and refused twice. */
  async signOff(actor: Actor, id: string, note: string | undefined): Promise<AccessReviewDto> {
    return inUserContext(this.dataSource, actor.principal.userId, async (m) => {
      const review = await this.lock(m, id);
      const items: Array<{ decision: string | null }> = await m.query(`SELECT decision FROM access_review_items WHERE review_id = $1`, [id]);
      const blocker = signOffBlocker(items, review.state);
      if (blocker === 'review_open') throw new ConflictError('This review is already signed off');
      if (blocker) {
        throw new PreconditionFailedError('Every sampled access must be confirmed or queried before sign-off', {
          precondition: blocker, undecided: items.filter((i) => i.decision === null).length,
        });
      }
      await m.query(`UPDATE access_reviews SET state = 'signed_off', signed_off_by = $2, signed_off_at = now(), sign_off_note = $3 WHERE id = $1`, [id, actor.userId, note ?? null]);
      const queried = items.filter((i) => i.decision === ReviewDecision.Queried).length;
      await this.audit.record(m, actor, {
        action: AuditAction.SignOffAccessReview, resourceType: ResourceType.AccessReview, resourceId: id, outcome: AuditOutcome.Allowed,
        rule: `items:${items.length},queried:${queried}`, justification: note ?? null,
      });
      return this.load(m, id, true);
    });
  }

  private async lock(m: EntityManager, id: string): Promise<ReviewRow> {
    const [row]: ReviewRow[] = await m.query(`SELECT r.*, 0 AS undecided FROM access_reviews r WHERE r.id = $1 FOR UPDATE`, [id]);
    if (!row) throw new NotFoundError('Access review');
    return row;
  }

  private async load(m: EntityManager, id: string, withItems: boolean): Promise<AccessReviewDto> {
    const [row]: ReviewRow[] = await m.query(`${REVIEW_SELECT} WHERE r.id = $1`, [id]);
    if (!row) throw new NotFoundError('Access review');
    const items = withItems ? await m.query(`${ITEM_SELECT} WHERE i.review_id = $1 ORDER BY i.position`, [id]) : undefined;
    return toDto(row, items);
  }
}
