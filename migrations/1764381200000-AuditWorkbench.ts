import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The auditor's workbench (flags for unusual access, sampled access reviews) and deletion
 * certificates. Flags and reviews hold audit record ids and sequence numbers, never content.
 * Deletion certificates are append-only, like the audit trail they are sealed into: the service
 * may insert and read them, and nobody (not even the owner) may change or delete one.
 */
export class AuditWorkbench1764381200000 implements MigrationInterface {
  name = 'AuditWorkbench1764381200000';

  async up(q: QueryRunner): Promise<void> {
    // One row per scanner: the last sealed sequence number it has looked at.
    await q.query(`
      CREATE TABLE audit_flag_watermarks (
        scanner text PRIMARY KEY,
        last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
        scanned_at timestamptz
      )`);
    await q.query(`INSERT INTO audit_flag_watermarks (scanner, last_seq) VALUES ('flags', 0)`);
    await q.query(`
      CREATE TABLE audit_flags (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        rule text NOT NULL,
        -- Who or what the flag is about: a user id, or 'ip:<address>' for refusals nobody was signed in for.
        subject_key text NOT NULL,
        user_id uuid,
        case_id uuid,
        window_start timestamptz NOT NULL,
        window_end timestamptz NOT NULL,
        raised_at timestamptz NOT NULL DEFAULT now(),
        -- [{seq, id}] of the audit records that raised it (capped), and how many there were.
        evidence jsonb NOT NULL,
        record_count integer NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        state text NOT NULL DEFAULT 'open' CHECK (state IN ('open','reviewed')),
        reviewed_by uuid REFERENCES users(id),
        reviewed_at timestamptz,
        review_note text,
        CHECK ((state = 'reviewed') = (reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL AND review_note IS NOT NULL))
      )`);
    // Raised once per rule, subject and window: scanning the same records again changes nothing.
    await q.query(`CREATE UNIQUE INDEX audit_flags_once_uq ON audit_flags (rule, subject_key, coalesce(case_id, '00000000-0000-0000-0000-000000000000'::uuid), window_start)`);
    await q.query(`CREATE INDEX audit_flags_list_idx ON audit_flags (state, raised_at DESC)`);
    await q.query(`CREATE INDEX audit_flags_user_idx ON audit_flags (user_id) WHERE user_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_flags_case_idx ON audit_flags (case_id) WHERE case_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE access_reviews (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        period_from timestamptz NOT NULL,
        period_to timestamptz NOT NULL CHECK (period_to > period_from),
        sample_size integer NOT NULL CHECK (sample_size >= 1),
        -- The sample is the sample_size accesses with the smallest SHA-256(seed || record id), among
        -- the period's case accesses sealed up to population_tree_size: anyone can draw it again.
        seed text NOT NULL CHECK (seed ~ '^[0-9a-f]{64}$'),
        population_tree_size bigint NOT NULL,
        population_count integer NOT NULL,
        state text NOT NULL DEFAULT 'open' CHECK (state IN ('open','signed_off')),
        created_by uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        signed_off_by uuid REFERENCES users(id),
        signed_off_at timestamptz,
        sign_off_note text
      )`);
    await q.query(`
      CREATE TABLE access_review_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        review_id uuid NOT NULL REFERENCES access_reviews(id),
        position integer NOT NULL,
        event_id uuid NOT NULL,
        event_occurred_at timestamptz NOT NULL,
        seq bigint NOT NULL,
        decision text CHECK (decision IN ('confirmed','queried')),
        note text,
        decided_by uuid REFERENCES users(id),
        decided_at timestamptz,
        UNIQUE (review_id, position),
        UNIQUE (review_id, event_id)
      )`);

    await q.query(`
      CREATE TABLE deletion_certificates (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        review_id uuid NOT NULL REFERENCES retention_reviews(id) UNIQUE,
        -- The certificate exactly as hashed (canonical JSON: sorted keys, no spaces).
        certificate text NOT NULL,
        certificate_hash bytea NOT NULL CHECK (length(certificate_hash) = 32),
        issued_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX deletion_certificates_case_idx ON deletion_certificates (case_id)`);
    await q.query(`CREATE TRIGGER deletion_certificates_append_only BEFORE UPDATE OR DELETE ON deletion_certificates FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE TRIGGER deletion_certificates_no_truncate BEFORE TRUNCATE ON deletion_certificates FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);

    // Read as the owner, so that the answers do not depend on whose row-level security context the
    // caller is in: each returns only what its name says (a yes/no, a case reference, row counts).
    await q.query(`
      CREATE FUNCTION audit_on_case_team(p_case uuid, p_user uuid, p_at timestamptz) RETURNS boolean
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT EXISTS (SELECT 1 FROM case_team_members tm
                        WHERE tm.case_id = p_case AND tm.user_id = p_user AND tm.added_at <= p_at AND (tm.removed_at IS NULL OR tm.removed_at > p_at))
            OR EXISTS (SELECT 1 FROM cases c WHERE c.id = p_case AND c.opened_by = p_user)
      $$`);
    await q.query(`
      CREATE FUNCTION audit_case_reference(p_case uuid) RETURNS text
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT reference FROM cases WHERE id = p_case
      $$`);
    // What destroy_case_content is about to take from a case: row counts per table, never content.
    await q.query(`
      CREATE FUNCTION deletion_certificate_counts(p_case uuid) RETURNS jsonb
      LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        out jsonb;
        keys int;
      BEGIN
        SELECT jsonb_build_array(
          jsonb_build_object('table', 'concern_sources', 'how', 'deleted', 'rows', (SELECT count(*) FROM concern_sources WHERE concern_id IN (SELECT id FROM concerns WHERE case_id = p_case))),
          jsonb_build_object('table', 'concerns', 'how', 'redacted', 'rows', (SELECT count(*) FROM concerns WHERE case_id = p_case)),
          jsonb_build_object('table', 'conversation_records', 'how', 'redacted', 'rows', (SELECT count(*) FROM conversation_records WHERE case_id = p_case)),
          jsonb_build_object('table', 'improvement_support', 'how', 'redacted', 'rows', (SELECT count(*) FROM improvement_support WHERE case_id = p_case)),
          jsonb_build_object('table', 'support_progress_notes', 'how', 'redacted', 'rows',
            (SELECT count(*) FROM support_progress_notes WHERE support_id IN (SELECT id FROM improvement_support WHERE case_id = p_case))),
          jsonb_build_object('table', 'pre_intervention_meetings', 'how', 'redacted', 'rows', (SELECT count(*) FROM pre_intervention_meetings WHERE case_id = p_case)),
          jsonb_build_object('table', 'case_transitions', 'how', 'redacted', 'rows', (SELECT count(*) FROM case_transitions WHERE case_id = p_case AND reason IS NOT NULL)),
          jsonb_build_object('table', 'cases', 'how', 'redacted', 'rows', (SELECT count(*) FROM cases WHERE id = p_case))
        ) INTO out;
        -- Data keys exist once content is encrypted at rest: destroying them is crypto-shredding.
        IF to_regclass('data_keys') IS NOT NULL THEN
          EXECUTE 'SELECT count(*) FROM data_keys WHERE case_id = $1 AND state <> ''destroyed''' INTO keys USING p_case;
          out := out || jsonb_build_array(jsonb_build_object('table', 'data_keys', 'how', 'keys_destroyed', 'rows', keys));
        END IF;
        RETURN out;
      END $$`);
    for (const fn of ['audit_on_case_team(uuid, uuid, timestamptz)', 'audit_case_reference(uuid)', 'deletion_certificate_counts(uuid)']) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO clearing_house_service`);
    }

    await q.query(`GRANT SELECT, UPDATE ON audit_flag_watermarks TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON audit_flags, access_reviews, access_review_items TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT ON deletion_certificates TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION deletion_certificate_counts(uuid)`);
    await q.query(`DROP FUNCTION audit_case_reference(uuid)`);
    await q.query(`DROP FUNCTION audit_on_case_team(uuid, uuid, timestamptz)`);
    await q.query(`DROP TABLE deletion_certificates`);
    await q.query(`DROP TABLE access_review_items`);
    await q.query(`DROP TABLE access_reviews`);
    await q.query(`DROP TABLE audit_flags`);
    await q.query(`DROP TABLE audit_flag_watermarks`);
  }
}
