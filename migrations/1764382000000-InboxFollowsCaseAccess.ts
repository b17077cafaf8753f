import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user sees (and marks read) only notifications about no case or about a case they may still
 * read (issue 6: "users see only notifications about cases they may still see"): removed from the
 * team, recused, or the case restricted, and its notifications leave their inbox too. In the
 * policy rather than in the inbox's queries, so that no other read of the table can forget it.
 */
export class InboxFollowsCaseAccess1764382000000 implements MigrationInterface {
  name = 'InboxFollowsCaseAccess1764382000000';

  async up(q: QueryRunner): Promise<void> {
    const visible = `user_id = ch_user_id() AND (case_id IS NULL OR ch_may_read_case(case_id))`;
    await q.query(`ALTER POLICY rls_read ON notifications USING (${visible})`);
    await q.query(`ALTER POLICY rls_update ON notifications USING (${visible}) WITH CHECK (user_id = ch_user_id())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER POLICY rls_read ON notifications USING (user_id = ch_user_id())`);
    await q.query(`ALTER POLICY rls_update ON notifications USING (user_id = ch_user_id()) WITH CHECK (user_id = ch_user_id())`);
  }
}
