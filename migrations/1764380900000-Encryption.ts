import { MigrationInterface, QueryRunner } from 'typeorm';

const DESTROYED = '[destroyed under the retention schedule]';
/** Must equal CASE_KEY_LOCK_CLASS in src/encryption/data-keys.ts. */
const CASE_KEY_LOCK = 73100;

/** `substring(<col> from 2 for 16)`: the data key id in an encrypted value's header (src/encryption/envelope.ts). */
const keyIdOf = (column: string) => `substring(${column} from 2 for 16)`;

/**
 * Encryption at rest (issue 5, point 2) of the source's identity, concern descriptions and
 * conversation summaries. The columns hold AES-256-GCM envelopes (bytea) under per-case data
 * keys, which are stored only wrapped by a master key from configuration (data_keys).
 *
 * Existing plaintext cannot be encrypted here (the database never sees a key), and there is no
 * production data yet: so this migration refuses to run while any concern, source or
 * conversation record exists, rather than leave plaintext behind or destroy it. (A development
 * database from before: drop it and run the demo again.)
 *
 * Two database paths change content the service cannot otherwise change:
 * - `reencrypt_field` (SECURITY DEFINER): the re-encryption job replaces one ciphertext with a
 *   new one, only from a retiring key to the active key of the same case, only if the stored
 *   value is still the one read. The immutable-record guard admits that change on
 *   conversation_records only when nothing but the encrypted column differs.
 * - `destroy_case_content` now also destroys the case's data keys (crypto-shredding).
 */
