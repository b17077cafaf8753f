import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, roles, parties, sessions, sign-in lock-out, the authorities register and the inbox. */
export class Foundation1764380000000 implements MigrationInterface {
  name = 'Foundation1764380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`
      CREATE TABLE parties (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 120),
        abbreviation text CHECK (abbreviation IS NULL OR length(abbreviation) <= 20),
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL UNIQUE CHECK (email = lower(email)),
        display_name text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('clearing_house_officer','clearing_house_manager','riep_facilitator','lead_political_peer','auditor','administrator')),
        region text CHECK (region IN ('North East','North West','Yorkshire and The Humber','East Midlands','West Midlands','East of England','London','South East','South West')),
        party_id uuid REFERENCES parties(id),
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT users_riep_has_region CHECK ((role = 'riep_facilitator') = (region IS NOT NULL)),
        CONSTRAINT users_peer_has_party CHECK ((role = 'lead_political_peer') = (party_id IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        refresh_token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        ended_at timestamptz,
        end_reason text CHECK (end_reason IN ('signed_out','user_disabled','role_changed','password_changed','refresh_reused')),
        client_ip text,
        user_agent text
      )`);
    await q.query(`CREATE INDEX sessions_user_open_idx ON sessions (user_id) WHERE ended_at IS NULL`);
    await q.query(`
      CREATE TABLE sign_in_locks (
        email_key text PRIMARY KEY,
        failures integer NOT NULL DEFAULT 0,
        last_failure_at timestamptz NOT NULL,
        locked_until timestamptz
      )`);
    await q.query(`
      CREATE TABLE authorities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL UNIQUE,
        gss_code text NOT NULL UNIQUE CHECK (gss_code ~ '^E[0-9]{8}$'),
        official_name text NOT NULL,
        short_name text NOT NULL,
        type text NOT NULL CHECK (type IN ('CTY','NMD','UA','MD','LBO','COMB','SRA','CC')),
        type_name text NOT NULL,
        region text CHECK (region IN ('North East','North West','Yorkshire and The Humber','East Midlands','West Midlands','East of England','London','South East','South West')),
        start_date date,
        end_date date,
        is_current boolean NOT NULL,
        replaced_by text[] NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX authorities_region_idx ON authorities (region)`);
    await q.query(`CREATE INDEX authorities_type_idx ON authorities (type)`);
    await q.query(`CREATE INDEX authorities_name_idx ON authorities (lower(official_name) text_pattern_ops)`);
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        kind text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz
      )`);
    await q.query(`CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notifications`);
    await q.query(`DROP TABLE authorities`);
    await q.query(`DROP TABLE sign_in_locks`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP TABLE users`);
    await q.query(`DROP TABLE parties`);
  }
}
