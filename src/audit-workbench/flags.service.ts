import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { ConflictError, NotFoundError } from '../common/domain-error';
import { FlagDto, FlagsQueryDto, ScanResultDto } from './dto';
import { FlagScanner } from './flag-scanner.service';

const FLAG_SELECT = `
  SELECT f.id, f.rule, f.subject_key, f.user_id, u.display_name AS user_name, f.case_id, audit_case_reference(f.case_id) AS case_reference,
         f.window_start, f.window_end, f.raised_at, f.evidence, f.record_count, f.details, f.state, f.reviewed_by, f.reviewed_at, f.review_note
    FROM audit_flags f LEFT JOIN users u ON u.id = f.user_id`;

interface FlagRow {
  id: string;
  rule: string;
  subject_key: string;
  user_id: string | null;
  user_name: string | null;
  case_id: string | null;
  case_reference: string | null;
  window_start: Date;
  window_end: Date;
  raised_at: Date;
  evidence: Array<{ seq: number; id: string }>;
  record_count: number;
  details: Record<string, unknown>;
  state: string;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  review_note: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function toDto(r: FlagRow): FlagDto {
  return {
    id: r.id, rule: r.rule, subjectKey: r.subject_key, userId: r.user_id, userName: r.user_name, caseId: r.case_id, caseReference: r.case_reference,
    windowStart: iso(r.window_start)!, windowEnd: iso(r.window_end)!, raisedAt: iso(r.raised_at)!, evidence: r.evidence, recordCount: r.record_count,
    details: r.details, state: r.state, reviewedBy: r.reviewed_by, reviewedAt: iso(r.reviewed_at), reviewNote: r.review_note,
  };
}

/** The auditors' view of flags: list, mark reviewed (once, with a note), scan on demand. Every use is audited. */
@Injectable()
export class FlagsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly scanner: FlagScanner,
    private readonly audit: AuditWriter,
  ) {}

  async list(actor: Actor, q: FlagsQueryDto): Promise<FlagDto[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (sql: (n: number) => string, v: unknown) => {
      params.push(v);
      where.push(sql(params.length));
    };
    if (q.rule) add((n) => `f.rule = $${n}`, q.rule);
    if (q.state) add((n) => `f.state = $${n}`, q.state);
    if (q.userId) add((n) => `f.user_id = $${n}`, q.userId);
    if (q.caseId) add((n) => `f.case_id = $${n}`, q.caseId);
    params.push(q.limit ?? 100, q.offset ?? 0);
    const rows: FlagRow[] = await this.dataSource.query(
      `${FLAG_SELECT} WHERE ${where.length ? where.join(' AND ') : 'TRUE'}
        ORDER BY (f.state = 'open') DESC, f.raised_at DESC, f.id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    await this.audit.recordNow(actor, {
      action: AuditAction.List, resourceType: ResourceType.AuditFlag, outcome: AuditOutcome.Allowed, caseId: q.caseId ?? null, resourceId: q.userId ?? null,
      rule: [q.rule, q.state].filter(Boolean).join(',') || null,
    });
    return rows.map(toDto);
  }

  async get(actor: Actor, id: string): Promise<FlagDto> {
    const [row]: FlagRow[] = await this.dataSource.query(`${FLAG_SELECT} WHERE f.id = $1`, [id]);
    if (!row) throw new NotFoundError('Flag');
    await this.audit.recordNow(actor, { action: AuditAction.Read, resourceType: ResourceType.AuditFlag, resourceId: id, caseId: row.case_id, outcome: AuditOutcome.Allowed });
    return toDto(row);
  }

  /** Marks a flag reviewed with a note, once; the review is audited in the same transaction. */
  async review(actor: Actor, id: string, note: string): Promise<FlagDto> {
    return this.dataSource.transaction(async (m: EntityManager) => {
      const updated: [Array<{ case_id: string | null }>, number] = await m.query(
        `UPDATE audit_flags SET state = 'reviewed', reviewed_by = $2, reviewed_at = now(), review_note = $3 WHERE id = $1 AND state = 'open' RETURNING case_id`,
        [id, actor.userId, note],
      );
      if (updated[0].length === 0) {
        const [existing] = await m.query(`SELECT 1 FROM audit_flags WHERE id = $1`, [id]);
        if (!existing) throw new NotFoundError('Flag');
        throw new ConflictError('This flag has already been reviewed');
      }
      await this.audit.record(m, actor, {
        action: AuditAction.ReviewFlag, resourceType: ResourceType.AuditFlag, resourceId: id, caseId: updated[0][0].case_id, outcome: AuditOutcome.Allowed, justification: note,
      });
      const [row]: FlagRow[] = await m.query(`${FLAG_SELECT} WHERE f.id = $1`, [id]);
      return toDto(row);
    });
  }

  async scan(actor: Actor): Promise<ScanResultDto> {
    const result = await this.scanner.sealAndScan();
    await this.audit.recordNow(actor, {
      action: AuditAction.ScanFlags, resourceType: ResourceType.AuditFlag, outcome: AuditOutcome.Allowed, rule: `scanned:${result.scanned},raised:${result.raised}`,
    });
    return result;
  }
}
