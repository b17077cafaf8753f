import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The auditor's searches (one case, one user; newest first, keyset-paged) order by
 * (occurred_at, id). With indexes on (case_id, occurred_at) and (actor_id, occurred_at) alone,
 * PostgreSQL had to fetch, join and sort every record of that case or user in the range before
 * it could return the first page, so a page of 100 cost as much as the whole month of a busy
 * user. Indexed in exactly the order of the search, a backward index scan hands the rows over
 * already sorted and stops after one page; the keyset condition `(occurred_at, id) < (...)`
 * becomes an index condition too. The new indexes replace the old ones (their prefixes).
 */
export class AuditSearchIndexes1764380300000 implements MigrationInterface {
  name = 'AuditSearchIndexes1764380300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_events_case_search_idx ON audit_events (case_id, occurred_at, id) WHERE case_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_events_actor_search_idx ON audit_events (actor_id, occurred_at, id)`);
    await q.query(`DROP INDEX audit_events_case_idx`);
    await q.query(`DROP INDEX audit_events_actor_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX audit_events_case_idx ON audit_events (case_id, occurred_at) WHERE case_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at)`);
    await q.query(`DROP INDEX audit_events_case_search_idx`);
    await q.query(`DROP INDEX audit_events_actor_search_idx`);
  }
}
