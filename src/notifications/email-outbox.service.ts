import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import type { Actor } from '../auth/actor.decorator';
import { ConflictError, NotFoundError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { inSystemContext, inUserContext, SystemContext } from '../database/row-security';
import { deliveryFailureOf, EmailTransport } from './email-transport';
import { DeliverEmailJobData, EmailJob, QueueName } from './queues';

export enum EmailStatus {
  Pending = 'pending',
  Sent = 'sent',
  Dead = 'dead',
}

/** What is needed to queue a row: its id and the attempt it waits for (which names the job). */
export interface QueuedRow {
  id: string;
  attempts: number;
  nextAttemptAt: Date;
}

export type DeliveryOutcome = 'sent' | 'retry' | 'dead' | 'skipped' | 'disabled';

export interface DeadEmail {
  id: string;
  notificationId: string;
  toAddress: string;
  subject: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

/** The longest wait between two attempts, however many there are. */
const MAX_RETRY_DELAY_MS = 6 * 3600_000;
/** A job may start a little before its row is due (timers, clocks); it still counts as due. */
const DUE_TOLERANCE_MS = 1_000;
/** One send, from connecting to the server's acceptance; below the database's idle-in-transaction limit. */
const SEND_DEADLINE_MS = 45_000;
/** Rows queued again by one sweep; the next sweep takes the rest. */
const SWEEP_BATCH = 1_000;

/**
 * The e-mail outbox: rows written with their notifications (NotificationsService.notify), then
 * delivered by the 'email' queue's worker. The table is the truth; a job only names a row.
 *
 * - Delivery claims the row with `FOR UPDATE SKIP LOCKED` and marks it sent in the same
 *   transaction, so two workers never send one row and a sent row is never sent again. If the
 *   process dies after the server accepted the message but before the commit, the row stays
 *   pending and is sent again: delivery is at least once.
 * - A failure counts an attempt, records the error's code (never its text) and waits
 *   EMAIL_RETRY_BASE_MS × 2^(attempt−1); after EMAIL_MAX_ATTEMPTS, or at once when the server
 *   refuses for good (SMTP 5xx), the row is dead and listed for administrators.
 * - The sweep (repeatable, and once at start-up) queues every pending row that is due, so a
 *   job lost with Redis, or never queued, is delivered anyway.
 */
@Injectable()
export class EmailOutboxService {
  private readonly logger = new Logger(EmailOutboxService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Email) private readonly queue: Queue,
    private readonly transport: EmailTransport,
    private readonly config: AppConfig,
    private readonly audit: AuditWriter,
  ) {}

  get deliveryEnabled(): boolean {
    return this.transport.enabled;
  }

  /**
   * Queues a delivery job per row, delayed until the row is due. The job id names the row and
   * the attempt it waits for, so queuing the same attempt twice (worker and sweep) makes one
   * job; a finished job of that id is replaced.
   */
  async enqueue(rows: QueuedRow[]): Promise<number> {
    let queued = 0;
    for (const row of rows) {
      const jobId = `email:${row.id}:${row.attempts}:${row.nextAttemptAt.getTime()}`;
      const existing = await this.queue.getJob(jobId);
      if (existing) {
        const state = await existing.getState();
        if (state !== 'completed' && state !== 'failed') continue;
        await existing.remove();
      }
      const data: DeliverEmailJobData = { outboxId: row.id };
      await this.queue.add(EmailJob.Deliver, data, { jobId, delay: Math.max(0, row.nextAttemptAt.getTime() - Date.now()) });
      queued += 1;
    }
    return queued;
  }

  /** Queues rows without waiting or failing: the sweep catches up with anything this misses. */
  enqueueInBackground(rows: QueuedRow[]): void {
    if (rows.length === 0) return;
    this.enqueue(rows).catch((error: unknown) => {
      this.logger.warn({ rows: rows.length, err: (error as Error)?.name }, 'could not queue e-mails now; the outbox sweep will');
    });
  }

  /** Queues every pending row that is due (the repeatable sweep, and once at start-up). Returns how many were queued. */
  async sweep(): Promise<number> {
    if (!this.transport.enabled) return 0;
    return this.enqueue(await this.dueRows(SWEEP_BATCH));
  }

  /** Pending rows that are due, the longest waiting first. */
  protected async dueRows(limit: number): Promise<Array<QueuedRow & { toAddress: string }>> {
    const rows: Array<{ id: string; attempts: number; next_attempt_at: Date; to_address: string }> = await inSystemContext(this.dataSource, SystemContext.Email, (m) => m.query(
      `SELECT id, attempts, next_attempt_at, to_address FROM email_outbox
        WHERE status = 'pending' AND next_attempt_at <= now() + $1 * interval '1 millisecond'
        ORDER BY next_attempt_at LIMIT $2`,
      [DUE_TOLERANCE_MS, limit],
    ));
    return rows.map((r) => ({ id: r.id, attempts: r.attempts, nextAttemptAt: new Date(r.next_attempt_at), toAddress: r.to_address }));
  }

  /** Delivers one row if it is pending and due; idempotent (a sent, dead or claimed row is left alone). */
  async deliver(outboxId: string): Promise<DeliveryOutcome> {
    if (!this.transport.enabled) return 'disabled';
    const result = await inSystemContext(this.dataSource, SystemContext.Email, async (manager) => {
      const [row]: Array<{ id: string; to_address: string; subject: string; body: string; attempts: number }> = await manager.query(
        `SELECT id, to_address, subject, body, attempts FROM email_outbox
          WHERE id = $1 AND status = 'pending' AND next_attempt_at <= now() + $2 * interval '1 millisecond'
          FOR UPDATE SKIP LOCKED`,
        [outboxId, DUE_TOLERANCE_MS],
      );
      if (!row) return { outcome: 'skipped' as const };
      try {
        await withDeadline(this.transport.send({ to: row.to_address, subject: row.subject, text: row.body }), SEND_DEADLINE_MS);
      } catch (error) {
        const failure = deliveryFailureOf(error);
        const attempts = row.attempts + 1;
        const dead = failure.permanent || attempts >= this.config.get('EMAIL_MAX_ATTEMPTS');
        // TypeORM answers an UPDATE with [rows, affected].
        const [[updated]]: [Array<{ attempts: number; next_attempt_at: Date }>, number] = await manager.query(
          `UPDATE email_outbox
              SET attempts = $2, last_error = $3,
                  status = CASE WHEN $4::boolean THEN 'dead' ELSE 'pending' END,
                  next_attempt_at = CASE WHEN $4::boolean THEN next_attempt_at ELSE now() + $5 * interval '1 millisecond' END
            WHERE id = $1
        RETURNING attempts, next_attempt_at`,
          [row.id, attempts, failure.code.slice(0, 200), dead, this.retryDelayMs(attempts)],
        );
        this.logger.warn({ outboxId: row.id, attempts, code: failure.code, dead }, dead ? 'e-mail delivery failed: dead' : 'e-mail delivery failed: will retry');
        return dead
          ? { outcome: 'dead' as const }
          : { outcome: 'retry' as const, next: { id: row.id, attempts: updated.attempts, nextAttemptAt: new Date(updated.next_attempt_at) } };
      }
      await manager.query(`UPDATE email_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`, [row.id]);
      return { outcome: 'sent' as const };
    });
    if (result.outcome === 'retry') {
      try {
        await this.enqueue([result.next]);
      } catch (error) {
        this.logger.warn({ outboxId, err: (error as Error)?.name }, 'could not queue the next attempt; the outbox sweep will');
      }
    }
    return result.outcome;
  }

  /** Wait before the attempt after `attempts` failed ones: base × 2^(attempts−1), at most six hours. */
  retryDelayMs(attempts: number): number {
    return Math.min(MAX_RETRY_DELAY_MS, this.config.get('EMAIL_RETRY_BASE_MS') * 2 ** Math.max(0, attempts - 1));
  }

  /** The dead letters, newest first, with the total; reading them (addresses) is audited by the caller's actor. */
  async dead(actor: Actor, limit: number, offset: number): Promise<{ items: DeadEmail[]; total: number }> {
    // As the administrator (row-level security admits administrators to the outbox).
    return inUserContext(this.dataSource, actor.principal.userId, async (manager) => {
      const rows: Array<{ id: string; notification_id: string; to_address: string; subject: string; attempts: number; last_error: string | null; created_at: Date }> =
        await manager.query(
          `SELECT id, notification_id, to_address, subject, attempts, last_error, created_at FROM email_outbox
            WHERE status = 'dead' ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`,
          [limit, offset],
        );
      const [{ total }] = await manager.query(`SELECT count(*)::int AS total FROM email_outbox WHERE status = 'dead'`);
      await this.audit.record(manager, actor, { action: AuditAction.List, resourceType: ResourceType.Email, outcome: AuditOutcome.Allowed, rule: 'dead_letters' });
      return {
        items: rows.map((r) => ({
          id: r.id,
          notificationId: r.notification_id,
          toAddress: r.to_address,
          subject: r.subject,
          attempts: r.attempts,
          lastError: r.last_error,
          createdAt: new Date(r.created_at).toISOString(),
        })),
        total: Number(total),
      };
    });
  }

  /** Sends a dead e-mail back to the outbox with a fresh set of attempts; audited with the change. */
  async retry(actor: Actor, outboxId: string): Promise<{ id: string; status: EmailStatus; attempts: number }> {
    const row = await inUserContext(this.dataSource, actor.principal.userId, async (manager) => {
      // TypeORM answers an UPDATE with [rows, affected].
      const [[updated]]: [Array<{ id: string; attempts: number; next_attempt_at: Date }>, number] = await manager.query(
        `UPDATE email_outbox SET status = 'pending', attempts = 0, next_attempt_at = now()
          WHERE id = $1 AND status = 'dead' RETURNING id, attempts, next_attempt_at`,
        [outboxId],
      );
      if (!updated) {
        const [current] = await manager.query(`SELECT status FROM email_outbox WHERE id = $1`, [outboxId]);
        if (!current) throw new NotFoundError('E-mail');
        throw new ConflictError(`Only a dead e-mail can be retried; this one is ${current.status}`, { status: current.status });
      }
      await this.audit.record(manager, actor, { action: AuditAction.RetryEmail, resourceType: ResourceType.Email, resourceId: outboxId, outcome: AuditOutcome.Allowed });
      return updated;
    });
    this.enqueueInBackground([{ id: row.id, attempts: row.attempts, nextAttemptAt: new Date(row.next_attempt_at) }]);
    return { id: row.id, status: EmailStatus.Pending, attempts: row.attempts };
  }

  /** Pending and dead rows, for the metrics. */
  async counts(): Promise<{ pending: number; dead: number }> {
    const [row] = await inSystemContext(this.dataSource, SystemContext.Email, (m) => m.query(
      `SELECT (SELECT count(*) FROM email_outbox WHERE status = 'pending')::int AS pending,
              (SELECT count(*) FROM email_outbox WHERE status = 'dead')::int AS dead`,
    ));
    return { pending: Number(row.pending), dead: Number(row.dead) };
  }
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('send deadline passed'), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
