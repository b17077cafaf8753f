import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Two-person release of a source's identity (issue 5, point 3). A clearing-house manager asks
 * for the identity of a concern's source to be released to a named colleague; a second manager
 * (neither the one who asked nor the colleague) approves or refuses; an approved release lasts
 * until `expires_at` and can be revoked. A manager's own reveal with a reason is not a row here:
 * it lives in the audit trail (action `source_identity_reveal`, the reason as justification).
 *
 * Guarded updates, not append-only history: one row per release whose state only moves forward
 * (requested -> approved | refused | revoked; approved -> revoked | expired). The trigger refuses
 * any other change (who asked, for whom, why, on which concern never change; a decision is never
 * rewritten; an expiry is never extended) and rows are never deleted. The audit trail holds the
 * history of every step, so a row plus its audit records tell the whole story.
 */
export class SourceIdentityReleases1764381000000 implements MigrationInterface {
  name = 'SourceIdentityReleases1764381000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE source_identity_releases (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        concern_id uuid NOT NULL REFERENCES concerns(id),
        case_id uuid NOT NULL REFERENCES cases(id),
        requested_by uuid NOT NULL REFERENCES users(id),
        released_to uuid NOT NULL REFERENCES users(id),
        reason text NOT NULL CHECK (length(btrim(reason)) >= 20),
        state text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested','approved','refused','revoked','expired')),
        approved_by uuid REFERENCES users(id),
        refused_by uuid REFERENCES users(id),
        decided_at timestamptz,
        decision_note text,
        expires_at timestamptz,
        revoked_by uuid REFERENCES users(id),
        revoked_at timestamptz,
        revoke_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- Two people: whoever approves neither asked for the release nor receives it.
        CONSTRAINT source_release_second_person CHECK (approved_by IS NULL OR (approved_by <> requested_by AND approved_by <> released_to)),
        CONSTRAINT source_release_approval_complete CHECK ((approved_by IS NULL) = (expires_at IS NULL) AND (approved_by IS NULL OR decided_at IS NOT NULL)),
        CONSTRAINT source_release_refusal_complete CHECK (refused_by IS NULL OR (decided_at IS NOT NULL AND approved_by IS NULL)),
        CONSTRAINT source_release_revocation_complete CHECK ((revoked_by IS NULL) = (revoked_at IS NULL) AND (revoked_by IS NULL) = (revoke_reason IS NULL)),
        CONSTRAINT source_release_state_facts CHECK (
          CASE state
            WHEN 'requested' THEN approved_by IS NULL AND refused_by IS NULL AND decided_at IS NULL AND revoked_by IS NULL
            WHEN 'approved' THEN approved_by IS NOT NULL AND revoked_by IS NULL
            WHEN 'refused' THEN refused_by IS NOT NULL AND revoked_by IS NULL
            WHEN 'revoked' THEN revoked_by IS NOT NULL AND refused_by IS NULL
            WHEN 'expired' THEN approved_by IS NOT NULL AND revoked_by IS NULL
          END)
      )`);
    await q.query(`CREATE INDEX source_identity_releases_access_idx ON source_identity_releases (concern_id, released_to) WHERE state = 'approved'`);
    await q.query(`CREATE INDEX source_identity_releases_case_idx ON source_identity_releases (case_id, created_at DESC)`);
    await q.query(`CREATE INDEX source_identity_releases_pending_idx ON source_identity_releases (created_at DESC) WHERE state = 'requested'`);
    // One open release (asked for, or approved) per concern and colleague at a time.
    await q.query(`CREATE UNIQUE INDEX source_identity_releases_open_uq ON source_identity_releases (concern_id, released_to) WHERE state IN ('requested','approved')`);

    await q.query(`
      CREATE FUNCTION source_identity_release_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id <> OLD.id OR NEW.concern_id <> OLD.concern_id OR NEW.case_id <> OLD.case_id OR NEW.requested_by <> OLD.requested_by
           OR NEW.released_to <> OLD.released_to OR NEW.reason <> OLD.reason OR NEW.created_at <> OLD.created_at THEN
          RAISE EXCEPTION 'a source identity release cannot be re-purposed' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.state <> OLD.state AND NOT (
             (OLD.state = 'requested' AND NEW.state IN ('approved','refused','revoked'))
          OR (OLD.state = 'approved' AND NEW.state IN ('revoked','expired'))) THEN
          RAISE EXCEPTION 'a source identity release cannot move from % to %', OLD.state, NEW.state USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.state = 'expired' AND OLD.state <> 'expired' AND OLD.expires_at > now() THEN
          RAISE EXCEPTION 'a source identity release expires only once its time is up' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (OLD.approved_by IS NOT NULL OR OLD.refused_by IS NOT NULL)
           AND (NEW.approved_by IS DISTINCT FROM OLD.approved_by OR NEW.refused_by IS DISTINCT FROM OLD.refused_by
                OR NEW.decided_at IS DISTINCT FROM OLD.decided_at OR NEW.decision_note IS DISTINCT FROM OLD.decision_note) THEN
          RAISE EXCEPTION 'a source identity release is decided once' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.expires_at IS NOT NULL AND (NEW.expires_at IS NULL OR NEW.expires_at > OLD.expires_at) THEN
          RAISE EXCEPTION 'a source identity release cannot be extended' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.revoked_by IS NOT NULL AND (NEW.revoked_by IS DISTINCT FROM OLD.revoked_by OR NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
                                           OR NEW.revoke_reason IS DISTINCT FROM OLD.revoke_reason) THEN
          RAISE EXCEPTION 'a source identity release is revoked once' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER source_identity_releases_guard BEFORE UPDATE ON source_identity_releases FOR EACH ROW EXECUTE FUNCTION source_identity_release_guard()`);
    await q.query(`CREATE TRIGGER source_identity_releases_no_delete BEFORE DELETE ON source_identity_releases FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE TRIGGER source_identity_releases_no_truncate BEFORE TRUNCATE ON source_identity_releases FOR EACH STATEMENT EXECUTE FUNCTION forbid_change()`);

    // The service may insert a release and write only its decision, expiry and revocation.
    await q.query(`GRANT SELECT, INSERT ON source_identity_releases TO clearing_house_service`);
    await q.query(`GRANT UPDATE (state, approved_by, refused_by, decided_at, decision_note, expires_at, revoked_by, revoked_at, revoke_reason) ON source_identity_releases TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE source_identity_releases`);
    await q.query(`DROP FUNCTION source_identity_release_guard()`);
  }
}
