import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Multi-factor sign-in and break-glass access.
 *
 * - `mfa_factors`: one TOTP factor per user, its secret encrypted (AES-256-GCM, the user id as
 *   additional data) under MFA_ENCRYPTION_KEY; pending until confirmed with a first code; the last
 *   time step used, so that no code is accepted twice.
 * - `mfa_recovery_codes`: single-use recovery codes, stored only as SHA-256 of high-entropy codes.
 * - `mfa_challenges`: the short-lived, single-use link between a correct password and the second
 *   factor (stored only as SHA-256).
 * - `sessions.mfa_at`: when the session proved a second factor; sessions of users whose role
 *   requires one may do nothing but enrol until it is set.
 * - `cases.restricted_to_team`: a case only its team (and the manager who restricted it) sees.
 * - `break_glass_grants`: a manager's time-limited read access to a restricted case, with the
 *   reason, for auditors to review. Never deleted; only the review may be written, and the expiry
 *   only brought forward (a grant can be cut short, never extended).
 */
export class Mfa1764380400000 implements MigrationInterface {
  name = 'Mfa1764380400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mfa_factors (
        user_id uuid PRIMARY KEY REFERENCES users(id),
        secret_ciphertext text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        confirmed_at timestamptz,
        last_used_step bigint CHECK (last_used_step IS NULL OR last_used_step >= 0)
      )`);
    await q.query(`
      CREATE TABLE mfa_recovery_codes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        code_hash text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz,
        UNIQUE (user_id, code_hash)
      )`);
    await q.query(`
      CREATE TABLE mfa_challenges (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        failed_attempts integer NOT NULL DEFAULT 0,
        client_ip text,
        user_agent text,
        CHECK (expires_at > created_at)
      )`);
    await q.query(`CREATE INDEX mfa_challenges_user_open_idx ON mfa_challenges (user_id) WHERE used_at IS NULL`);

    await q.query(`ALTER TABLE sessions ADD COLUMN mfa_at timestamptz`);
    await q.query(`ALTER TABLE sessions DROP CONSTRAINT sessions_end_reason_check`);
    await q.query(`
      ALTER TABLE sessions ADD CONSTRAINT sessions_end_reason_check
        CHECK (end_reason IN ('signed_out','user_disabled','role_changed','password_changed','refresh_reused','mfa_changed','mfa_reset'))`);

    await q.query(`ALTER TABLE cases ADD COLUMN restricted_to_team boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE cases ADD COLUMN restricted_by uuid REFERENCES users(id)`);
    await q.query(`ALTER TABLE cases ADD COLUMN restricted_at timestamptz`);
    await q.query(`
      ALTER TABLE cases ADD CONSTRAINT cases_restriction_complete
        CHECK (restricted_to_team = (restricted_by IS NOT NULL) AND restricted_to_team = (restricted_at IS NOT NULL))`);

    await q.query(`
      CREATE TABLE break_glass_grants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        user_id uuid NOT NULL REFERENCES users(id),
        reason text NOT NULL CHECK (length(btrim(reason)) >= 20),
        granted_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        reviewed_by uuid REFERENCES users(id),
        reviewed_at timestamptz,
        review_note text,
        CONSTRAINT break_glass_review_complete CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL) AND (reviewed_at IS NULL) = (review_note IS NULL))
      )`);
    await q.query(`CREATE INDEX break_glass_grants_access_idx ON break_glass_grants (case_id, user_id, expires_at)`);
    await q.query(`CREATE INDEX break_glass_grants_queue_idx ON break_glass_grants ((reviewed_at IS NULL), granted_at DESC)`);
    await q.query(`
      CREATE FUNCTION break_glass_grant_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id <> OLD.id OR NEW.case_id <> OLD.case_id OR NEW.user_id <> OLD.user_id OR NEW.reason <> OLD.reason OR NEW.granted_at <> OLD.granted_at THEN
          RAISE EXCEPTION 'a break-glass grant cannot be re-purposed' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.expires_at > OLD.expires_at THEN
          RAISE EXCEPTION 'a break-glass grant cannot be extended' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.reviewed_at IS NOT NULL AND (NEW.reviewed_at IS DISTINCT FROM OLD.reviewed_at OR NEW.reviewed_by IS DISTINCT FROM OLD.reviewed_by OR NEW.review_note IS DISTINCT FROM OLD.review_note) THEN
          RAISE EXCEPTION 'a break-glass grant is reviewed once' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER break_glass_grants_update_guard BEFORE UPDATE ON break_glass_grants FOR EACH ROW EXECUTE FUNCTION break_glass_grant_update_guard()`);
    await q.query(`CREATE TRIGGER break_glass_grants_no_delete BEFORE DELETE ON break_glass_grants FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE TRIGGER break_glass_grants_no_truncate BEFORE TRUNCATE ON break_glass_grants FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);

    // The service's least-privilege role: factors and codes are replaced on reset (not audit
    // data: the audit trail keeps the events); grants are never deleted, and only their review
    // and expiry may be written.
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON mfa_factors, mfa_recovery_codes TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON mfa_challenges TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT ON break_glass_grants TO clearing_house_service`);
    await q.query(`GRANT UPDATE (expires_at, reviewed_by, reviewed_at, review_note) ON break_glass_grants TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE break_glass_grants`);
    await q.query(`DROP FUNCTION break_glass_grant_update_guard()`);
    await q.query(`ALTER TABLE cases DROP CONSTRAINT cases_restriction_complete`);
    await q.query(`ALTER TABLE cases DROP COLUMN restricted_at`);
    await q.query(`ALTER TABLE cases DROP COLUMN restricted_by`);
    await q.query(`ALTER TABLE cases DROP COLUMN restricted_to_team`);
    await q.query(`UPDATE sessions SET end_reason = 'password_changed' WHERE end_reason IN ('mfa_changed','mfa_reset')`);
    await q.query(`ALTER TABLE sessions DROP CONSTRAINT sessions_end_reason_check`);
    await q.query(`
      ALTER TABLE sessions ADD CONSTRAINT sessions_end_reason_check
        CHECK (end_reason IN ('signed_out','user_disabled','role_changed','password_changed','refresh_reused'))`);
    await q.query(`ALTER TABLE sessions DROP COLUMN mfa_at`);
    await q.query(`DROP TABLE mfa_challenges`);
    await q.query(`DROP TABLE mfa_recovery_codes`);
    await q.query(`DROP TABLE mfa_factors`);
  }
}
