import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ValidationError } from '../common/domain-error';
import { RECORD_COLUMNS } from './audit-record';
import { AuditEventDto, AuditPageDto, AuditSearchQueryDto, CaseAccessorDto } from './dto';
import { inSystemContext, SystemContext } from '../database/row-security';

const EVENT_SELECT = `SELECT s.seq, encode(s.leaf_hash, 'hex') AS "leafHash", ${RECORD_COLUMNS}, u.display_name AS "actorName", c.reference AS "caseReference",
       e.occurred_at AS sort_at
  FROM audit_events e
  LEFT JOIN audit_seals s ON s.event_id = e.id AND s.event_occurred_at = e.occurred_at
  LEFT JOIN users u ON u.id = e.actor_id
  LEFT JOIN cases c ON c.id = e.case_id`;

type EventRow = Omit<AuditEventDto, 'seq' | 'sealed'> & { seq: string | null; leafHash: string | null; sort_at: Date };

function encodeCursor(occurredAt: string, id: string): string {
  return Buffer.from(`${occurredAt}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new ValidationError([{ field: 'cursor', messages: ['cursor is not valid'] }]);
  }
  return [at, id];
}

export function toEventDto(r: EventRow): AuditEventDto & { leafHash: string | null } {
  const { sort_at: _sortAt, seq, ...rest } = r;
  return { ...rest, seq: seq === null ? null : Number(seq), sealed: seq !== null };
}

/** The auditor's searches: filters in SQL over the month partitions, newest first, keyset-paged. */
@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private where(q: AuditSearchQueryDto): { sql: string; params: unknown[] } {
    const params: unknown[] = [];
    const clauses: string[] = [];
    const add = (clause: (n: number) => string, value: unknown) => {
      params.push(value);
      clauses.push(clause(params.length));
    };
    if (q.actorId) add((n) => `e.actor_id = $${n}`, q.actorId);
    if (q.caseId) add((n) => `e.case_id = $${n}`, q.caseId);
    if (q.resourceType) add((n) => `e.resource_type = $${n}`, q.resourceType);
    if (q.resourceId) add((n) => `e.resource_id = $${n}`, q.resourceId);
    if (q.action) add((n) => `e.action = $${n}`, q.action);
    if (q.outcome) add((n) => `e.outcome = $${n}`, q.outcome);
    if (q.from) add((n) => `e.occurred_at >= $${n}::timestamptz`, q.from);
    if (q.to) add((n) => `e.occurred_at < $${n}::timestamptz`, q.to);
    return { sql: clauses.length ? clauses.join(' AND ') : 'TRUE', params };
  }

  async search(q: AuditSearchQueryDto): Promise<AuditPageDto> {
    const limit = q.limit ?? 100;
    const { sql, params } = this.where(q);
    let keyset = '';
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      params.push(at, id);
      keyset = ` AND (e.occurred_at, e.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    params.push(limit + 1);
    const rows: EventRow[] = await inSystemContext(this.dataSource, SystemContext.Audit, (m) => m.query(
      `${EVENT_SELECT} WHERE ${sql}${keyset} ORDER BY e.occurred_at DESC, e.id DESC LIMIT $${params.length}`, params));
    const page = rows.slice(0, limit);
    const more = rows.length > limit;
    const last = page[page.length - 1];
    return {
      items: page.map((r) => {
        const { leafHash: _leaf, ...dto } = toEventDto(r);
        return dto;
      }),
      nextCursor: more && last ? encodeCursor(last.occurredAt, last.id) : null,
    };
  }

  /** Who has seen (or tried to see) a case: one line per person, with counts and first and last access. */
  async caseAccessors(caseId: string, q: AuditSearchQueryDto): Promise<CaseAccessorDto[]> {
    const { sql, params } = this.where({ ...q, caseId, actorId: undefined, cursor: undefined });
    const rows: Array<{ actor_id: string; actor_name: string | null; roles: string[]; allowed: string; denied: string; first_access: Date; last_access: Date }> =
      await this.dataSource.query(
        `SELECT e.actor_id, u.display_name AS actor_name, array_agg(DISTINCT e.actor_role) AS roles,
                count(*) FILTER (WHERE e.outcome = 'allowed') AS allowed, count(*) FILTER (WHERE e.outcome = 'denied') AS denied,
                min(e.occurred_at) AS first_access, max(e.occurred_at) AS last_access
           FROM audit_events e LEFT JOIN users u ON u.id = e.actor_id
          WHERE ${sql} AND e.actor_id IS NOT NULL
          GROUP BY e.actor_id, u.display_name ORDER BY max(e.occurred_at) DESC`,
        params,
      );
    return rows.map((r) => ({
      actorId: r.actor_id, actorName: r.actor_name, roles: r.roles, allowed: Number(r.allowed), denied: Number(r.denied),
      firstAccess: new Date(r.first_access).toISOString(), lastAccess: new Date(r.last_access).toISOString(),
    }));
  }

  /** Every matching record, oldest first, read in keyset chunks so memory stays constant however many there are. */
  async *stream(q: AuditSearchQueryDto): AsyncGenerator<AuditEventDto & { leafHash: string | null }> {
    const { sql, params } = this.where({ ...q, cursor: undefined });
    let after: [string, string] | null = null;
    for (;;) {
      const p = [...params];
      let keyset = '';
      if (after) {
        p.push(after[0], after[1]);
        keyset = ` AND (e.occurred_at, e.id) > ($${p.length - 1}::timestamptz, $${p.length}::uuid)`;
      }
      p.push(2_000);
      const rows: EventRow[] = await inSystemContext(this.dataSource, SystemContext.Audit, (m) => m.query(`${EVENT_SELECT} WHERE ${sql}${keyset} ORDER BY e.occurred_at, e.id LIMIT $${p.length}`, p));
      for (const r of rows) yield toEventDto(r);
      if (rows.length < 2_000) return;
      const last = rows[rows.length - 1];
      after = [last.occurredAt, last.id];
    }
  }
}
