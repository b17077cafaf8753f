import { MigrationInterface, QueryRunner } from 'typeorm';

const DESTROYED = '[destroyed under the retention schedule]';
/** Must equal CASE_KEY_LOCK_CLASS in src/encryption/data-keys.ts (as in migrations/1764380900000-Encryption.ts). */
const CASE_KEY_LOCK = 73100;

/** A nullable text column: destroyed if it held something, still NULL if it did not (CHECKs tie some NULLs to other columns). */
const blankIfSet = (column: string) => `${column} = CASE WHEN ${column} IS NULL THEN NULL ELSE '${DESTROYED}' END`;

/**
 * Retention destroys all of a case's content (issue 6 point 4, issue 8 point 6), including the
 * free text that the features of session 2 tied to a case: addenda to agreed records, the
 * organisation and role an agreement was given by, the per-field hashes of an agreed record,
 * correction reasons of conversation records, recusal reasons, the reasons and notes of source
 * identity releases and break-glass grants, liaison namings and pack texts. What stays is the
 * skeleton (reference, authority, dates, states, outcome, ids of who did what) and the audit trail.
 *
 * Kept on purpose:
 * - the audit trail, justifications included (break-glass, reveals, releases, recusals, conflict
 *   overrides, legal hold, the destruction itself): it is kept by design, and its records are
 *   sealed into the Merkle tree, so changing one would break the signed checkpoints;
 * - `record_agreements.content_hash`: one hash over the whole record, ids included, also carried by
 *   the sealed `agree_record` audit record; the per-field hashes go (a hash of one short field
 *   would let someone confirm a guess of destroyed content);
 * - facts without free text: compartments and who was in them, team membership, deadlines,
 *   attestations, notifications (reference, kind and date only), the government department that
 *   triggered the case (a skeleton fact, like the authority). `cases.legal_hold_reason` is always
 *   NULL here: a case on hold is not destroyed, and lifting a hold clears the reason.
 *
 * Pack texts and liaison reasons were destroyed by a trigger on `cases`
 * (migrations/1764381600000-StageAccessAndCompartments.ts); they move into `destroy_case_content`
 * so that one function lists everything destroyed, next to the counts for the deletion certificate.
 *
 * The guards of tables that refuse changes (recusals, source identity releases, break-glass grants)
 * admit the destruction the way `guard_immutable` does (the owner, inside `destroy_case_content`),
 * tightened: only for the case being destroyed, and only the content columns may change.
 */
export class RetentionDestroysAllContent1764381900000 implements MigrationInterface {
  name = 'RetentionDestroysAllContent1764381900000';

  async up(q: QueryRunner): Promise<void> {
    for (const guard of GUARDS) await q.query(guardSql(guard, true));
    await q.query(`DROP TRIGGER cases_destroy_pack_content ON cases`);
    await q.query(`DROP FUNCTION ch_destroy_pack_content()`);
    await q.query(DESTROY_CASE_CONTENT);
    await q.query(CERTIFICATE_COUNTS);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(CERTIFICATE_COUNTS_BEFORE);
    await q.query(DESTROY_CASE_CONTENT_BEFORE);
    await q.query(PACK_TRIGGER_FUNCTION_BEFORE);
    await q.query(`CREATE TRIGGER cases_destroy_pack_content AFTER UPDATE OF content_destroyed_at ON cases FOR EACH ROW
      WHEN (OLD.content_destroyed_at IS NULL AND NEW.content_destroyed_at IS NOT NULL) EXECUTE FUNCTION ch_destroy_pack_content()`);
    for (const guard of GUARDS) await q.query(guardSql(guard, false));
  }
}

interface Guard {
  fn: string;
  /** The columns destroy_case_content changes; every other column must stay as it was. */
  content: string[];
  /** The guard's own rules (unchanged from the migration that created it). */
  body: string;
}

