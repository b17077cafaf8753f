import { MigrationInterface, QueryRunner } from 'typeorm';

/** Months of audit partitions created up front; `npm run cli -- audit:partitions` adds more (as the owner). */
const FIRST_MONTH = '2025-01-01';
const LAST_MONTH = '2028-12-01';

/**
 * The audit trail (append-only, partitioned by month, sealed into a Merkle tree) and the
 * least-privilege group role the service connects through.
 *
 * `clearing_house_service` owns nothing and is not a superuser: it may read and write case
 * data, but only insert (never update, delete or truncate) audit records, history and other
 * immutable rows. Login roles for the service are made members of it (see README).
 */
export class AuditTrail1764380200000 implements MigrationInterface {
  name = 'AuditTrail1764380200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        -- The writing transaction: the sealer takes only records of transactions that have ended.
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        actor_id uuid,
        actor_role text,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        case_id uuid,
        outcome text NOT NULL CHECK (outcome IN ('allowed','denied')),
        rule text,
        request_id text,
        client_ip text,
        user_agent text,
        justification text,
        PRIMARY KEY (id, occurred_at)
      ) PARTITION BY RANGE (occurred_at)`);
    // Run by the owner (migrations, `npm run cli -- audit:partitions`); the service cannot create tables.
    await q.query(`
      CREATE FUNCTION create_audit_partition(month date) RETURNS boolean LANGUAGE plpgsql AS $$
      DECLARE
        first date := date_trunc('month', month)::date;
        name text := 'audit_events_' || to_char(first, 'YYYY_MM');
      BEGIN
        IF to_regclass(name) IS NOT NULL THEN RETURN false; END IF;
        EXECUTE format('CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)', name, first, (first + interval '1 month')::date);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()', name || '_no_truncate', name);
        RETURN true;
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION create_audit_partition(date) FROM PUBLIC`);
    await q.query(`SELECT create_audit_partition(m::date) FROM generate_series(DATE '${FIRST_MONTH}', DATE '${LAST_MONTH}', interval '1 month') AS m`);
    await q.query(`CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT`);
    await q.query(`CREATE TRIGGER audit_events_default_no_truncate BEFORE TRUNCATE ON audit_events_default FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE INDEX audit_events_case_idx ON audit_events (case_id, occurred_at) WHERE case_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_time_idx ON audit_events (occurred_at)`);
    await q.query(`CREATE INDEX audit_events_denied_idx ON audit_events (occurred_at) WHERE outcome = 'denied'`);
    await q.query(`CREATE INDEX audit_events_tx_idx ON audit_events (tx_id)`);

    // The sealed order: a gapless sequence over records, each with its RFC 9162 leaf hash.
    await q.query(`
      CREATE TABLE audit_seals (
        seq bigint PRIMARY KEY CHECK (seq >= 1),
        event_id uuid NOT NULL,
        event_occurred_at timestamptz NOT NULL,
        leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
        UNIQUE (event_id, event_occurred_at)
      )`);
    // A signed checkpoint after each sealing batch: tree size, root, and the previous checkpoint's hash.
    await q.query(`
      CREATE TABLE audit_checkpoints (
        tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
        root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
        frontier jsonb NOT NULL,
        -- Everything from transactions older than this horizon is sealed at or before this checkpoint.
        tx_horizon xid8 NOT NULL,
        created_at timestamptz NOT NULL,
        previous_hash bytea CHECK (previous_hash IS NULL OR length(previous_hash) = 32),
        checkpoint_hash bytea NOT NULL CHECK (length(checkpoint_hash) = 32),
        key_id text NOT NULL,
        signature bytea NOT NULL
      )`);

    for (const table of ['audit_events', 'audit_seals', 'audit_checkpoints']) {
      await q.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
      await q.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);
    }
    for (const table of ['conversation_records', 'case_transitions', 'support_progress_notes']) {
      await q.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);
    }

    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clearing_house_service') THEN
          CREATE ROLE clearing_house_service NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        END IF;
      END $$`);
    await q.query(`GRANT CONNECT ON DATABASE "${await currentDatabase(q)}" TO clearing_house_service`);
    await q.query(`GRANT USAGE ON SCHEMA public TO clearing_house_service`);
    await q.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await q.query(`GRANT SELECT ON schema_migrations TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON parties, users, sessions, cases, case_team_members, pre_intervention_meetings, improvement_support, case_reference_counters TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_locks, notifications TO clearing_house_service`);
    await q.query(`GRANT SELECT ON authorities TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT ON concerns, concern_sources, conversation_records, case_transitions, support_progress_notes TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT ON audit_events, audit_seals, audit_checkpoints TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM clearing_house_service`);
    await q.query(`REVOKE ALL ON SCHEMA public FROM clearing_house_service`);
    await q.query(`REVOKE CONNECT ON DATABASE "${await currentDatabase(q)}" FROM clearing_house_service`);
    for (const table of ['conversation_records', 'case_transitions', 'support_progress_notes']) {
      await q.query(`DROP TRIGGER ${table}_no_truncate ON ${table}`);
    }
    await q.query(`DROP TABLE audit_checkpoints`);
    await q.query(`DROP TABLE audit_seals`);
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION create_audit_partition(date)`);
  }
}

async function currentDatabase(q: QueryRunner): Promise<string> {
  const [{ db }] = await q.query(`SELECT current_database() AS db`);
  return String(db).replace(/"/g, '""');
}
