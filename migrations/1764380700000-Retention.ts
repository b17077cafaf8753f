import { MigrationInterface, QueryRunner } from 'typeorm';

const DESTROYED = '[destroyed under the retention schedule]';

/**
 * Retention and legal hold. Content is destroyed only through `destroy_case_content`, which
 * runs as the owner (SECURITY DEFINER) and only for a case a manager has approved, that is
 * closed and not on legal hold. The immutable tables accept that one change from that function
 * and nothing else: the service's own role still cannot edit or delete a record.
 */
export class Retention1764380700000 implements MigrationInterface {
  name = 'Retention1764380700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cases ADD COLUMN legal_hold_reason text, ADD COLUMN legal_hold_at timestamptz, ADD COLUMN legal_hold_by uuid REFERENCES users(id),
                   ADD COLUMN content_destroyed_at timestamptz`);
    await q.query(`
      CREATE TABLE retention_reviews (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        due_on date NOT NULL,
        rule text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending','destroyed','cancelled')),
        listed_at timestamptz NOT NULL DEFAULT now(),
        decided_by uuid REFERENCES users(id),
        decided_at timestamptz,
        decision_reason text
      )`);
    await q.query(`CREATE UNIQUE INDEX retention_reviews_open_uq ON retention_reviews (case_id) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX cases_retention_idx ON cases (closed_at) WHERE state = 'closed' AND content_destroyed_at IS NULL`);

    // Immutable rows may change only inside destroy_case_content (running as the table owner).
    await q.query(`
      CREATE FUNCTION guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND current_setting('app.destroying_case', true) IS NOT NULL
           AND current_setting('app.destroying_case', true) <> ''
           AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['conversation_records', 'support_progress_notes', 'case_transitions']) {
      await q.query(`DROP TRIGGER ${table}_immutable ON ${table}`);
      await q.query(`CREATE TRIGGER ${table}_immutable BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION guard_immutable()`);
    }

    await q.query(`
      CREATE FUNCTION destroy_case_content(p_case uuid, p_review uuid, p_actor uuid) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        c record;
      BEGIN
        SELECT state, legal_hold_at, content_destroyed_at INTO c FROM cases WHERE id = p_case FOR UPDATE;
        IF NOT FOUND THEN RAISE EXCEPTION 'no such case' USING ERRCODE = 'no_data_found'; END IF;
        IF c.state <> 'closed' THEN RAISE EXCEPTION 'case is not closed' USING ERRCODE = 'check_violation'; END IF;
        IF c.legal_hold_at IS NOT NULL THEN RAISE EXCEPTION 'case is on legal hold' USING ERRCODE = 'check_violation'; END IF;
        IF c.content_destroyed_at IS NOT NULL THEN RAISE EXCEPTION 'content already destroyed' USING ERRCODE = 'check_violation'; END IF;
        IF NOT EXISTS (SELECT 1 FROM retention_reviews WHERE id = p_review AND case_id = p_case AND status = 'pending') THEN
          RAISE EXCEPTION 'no pending review for this case' USING ERRCODE = 'check_violation';
        END IF;
        PERFORM set_config('app.destroying_case', p_case::text, true);
        DELETE FROM concern_sources WHERE concern_id IN (SELECT id FROM concerns WHERE case_id = p_case);
        UPDATE concerns SET description = '${DESTROYED}', signals = '{}' WHERE case_id = p_case;
        UPDATE conversation_records SET summary = '${DESTROYED}', agreed_actions = '[]', external_participants = '[]' WHERE case_id = p_case;
        UPDATE support_progress_notes SET note = '${DESTROYED}' WHERE support_id IN (SELECT id FROM improvement_support WHERE case_id = p_case);
        UPDATE improvement_support SET description = '${DESTROYED}', outcomes = '[]', providers = '[]' WHERE case_id = p_case;
        UPDATE pre_intervention_meetings SET agenda = NULL, outcome_notes = NULL, attendees = '[]' WHERE case_id = p_case;
        UPDATE case_transitions SET reason = CASE WHEN reason IS NULL THEN NULL ELSE '${DESTROYED}' END WHERE case_id = p_case;
        UPDATE cases SET outcome_reason = '${DESTROYED}', content_destroyed_at = now(), version = version + 1, updated_at = now() WHERE id = p_case;
        UPDATE retention_reviews SET status = 'destroyed', decided_by = p_actor, decided_at = now() WHERE id = p_review;
        PERFORM set_config('app.destroying_case', '', true);
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION destroy_case_content(uuid, uuid, uuid) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION destroy_case_content(uuid, uuid, uuid) TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON retention_reviews TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION destroy_case_content(uuid, uuid, uuid)`);
    for (const table of ['conversation_records', 'support_progress_notes', 'case_transitions']) {
      await q.query(`DROP TRIGGER ${table}_immutable ON ${table}`);
      await q.query(`CREATE TRIGGER ${table}_immutable BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    }
    await q.query(`DROP FUNCTION guard_immutable()`);
    await q.query(`DROP TABLE retention_reviews`);
    await q.query(`ALTER TABLE cases DROP COLUMN content_destroyed_at, DROP COLUMN legal_hold_by, DROP COLUMN legal_hold_at, DROP COLUMN legal_hold_reason`);
  }
}