const GUARDS: Guard[] = [
  {
    // migrations/1764380400000-Mfa.ts
    fn: 'break_glass_grant_update_guard',
    content: ['reason', 'review_note'],
    body: `
        IF NEW.id <> OLD.id OR NEW.case_id <> OLD.case_id OR NEW.user_id <> OLD.user_id OR NEW.reason <> OLD.reason OR NEW.granted_at <> OLD.granted_at THEN
          RAISE EXCEPTION 'a break-glass grant cannot be re-purposed' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.expires_at > OLD.expires_at THEN
          RAISE EXCEPTION 'a break-glass grant cannot be extended' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF OLD.reviewed_at IS NOT NULL AND (NEW.reviewed_at IS DISTINCT FROM OLD.reviewed_at OR NEW.reviewed_by IS DISTINCT FROM OLD.reviewed_by OR NEW.review_note IS DISTINCT FROM OLD.review_note) THEN
          RAISE EXCEPTION 'a break-glass grant is reviewed once' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;`,
  },
  {
    // migrations/1764381000000-SourceIdentityReleases.ts
    fn: 'source_identity_release_guard',
    content: ['reason', 'decision_note', 'revoke_reason'],
    body: `
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
        RETURN NEW;`,
  },
  {
    // migrations/1764381500000-Conflicts.ts
    fn: 'case_recusal_guard',
    content: ['reason', 'withdraw_reason'],
    body: `
        IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'case_recusals rows are never deleted' USING ERRCODE = 'insufficient_privilege'; END IF;
        IF OLD.withdrawn_at IS NOT NULL THEN RAISE EXCEPTION 'a withdrawn recusal does not change' USING ERRCODE = 'check_violation'; END IF;
        IF NEW.case_id <> OLD.case_id OR NEW.user_id <> OLD.user_id OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.recused_at <> OLD.recused_at THEN
          RAISE EXCEPTION 'only the withdrawal of a recusal may be recorded' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;`,
  },
];

/**
 * With `destroying`, the guard first admits destroy_case_content's change: run by the table's owner
 * (the service's role is not), with app.destroying_case naming this row's case, and changing
 * nothing but the content columns.
 */
function guardSql(g: Guard, destroying: boolean): string {
  const content = `ARRAY[${g.content.map((c) => `'${c}'`).join(', ')}]`;
  const admitDestruction = `
        IF TG_OP = 'UPDATE' AND OLD.case_id::text = current_setting('app.destroying_case', true)
           AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
           AND (to_jsonb(NEW) - ${content}) = (to_jsonb(OLD) - ${content}) THEN
          RETURN NEW;
        END IF;`;
  return `
      CREATE OR REPLACE FUNCTION ${g.fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN${destroying ? admitDestruction : ''}${g.body}
      END $$`;
}

/** Everything above destroy_case_content's own checks, unchanged since migrations/1764380900000-Encryption.ts. */
const PRECONDITIONS = `
      SELECT state, legal_hold_at, content_destroyed_at INTO c FROM cases WHERE id = p_case FOR UPDATE;
      IF NOT FOUND THEN RAISE EXCEPTION 'no such case' USING ERRCODE = 'no_data_found'; END IF;
      IF c.state <> 'closed' THEN RAISE EXCEPTION 'case is not closed' USING ERRCODE = 'check_violation'; END IF;
      IF c.legal_hold_at IS NOT NULL THEN RAISE EXCEPTION 'case is on legal hold' USING ERRCODE = 'check_violation'; END IF;
      IF c.content_destroyed_at IS NOT NULL THEN RAISE EXCEPTION 'content already destroyed' USING ERRCODE = 'check_violation'; END IF;
      IF NOT EXISTS (SELECT 1 FROM retention_reviews WHERE id = p_review AND case_id = p_case AND status = 'pending') THEN
        RAISE EXCEPTION 'no pending review for this case' USING ERRCODE = 'check_violation';
      END IF;
      PERFORM pg_advisory_xact_lock(${CASE_KEY_LOCK}, hashtext(p_case::text));
      PERFORM set_config('app.destroying_case', p_case::text, true);`;

