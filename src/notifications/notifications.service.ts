import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource, EntityManager } from 'typeorm';
import { NotFoundError } from '../common/domain-error';
import { NotificationKind } from './notification.entity';
import { OutboxDispatcher } from './outbox-dispatcher';
import { NotificationJob, QueueName, WelcomeJobData } from './queues';
import { inSystemContext, inUserContext, SystemContext } from '../database/row-security';

/** What to tell the recipients: see NotificationsService.notify for what may be in it. */
export interface NotificationContent {
  kind: NotificationKind;
  /** One line, at most 200 characters; also the e-mail's subject. */
  title: string;
  /** At most 2000 characters. */
  body: string;
  /** The case it is about, if any (stored, never shown in the text). */
  caseId: string | null;
  /** Names this event: the same key (per recipient) is delivered once however often it is sent. */
  dedupeKey: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Control characters (a line break in a title would be a header break in the e-mail).
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f]/;

/** The e-mail around a notification's text: nothing more than the inbox shows. */
export function emailBodyOf(body: string): string {
  return `${body}\n\nSign in to the clearing house to see the details. This message contains no case content; do not reply to it.\n`;
}

export interface InboxItem {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(QueueName.Notifications) private readonly queue: Queue,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  /**
   * Notifies users, inside the caller's transaction: one in-app notification per recipient and,
   * for each recipient with an e-mail address, one e-mail in the outbox (sent by the 'email'
   * worker after the transaction commits). Idempotent: the dedupe key is made per recipient
   * (`<dedupeKey>:<userId>`) and a repeat inserts nothing, so running the same step twice notifies
   * once. Disabled users and unknown ids are skipped. Returns how many notifications were new.
   * The transaction must be bound to a user who may read the case it is about (or to no case), or
   * be the deadline job's: the database refuses anything else (ch_notify).
   *
   * **The title and body name the case reference and what is due, never case content**: no
   * concern text, conversation notes, the source's identity, people's names from the case file,
   * or anything else a case file holds. They are shown in the inbox and leave the system by
   * e-mail, to mailboxes and servers outside its access controls and audit trail. Write
   * "CH-2026-0042: the RIEP discussion is due on 3 March", not what the discussion is about.
   */
  async notify(manager: EntityManager, recipients: string[], n: NotificationContent): Promise<number> {
    if (!n.title || n.title.length > 200 || CONTROL.test(n.title)) throw new Error('notify: the title must be one line of 1 to 200 characters');
    if (!n.body || n.body.length > 2000 || CONTROL_BUT_NEWLINE.test(n.body)) throw new Error('notify: the body must be 1 to 2000 characters of text');
    if (!n.dedupeKey || n.dedupeKey.length > 200) throw new Error('notify: a dedupe key of 1 to 200 characters is required');
    if (n.caseId !== null && !UUID.test(n.caseId)) throw new Error('notify: caseId must be a UUID or null');
    const ids = [...new Set(recipients)];
    if (ids.some((id) => !UUID.test(id))) throw new Error('notify: recipients must be user ids (UUIDs)');
    if (ids.length === 0) return 0;
    // Through ch_notify (migrations/1764381800000-RowLevelSecurityRest.ts): row-level security lets
    // no one read another user's notifications, not even the transaction that writes them.
    const [{ result }]: Array<{ result: { created: number; outbox: Array<{ id: string; attempts: number; next_attempt_at: string }> } }> = await manager.query(
      `SELECT ch_notify($1::uuid[], $2, $3, $4, $5, $6::uuid, $7) AS result`,
      [ids, n.kind, n.title, n.body, n.dedupeKey, n.caseId, emailBodyOf(n.body)],
    );
    this.dispatcher.afterCommit(manager, result.outbox.map((r) => ({ id: r.id, attempts: r.attempts, nextAttemptAt: new Date(r.next_attempt_at) })));
    return Number(result.created);
  }

  /** Called after the user's creation has committed; the job id makes a repeat enqueue harmless. */
  async enqueueWelcome(userId: string): Promise<void> {
    const data: WelcomeJobData = { userId };
    try {
      await this.queue.add(NotificationJob.Welcome, data, { jobId: `welcome:${userId}` });
    } catch (error) {
      // The account exists either way; the welcome note is a courtesy, not a record.
      this.logger.warn({ userId, err: (error as Error).name }, 'could not enqueue welcome notification');
    }
  }

  /** Delivers the welcome note to the inbox; idempotent through the dedupe key. Returns false if the user is gone. */
  async deliverWelcome(userId: string): Promise<boolean> {
    return inSystemContext(this.dataSource, SystemContext.Notifications, async (m) => {
      const [user]: Array<{ display_name: string }> = await m.query(`SELECT display_name FROM users WHERE id = $1`, [userId]);
      if (!user) return false;
      // Through ch_notify, without an e-mail; the dedupe key comes out as `welcome:<user id>`.
      await m.query(`SELECT ch_notify(ARRAY[$1::uuid], $2, $3, $4, 'welcome', NULL, NULL)`, [
        userId,
        NotificationKind.Welcome,
        'Welcome to the clearing house',
        `Hello ${user.display_name}: your account is ready. Everything you open here is recorded in the audit trail.`,
      ]);
      return true;
    });
  }

  /** The caller's inbox, read as the caller: row-level security shows nobody another user's notifications. */
  async inbox(userId: string, unreadOnly: boolean, limit: number, offset: number): Promise<{ items: InboxItem[]; total: number; unread: number }> {
    return inUserContext(this.dataSource, userId, async (m) => {
      const rows: Array<{ id: string; kind: NotificationKind; title: string; body: string; created_at: Date; read_at: Date | null; total: string; unread: string }> =
        await m.query(
          `SELECT id, kind, title, body, created_at, read_at,
                  count(*) OVER () AS total,
                  (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) AS unread
             FROM notifications
            WHERE user_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL)
            ORDER BY created_at DESC, id DESC
            LIMIT $3 OFFSET $4`,
          [userId, unreadOnly, limit, offset],
        );
      // Past the last page (or with nothing to show) there is no row to carry the counts: count separately.
      const [counts] = rows.length > 0 ? rows : await m.query(
        `SELECT (SELECT count(*) FROM notifications WHERE user_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL)) AS total,
                (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) AS unread`, [userId, unreadOnly]);
      return {
        items: rows.map((r) => ({ id: r.id, kind: r.kind, title: r.title, body: r.body, createdAt: new Date(r.created_at).toISOString(), readAt: r.read_at ? new Date(r.read_at).toISOString() : null })),
        total: Number(counts.total),
        unread: Number(counts.unread),
      };
    });
  }

  /** Marks one of the caller's own notifications read; another user's is "not found". */
  async markRead(userId: string, notificationId: string): Promise<void> {
    const result: [unknown[], number] = await inUserContext(this.dataSource, userId, (m) => m.query(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2`,
      [notificationId, userId],
    ));
    if (result[1] === 0) throw new NotFoundError('Notification');
  }
}
