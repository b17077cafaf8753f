import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntry, RequestActor } from './audit-event';

/**
 * The only writer of audit records. `record` writes inside the caller's transaction, so an
 * access and its record commit together or not at all; `recordRefusal` commits on its own,
 * so that rolling back a refused request does not erase the record of the refusal.
 */
@Injectable()
export class AuditWriter {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(manager: EntityManager, actor: RequestActor, entries: AuditEntry | AuditEntry[]): Promise<void> {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    await manager.query(
      `INSERT INTO audit_events (actor_id, actor_role, action, resource_type, resource_id, case_id, outcome, rule, request_id, client_ip, user_agent, justification)
       SELECT $1, $2, e.action, e.resource_type, e.resource_id, e.case_id, e.outcome, e.rule, $3, $4, $5, e.justification
         FROM jsonb_to_recordset($6::jsonb) AS e(action text, resource_type text, resource_id text, case_id uuid, outcome text, rule text, justification text)`,
      [
        actor.userId,
        actor.role,
        actor.requestId,
        actor.clientIp,
        actor.userAgent?.slice(0, 512) ?? null,
        JSON.stringify(
          list.map((e) => ({
            action: e.action,
            resource_type: e.resourceType,
            resource_id: e.resourceId ?? null,
            case_id: e.caseId ?? null,
            outcome: e.outcome,
            rule: e.rule ?? null,
            justification: e.justification ?? null,
          })),
        ),
      ],
    );
  }

  /** Commits the record in a transaction of its own (refusals; events outside the case file). */
  async recordNow(actor: RequestActor, entry: AuditEntry): Promise<void> {
    await this.dataSource.transaction((manager) => this.record(manager, actor, entry));
  }
}