/** The case file of session 1, as migrations/1764380900000-Encryption.ts destroyed it. */
const CASE_FILE = `
      DELETE FROM concern_sources WHERE concern_id IN (SELECT id FROM concerns WHERE case_id = p_case);
      UPDATE concerns SET description = NULL, signals = '{}' WHERE case_id = p_case;`;
const CASE_FILE_REST = `
      UPDATE support_progress_notes SET note = '${DESTROYED}' WHERE support_id IN (SELECT id FROM improvement_support WHERE case_id = p_case);
      UPDATE improvement_support SET description = '${DESTROYED}', outcomes = '[]', providers = '[]' WHERE case_id = p_case;
      UPDATE pre_intervention_meetings SET agenda = NULL, outcome_notes = NULL, attendees = '[]' WHERE case_id = p_case;
      UPDATE case_transitions SET ${blankIfSet('reason')} WHERE case_id = p_case;`;
const SKELETON_AND_KEYS = `
      UPDATE cases SET outcome_reason = '${DESTROYED}', content_destroyed_at = now(), version = version + 1, updated_at = now() WHERE id = p_case;
      -- Crypto-shredding: without its key, any copy of the case's ciphertext left anywhere is noise.
      UPDATE data_keys SET state = 'destroyed', wrapped_key = NULL, master_key_id = NULL, destroyed_at = now() WHERE case_id = p_case AND state <> 'destroyed';
      UPDATE retention_reviews SET status = 'destroyed', decided_by = p_actor, decided_at = now() WHERE id = p_review;
      PERFORM set_config('app.destroying_case', '', true);`;

const destroyFunction = (body: string) => `
    CREATE OR REPLACE FUNCTION destroy_case_content(p_case uuid, p_review uuid, p_actor uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      c record;
    BEGIN${PRECONDITIONS}${body}${SKELETON_AND_KEYS}
    END $$`;

const DESTROY_CASE_CONTENT = destroyFunction(`${CASE_FILE}
      UPDATE conversation_records SET summary = NULL, agreed_actions = '[]', external_participants = '[]', ${blankIfSet('correction_reason')} WHERE case_id = p_case;${CASE_FILE_REST}
      -- Agreed records: addenda are text; who agreed for the authority or government is as identifying
      -- as a meeting's attendees; per-field hashes would confirm a guess of one destroyed field.
      UPDATE record_addenda SET text = '${DESTROYED}' WHERE case_id = p_case;
      UPDATE record_external_agreements SET organisation = '${DESTROYED}', agreed_by_role = NULL WHERE case_id = p_case;
      UPDATE record_agreements SET field_hashes = '{}' WHERE case_id = p_case;
      -- Reasons and notes written about the case (their copies in the audit trail are kept).
      UPDATE case_recusals SET ${blankIfSet('reason')}, ${blankIfSet('withdraw_reason')} WHERE case_id = p_case;
      UPDATE source_identity_releases SET reason = '${DESTROYED}', ${blankIfSet('decision_note')}, ${blankIfSet('revoke_reason')} WHERE case_id = p_case;
      UPDATE break_glass_grants SET reason = '${DESTROYED}', ${blankIfSet('review_note')} WHERE case_id = p_case;
      UPDATE stage_liaisons SET reason = '${DESTROYED}' WHERE case_id = p_case;
      UPDATE stage_pack_items SET title = NULL, summary = CASE WHEN kind = 'summary' THEN '${DESTROYED}' END WHERE case_id = p_case;`);

const DESTROY_CASE_CONTENT_BEFORE = destroyFunction(`${CASE_FILE}
      UPDATE conversation_records SET summary = NULL, agreed_actions = '[]', external_participants = '[]' WHERE case_id = p_case;${CASE_FILE_REST}`);