export class Encryption1764380900000 implements MigrationInterface {
  name = 'Encryption1764380900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM concerns) OR EXISTS (SELECT 1 FROM concern_sources) OR EXISTS (SELECT 1 FROM conversation_records) THEN
          RAISE EXCEPTION 'encryption at rest: concerns, sources or conversation records already exist in plaintext; this migration runs only on a database without them (drop a development database and start again)';
        END IF;
      END $$`);

    await q.query(`
      CREATE TABLE data_keys (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES cases(id),
        version integer NOT NULL CHECK (version >= 1),
        state text NOT NULL CHECK (state IN ('active','retiring','retired','destroyed')),
        wrapped_key bytea CHECK (wrapped_key IS NULL OR octet_length(wrapped_key) = 60),
        master_key_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        retiring_at timestamptz,
        retired_at timestamptz,
        destroyed_at timestamptz,
        UNIQUE (case_id, version),
        -- Only a usable key has key material; a retired or destroyed key has none left.
        CONSTRAINT data_keys_material CHECK ((state IN ('active','retiring')) = (wrapped_key IS NOT NULL AND master_key_id IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX data_keys_one_active_uq ON data_keys (case_id) WHERE state = 'active'`);
    await q.query(`CREATE INDEX data_keys_retiring_idx ON data_keys (case_id) WHERE state = 'retiring'`);

    await q.query(`ALTER TABLE concerns ALTER COLUMN description DROP NOT NULL, ALTER COLUMN description TYPE bytea USING convert_to(description, 'UTF8')`);
    await q.query(`ALTER TABLE conversation_records ALTER COLUMN summary DROP NOT NULL, ALTER COLUMN summary TYPE bytea USING convert_to(summary, 'UTF8')`);
    await q.query(`ALTER TABLE concern_sources DROP COLUMN name, DROP COLUMN role, DROP COLUMN organisation, DROP COLUMN contact,
                   ADD COLUMN identity bytea NOT NULL CHECK (get_byte(identity, 0) = 1 AND octet_length(identity) >= 49)`);
    await q.query(`COMMENT ON COLUMN concerns.description IS 'AES-256-GCM envelope (src/encryption/envelope.ts); NULL once destroyed under retention'`);
    await q.query(`COMMENT ON COLUMN conversation_records.summary IS 'AES-256-GCM envelope (src/encryption/envelope.ts); NULL once destroyed under retention'`);
    await q.query(`COMMENT ON COLUMN concern_sources.identity IS 'AES-256-GCM envelope of {name, role, organisation, contact} as JSON'`);

    await q.query(`
      CREATE FUNCTION reencrypt_field(p_field text, p_id uuid, p_old bytea, p_new bytea) RETURNS boolean
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        v_case uuid;
        n integer;
      BEGIN
        IF p_old IS NULL OR p_new IS NULL OR octet_length(p_new) < 49 OR get_byte(p_new, 0) <> 1 THEN
          RAISE EXCEPTION 'not an encrypted value' USING ERRCODE = 'check_violation';
        END IF;
        -- From a key being retired to the active key of the same case, and nothing else.
        SELECT case_id INTO v_case FROM data_keys WHERE id = encode(${keyIdOf('p_old')}, 'hex')::uuid AND state = 'retiring';
        IF NOT FOUND THEN RAISE EXCEPTION 're-encryption only moves values off a retiring key' USING ERRCODE = 'insufficient_privilege'; END IF;
        PERFORM 1 FROM data_keys WHERE id = encode(${keyIdOf('p_new')}, 'hex')::uuid AND state = 'active' AND case_id = v_case;
        IF NOT FOUND THEN RAISE EXCEPTION 're-encryption only moves values to the active key of their case' USING ERRCODE = 'insufficient_privilege'; END IF;
        PERFORM set_config('app.reencrypting', p_field, true);
        CASE p_field
          WHEN 'concerns.description' THEN
            UPDATE concerns SET description = p_new WHERE id = p_id AND case_id = v_case AND description = p_old;
          WHEN 'conversation_records.summary' THEN
            UPDATE conversation_records SET summary = p_new WHERE id = p_id AND case_id = v_case AND summary = p_old;
          WHEN 'concern_sources.identity' THEN
            UPDATE concern_sources SET identity = p_new WHERE concern_id = p_id AND identity = p_old
               AND EXISTS (SELECT 1 FROM concerns c WHERE c.id = p_id AND c.case_id = v_case);
          ELSE
            RAISE EXCEPTION 'not an encrypted field' USING ERRCODE = 'check_violation';
        END CASE;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('app.reencrypting', '', true);
        RETURN n = 1;
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION reencrypt_field(text, uuid, bytea, bytea) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION reencrypt_field(text, uuid, bytea, bytea) TO clearing_house_service`);

    await q.query(`
      CREATE FUNCTION retire_data_key(p_key uuid) RETURNS boolean
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        k record;
      BEGIN
        SELECT id, case_id, state INTO k FROM data_keys WHERE id = p_key;
        IF NOT FOUND OR k.state <> 'retiring' THEN RETURN false; END IF;
        -- No writer of this case holds the key between our check and the retirement.
        PERFORM pg_advisory_xact_lock(${CASE_KEY_LOCK}, hashtext(k.case_id::text));
        IF EXISTS (SELECT 1 FROM concerns WHERE case_id = k.case_id AND ${keyIdOf('description')} = uuid_send(p_key))
           OR EXISTS (SELECT 1 FROM conversation_records WHERE case_id = k.case_id AND ${keyIdOf('summary')} = uuid_send(p_key))
           OR EXISTS (SELECT 1 FROM concern_sources s JOIN concerns c ON c.id = s.concern_id WHERE c.case_id = k.case_id AND ${keyIdOf('s.identity')} = uuid_send(p_key)) THEN
          RETURN false;
        END IF;
        UPDATE data_keys SET state = 'retired', wrapped_key = NULL, master_key_id = NULL, retired_at = now() WHERE id = p_key AND state = 'retiring';
        RETURN FOUND;
      END $$`);
    await q.query(`REVOKE ALL ON FUNCTION retire_data_key(uuid) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION retire_data_key(uuid) TO clearing_house_service`);

    await q.query(GUARD_WITH_REENCRYPTION);
    await q.query(`DROP TRIGGER conversation_records_immutable ON conversation_records`);
    await q.query(`CREATE TRIGGER conversation_records_immutable BEFORE UPDATE OR DELETE ON conversation_records FOR EACH ROW EXECUTE FUNCTION guard_immutable('summary')`);

    await q.query(destroyCaseContent(true));
    await q.query(`GRANT SELECT, INSERT ON data_keys TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM concerns) OR EXISTS (SELECT 1 FROM concern_sources) OR EXISTS (SELECT 1 FROM conversation_records) THEN
          RAISE EXCEPTION 'encrypted content exists: it cannot be turned back into plaintext in SQL';
        END IF;
      END $$`);
    await q.query(destroyCaseContent(false));
    await q.query(`DROP TRIGGER conversation_records_immutable ON conversation_records`);
    await q.query(`CREATE TRIGGER conversation_records_immutable BEFORE UPDATE OR DELETE ON conversation_records FOR EACH ROW EXECUTE FUNCTION guard_immutable()`);
    await q.query(GUARD_BEFORE);
    await q.query(`DROP FUNCTION retire_data_key(uuid)`);
    await q.query(`DROP FUNCTION reencrypt_field(text, uuid, bytea, bytea)`);
    await q.query(`ALTER TABLE concern_sources DROP COLUMN identity, ADD COLUMN name text NOT NULL, ADD COLUMN role text, ADD COLUMN organisation text, ADD COLUMN contact text`);
    await q.query(`ALTER TABLE conversation_records ALTER COLUMN summary TYPE text USING convert_from(summary, 'UTF8'), ALTER COLUMN summary SET NOT NULL`);
    await q.query(`ALTER TABLE concerns ALTER COLUMN description TYPE text USING convert_from(description, 'UTF8'), ALTER COLUMN description SET NOT NULL`);
    await q.query(`DROP TABLE data_keys`);
  }
}

const OWNER_CHECK = `current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)`;

const GUARD_BEFORE = `
  CREATE OR REPLACE FUNCTION guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('app.destroying_case', true) IS NOT NULL
       AND current_setting('app.destroying_case', true) <> ''
       AND ${OWNER_CHECK} THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END $$`;

/**
 * Immutable rows may change only inside destroy_case_content, or inside reencrypt_field for the
 * encrypted column named by the trigger's argument, with every other column unchanged. Both run
 * as the table owner; the service role cannot set its way in (it is not the owner).
 */
const GUARD_WITH_REENCRYPTION = `
  CREATE OR REPLACE FUNCTION guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('app.destroying_case', true) IS NOT NULL
       AND current_setting('app.destroying_case', true) <> ''
       AND ${OWNER_CHECK} THEN
      RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_NARGS = 1
       AND current_setting('app.reencrypting', true) = TG_TABLE_NAME || '.' || TG_ARGV[0]
       AND ${OWNER_CHECK}
       AND (to_jsonb(NEW) - TG_ARGV[0]) = (to_jsonb(OLD) - TG_ARGV[0]) THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END $$`;

/** The retention destruction; with encryption, destroyed fields become NULL and the case's data keys are destroyed too. */
function destroyCaseContent(encrypted: boolean): string {
  const text = (v: string) => (encrypted ? 'NULL' : `'${v}'`);
  return `
    CREATE OR REPLACE FUNCTION destroy_case_content(p_case uuid, p_review uuid, p_actor uuid) RETURNS void
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
      ${encrypted ? `PERFORM pg_advisory_xact_lock(${CASE_KEY_LOCK}, hashtext(p_case::text));` : ''}
      PERFORM set_config('app.destroying_case', p_case::text, true);
      DELETE FROM concern_sources WHERE concern_id IN (SELECT id FROM concerns WHERE case_id = p_case);
      UPDATE concerns SET description = ${text(DESTROYED)}, signals = '{}' WHERE case_id = p_case;
      UPDATE conversation_records SET summary = ${text(DESTROYED)}, agreed_actions = '[]', external_participants = '[]' WHERE case_id = p_case;
      UPDATE support_progress_notes SET note = '${DESTROYED}' WHERE support_id IN (SELECT id FROM improvement_support WHERE case_id = p_case);
      UPDATE improvement_support SET description = '${DESTROYED}', outcomes = '[]', providers = '[]' WHERE case_id = p_case;
      UPDATE pre_intervention_meetings SET agenda = NULL, outcome_notes = NULL, attendees = '[]' WHERE case_id = p_case;
      UPDATE case_transitions SET reason = CASE WHEN reason IS NULL THEN NULL ELSE '${DESTROYED}' END WHERE case_id = p_case;
      UPDATE cases SET outcome_reason = '${DESTROYED}', content_destroyed_at = now(), version = version + 1, updated_at = now() WHERE id = p_case;
      ${encrypted ? `-- Crypto-shredding: without its key, any copy of the case's ciphertext left anywhere is noise.
      UPDATE data_keys SET state = 'destroyed', wrapped_key = NULL, master_key_id = NULL, destroyed_at = now() WHERE case_id = p_case AND state <> 'destroyed';` : ''}
      UPDATE retention_reviews SET status = 'destroyed', decided_by = p_actor, decided_at = now() WHERE id = p_review;
      PERFORM set_config('app.destroying_case', '', true);
    END $$`;
}
