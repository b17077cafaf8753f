import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agreed records (issue 8, point 3). A conversation record or a pre-intervention meeting moves
 * from draft to agreed when every participant named on it as a user has attested its latest
 * version; the agreement then seals it: the SHA-256 of its canonical content is stored here and
 * carried, in the same transaction, by an audit record that the sealer puts into the Merkle tree.
 * Later corrections are addenda linked to the agreement, never edits.
 *
 * Attestations, agreements and external agreements hold ids, dates and facts (who, when, how),
 * never content; addenda hold text. All four are append-only, like conversation records
 * (guard_immutable, migrations/1764380700000-Retention.ts), and have row-level security in the
 * style of migrations/1764381300000-RowLevelSecurity.ts: a row is seen by those who may see the
 * record it belongs to.
 */
export class AgreedRecords1764381400000 implements MigrationInterface {
  name = 'AgreedRecords1764381400000';

  async up(q: QueryRunner): Promise<void> {
    // Users named as taking part in a meeting: the people who attest its record.
    await q.query(`ALTER TABLE pre_intervention_meetings ADD COLUMN participant_user_ids uuid[] NOT NULL DEFAULT '{}'`);

    await q.query(`
      CREATE TABLE record_attestations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        record_type text NOT NULL CHECK (record_type IN ('conversation','meeting')),
        record_id uuid NOT NULL,
        -- The version attested: a correction of the draft needs fresh attestations.
        record_version integer NOT NULL CHECK (record_version >= 1),
        case_id uuid NOT NULL REFERENCES cases(id),
        user_id uuid NOT NULL REFERENCES users(id),
        attested_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (record_type, record_id, record_version, user_id)
      )`);
    await q.query(`
      CREATE TABLE record_agreements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        record_type text NOT NULL CHECK (record_type IN ('conversation','meeting')),
        record_id uuid NOT NULL,
        record_version integer NOT NULL CHECK (record_version >= 1),
        case_id uuid NOT NULL REFERENCES cases(id),
        hash_format text NOT NULL,
        content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
        -- SHA-256 of each canonical field: lets a failed verification name what changed (the seal is content_hash).
        field_hashes jsonb NOT NULL,
        agreed_at timestamptz NOT NULL DEFAULT now(),
        -- One agreement per record: agreeing twice is refused by the database too.
        UNIQUE (record_type, record_id)
      )`);
    await q.query(`
      CREATE TABLE record_external_agreements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        record_type text NOT NULL CHECK (record_type IN ('conversation','meeting')),
        record_id uuid NOT NULL,
        case_id uuid NOT NULL REFERENCES cases(id),
        counterparty text NOT NULL CHECK (counterparty IN ('authority','government')),
        organisation text NOT NULL CHECK (length(organisation) BETWEEN 1 AND 200),
        agreed_by_role text CHECK (length(agreed_by_role) <= 200),
        agreed_on date NOT NULL,
        method text NOT NULL CHECK (method IN ('in_meeting','in_writing','email','call')),
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE record_addenda (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agreement_id uuid NOT NULL REFERENCES record_agreements(id),
        record_type text NOT NULL CHECK (record_type IN ('conversation','meeting')),
        record_id uuid NOT NULL,
        case_id uuid NOT NULL REFERENCES cases(id),
        text text NOT NULL CHECK (length(text) BETWEEN 1 AND 20000),
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX record_attestations_record_idx ON record_attestations (record_type, record_id)`);
    await q.query(`CREATE INDEX record_external_agreements_record_idx ON record_external_agreements (record_type, record_id)`);
    await q.query(`CREATE INDEX record_addenda_record_idx ON record_addenda (record_type, record_id, recorded_at)`);
    for (const table of TABLES) {
      await q.query(`CREATE TRIGGER ${table}_immutable BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION guard_immutable()`);
    }

    // Whether the caller may see a record (and so its attestations, agreement and addenda): its
    // case, and for a conversation the marking of its latest version (which never changes).
    await q.query(`
      CREATE FUNCTION ch_agreed_record_visible(p_type text, p_record uuid, p_writing boolean) RETURNS boolean
      LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT coalesce((
          SELECT CASE WHEN p_writing THEN ch_may_write_case(x.case_id) ELSE ch_may_read_case(x.case_id) END
                 AND ch_item_visible(x.handling, x.party_id, x.named_user_ids)
            FROM (
              (SELECT r.case_id, r.handling, r.party_id, r.named_user_ids FROM conversation_records r
                WHERE p_type = 'conversation' AND r.record_id = p_record ORDER BY r.version DESC LIMIT 1)
              UNION ALL
              SELECT m.case_id, 'normal', NULL::uuid, '{}'::uuid[] FROM pre_intervention_meetings m WHERE p_type = 'meeting' AND m.id = p_record
            ) x LIMIT 1), false)
      $$`);
    await q.query(`REVOKE ALL ON FUNCTION ch_agreed_record_visible(text, uuid, boolean) FROM PUBLIC`);
    await q.query(`GRANT EXECUTE ON FUNCTION ch_agreed_record_visible(text, uuid, boolean) TO clearing_house_service`);

    const read = `ch_agreed_record_visible(record_type, record_id, false)`;
    const policies: Record<(typeof TABLES)[number], Array<[string, 'SELECT' | 'INSERT', string | null, string | null]>> = {
      // Only in one's own name, on a record one may see (a participant who may read it).
      record_attestations: [['rls_read', 'SELECT', read, null], ['rls_insert', 'INSERT', null, `user_id = ch_user_id() AND ${read}`]],
      // Written by the attestation that completes the agreement.
      record_agreements: [['rls_read', 'SELECT', read, null], ['rls_insert', 'INSERT', null, `ch_user_id() IS NOT NULL AND ${read}`]],
      record_external_agreements: [
        ['rls_read', 'SELECT', read, null],
        ['rls_insert', 'INSERT', null, `recorded_by = ch_user_id() AND ch_agreed_record_visible(record_type, record_id, true)`],
      ],
      record_addenda: [
        ['rls_read', 'SELECT', read, null],
        ['rls_insert', 'INSERT', null, `recorded_by = ch_user_id() AND ch_agreed_record_visible(record_type, record_id, true)`],
      ],
    };
    for (const [table, list] of Object.entries(policies)) {
      const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = $1::regclass`, [table]);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY rls_owner ON ${table} FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
      for (const [name, command, using, check] of list) {
        await q.query(
          `CREATE POLICY ${name} ON ${table} FOR ${command} TO clearing_house_service` + (using ? ` USING (${using})` : '') + (check ? ` WITH CHECK (${check})` : ''),
        );
      }
      // Append-only for the service: no UPDATE or DELETE granted.
      await q.query(`GRANT SELECT, INSERT ON ${table} TO clearing_house_service`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await q.query(`DROP TABLE ${table}`);
    await q.query(`DROP FUNCTION ch_agreed_record_visible(text, uuid, boolean)`);
    await q.query(`ALTER TABLE pre_intervention_meetings DROP COLUMN participant_user_ids`);
  }
}

const TABLES = ['record_attestations', 'record_agreements', 'record_external_agreements', 'record_addenda'] as const;