const PACK_TRIGGER_FUNCTION_BEFORE = `
CREATE FUNCTION ch_destroy_pack_content() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE stage_pack_items SET summary = '${DESTROYED}', title = NULL WHERE case_id = NEW.id AND kind = 'summary';
  UPDATE stage_pack_items SET title = NULL WHERE case_id = NEW.id AND kind <> 'summary';
  UPDATE stage_liaisons SET reason = '${DESTROYED}' WHERE case_id = NEW.id;
  RETURN NULL;
END $$`;

/** [table, how, the rows destroy_case_content changes]: what the deletion certificate lists, in this order. */
const COUNTED: Array<[string, 'deleted' | 'redacted', string]> = [
  ['concern_sources', 'deleted', `FROM concern_sources WHERE concern_id IN (SELECT id FROM concerns WHERE case_id = p_case)`],
  ['concerns', 'redacted', `FROM concerns WHERE case_id = p_case`],
  ['conversation_records', 'redacted', `FROM conversation_records WHERE case_id = p_case`],
  ['improvement_support', 'redacted', `FROM improvement_support WHERE case_id = p_case`],
  ['support_progress_notes', 'redacted', `FROM support_progress_notes WHERE support_id IN (SELECT id FROM improvement_support WHERE case_id = p_case)`],
  ['pre_intervention_meetings', 'redacted', `FROM pre_intervention_meetings WHERE case_id = p_case`],
  ['case_transitions', 'redacted', `FROM case_transitions WHERE case_id = p_case AND reason IS NOT NULL`],
  ['cases', 'redacted', `FROM cases WHERE id = p_case`],
];
const COUNTED_SINCE: Array<[string, 'deleted' | 'redacted', string]> = [
  ['record_addenda', 'redacted', `FROM record_addenda WHERE case_id = p_case`],
  ['record_external_agreements', 'redacted', `FROM record_external_agreements WHERE case_id = p_case`],
  ['record_agreements', 'redacted', `FROM record_agreements WHERE case_id = p_case`],
  ['case_recusals', 'redacted', `FROM case_recusals WHERE case_id = p_case AND (reason IS NOT NULL OR withdraw_reason IS NOT NULL)`],
  ['source_identity_releases', 'redacted', `FROM source_identity_releases WHERE case_id = p_case`],
  ['break_glass_grants', 'redacted', `FROM break_glass_grants WHERE case_id = p_case`],
  ['stage_liaisons', 'redacted', `FROM stage_liaisons WHERE case_id = p_case`],
  ['stage_pack_items', 'redacted', `FROM stage_pack_items WHERE case_id = p_case AND (title IS NOT NULL OR summary IS NOT NULL)`],
];

/** What destroy_case_content is about to take from a case: row counts per table, never content. */
const countsFunction = (tables: Array<[string, string, string]>) => `
    CREATE OR REPLACE FUNCTION deletion_certificate_counts(p_case uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      out jsonb;
      keys int;
    BEGIN
      SELECT jsonb_build_array(
        ${tables.map(([table, how, rows]) => `jsonb_build_object('table', '${table}', 'how', '${how}', 'rows', (SELECT count(*) ${rows}))`).join(',\n        ')}
      ) INTO out;
      -- Data keys exist once content is encrypted at rest: destroying them is crypto-shredding.
      IF to_regclass('data_keys') IS NOT NULL THEN
        EXECUTE 'SELECT count(*) FROM data_keys WHERE case_id = $1 AND state <> ''destroyed''' INTO keys USING p_case;
        out := out || jsonb_build_array(jsonb_build_object('table', 'data_keys', 'how', 'keys_destroyed', 'rows', keys));
      END IF;
      RETURN out;
    END $$`;

const CERTIFICATE_COUNTS = countsFunction([...COUNTED, ...COUNTED_SINCE]);
const CERTIFICATE_COUNTS_BEFORE = countsFunction(COUNTED);
