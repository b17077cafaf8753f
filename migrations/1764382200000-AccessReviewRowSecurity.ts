import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Row-level security on the auditors' access reviews (`access_reviews`, `access_review_items`):
 * which accesses to which cases were sampled, and the auditors' decisions and notes on them. The
 * service login sees and writes them only as a signed-in auditor (the only role with audit:read),
 * in the request's own transaction; nothing without settings and in no system context.
 */
const AUDITOR = `ch_user_role() = 'auditor'`;
const TABLES = ['access_reviews', 'access_review_items'];

export class AccessReviewRowSecurity1764382200000 implements MigrationInterface {
  name = 'AccessReviewRowSecurity1764382200000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = $1::regclass`, [table]);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY rls_owner ON ${table} FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
      await q.query(`CREATE POLICY rls_read ON ${table} FOR SELECT TO clearing_house_service USING (${AUDITOR})`);
      await q.query(`CREATE POLICY rls_insert ON ${table} FOR INSERT TO clearing_house_service WITH CHECK (${AUDITOR})`);
      await q.query(`CREATE POLICY rls_update ON ${table} FOR UPDATE TO clearing_house_service USING (${AUDITOR}) WITH CHECK (${AUDITOR})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      for (const name of ['rls_update', 'rls_insert', 'rls_read', 'rls_owner']) await q.query(`DROP POLICY ${name} ON ${table}`);
      await q.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
  }
}
