import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { NotFoundError } from '../common/domain-error';
import { NotificationKind } from './notification.entity';
import { NotificationJob, QueueName, WelcomeJobData } from './queues';

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
  ) {}

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
    const [user]: Array<{ display_name: string }> = await this.dataSource.query(`SELECT display_name FROM users WHERE id = $1`, [userId]);
    if (!user) return false;
    await this.dataSource.query(
      `INSERT INTO notifications (user_id, kind, title, body, dedupe_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [
        userId,
        NotificationKind.Welcome,
        'Welcome to the clearing house',
        `Hello ${user.display_name}: your account is ready. Everything you open here is recorded in the audit trail.`,
        `welcome:${userId}`,
      ],
    );
    return true;
  }

  async inbox(userId: string, unreadOnly: boolean, limit: number, offset: number): Promise<{ items: InboxItem[]; total: number; unread: number }> {
    const rows: Array<{ id: string; kind: NotificationKind; title: string; body: string; created_at: Date; read_at: Date | null; total: string; unread: string }> =
      await this.dataSource.query(
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
    const [counts] = rows.length > 0 ? rows : await this.dataSource.query(
      `SELECT (SELECT count(*) FROM notifications WHERE user_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL)) AS total,
              (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL) AS unread`, [userId, unreadOnly]);
    return {
      items: rows.map((r) => ({ id: r.id, kind: r.kind, title: r.title, body: r.body, createdAt: new Date(r.created_at).toISOString(), readAt: r.read_at ? new Date(r.read_at).toISOString() : null })),
      total: Number(counts.total),
      unread: Number(counts.unread),
    };
  }

  /** Marks one of the caller's own notifications read; another user's is "not found". */
  async markRead(userId: string, notificationId: string): Promise<void> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2`,
      [notificationId, userId],
    );
    if (result[1] === 0) throw new NotFoundError('Notification');
  }
}
