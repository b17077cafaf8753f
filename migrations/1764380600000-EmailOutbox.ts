import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notifications name the case they are about (`case_id`), and e-mail goes out through an
 * outbox: one row per e-mail, written in the same transaction as the notification it copies,
 * delivered by the 'email' queue's worker, retried with back-off and finally marked dead for
 * an administrator to retry. The table is the truth about what was sent; Redis only carries
 * ids to wake the worker up.
 */
export class EmailOutbox1764380600000 implements MigrationInterface {
  name = 'EmailOutbox1764380600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications ADD COLUMN case_id uuid REFERENCES cases(id)`);
    await q.query(`CREATE INDEX notifications_case_idx ON notifications (case_id) WHERE case_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE email_outbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- One e-mail per notification: a notification written twice (same dedupe key) mails once.
        notification_id uuid NOT NULL UNIQUE REFERENCES notifications(id) ON DELETE CASCADE,
        to_address text NOT NULL CHECK (length(to_address) BETWEEN 3 AND 320),
        subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200 AND subject !~ '[\\r\\n]'),
        body text NOT NULL CHECK (length(body) <= 4000),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','dead')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        -- An error code (e.g. ECONNREFUSED, SMTP 550), never a message: servers echo addresses and text.
        last_error text CHECK (last_error IS NULL OR length(last_error) <= 200),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'sent') = (sent_at IS NOT NULL))
      )`);
    // What the worker and the sweep look for, and what the dead-letter view lists.
    await q.query(`CREATE INDEX email_outbox_due_idx ON email_outbox (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX email_outbox_dead_idx ON email_outbox (created_at DESC, id DESC) WHERE status = 'dead'`);
    // The service claims, sends and marks rows; it never deletes them.
    await q.query(`GRANT SELECT, INSERT, UPDATE ON email_outbox TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE email_outbox`);
    await q.query(`DROP INDEX notifications_case_idx`);
    await q.query(`ALTER TABLE notifications DROP COLUMN case_id`);
  }
}
