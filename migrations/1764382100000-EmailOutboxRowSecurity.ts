import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Row-level security on the e-mail outbox. Its rows copy a notification's title and body (case
 * references, deadline kinds) and the recipient's address, so the service login sees them only
 * as the sender (system context `email`: the worker, the sweep, the counts for the metrics) or as
 * an administrator (the dead letters and their retry). Rows are written only by `ch_notify`,
 * which runs as the owner (its own policy, as on every table with FORCE), and leave with their
 * notification (ON DELETE CASCADE, also as the owner): no INSERT or DELETE policy for the service.
 */
const READER = `ch_system_context() = 'email' OR ch_user_role() = 'administrator'`;

export class EmailOutboxRowSecurity1764382100000 implements MigrationInterface {
  name = 'EmailOutboxRowSecurity1764382100000';

  async up(q: QueryRunner): Promise<void> {
    const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = 'email_outbox'::regclass`);
    await q.query(`ALTER TABLE email_outbox ENABLE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE email_outbox FORCE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY rls_owner ON email_outbox FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
    await q.query(`CREATE POLICY rls_read ON email_outbox FOR SELECT TO clearing_house_service USING (${READER})`);
    await q.query(`CREATE POLICY rls_update ON email_outbox FOR UPDATE TO clearing_house_service USING (${READER}) WITH CHECK (${READER})`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of ['rls_update', 'rls_read', 'rls_owner']) await q.query(`DROP POLICY ${name} ON email_outbox`);
    await q.query(`ALTER TABLE email_outbox NO FORCE ROW LEVEL SECURITY`);
    await q.query(`ALTER TABLE email_outbox DISABLE ROW LEVEL SECURITY`);
  }
}
