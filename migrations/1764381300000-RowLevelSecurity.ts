import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Row-level security as a second lock (issue 5, point 1). Every table of case data has RLS
 * enabled and forced, with policies that mirror the application's access policy
 * (src/access-control/case-access-policy.ts): region (RIEP facilitator), case team (lead
 * political peer, restricted cases), named-only and party-confidential items, break-glass
 * (read only, never the source) and the source's identity (src/source-identity).
 *
 * Who is asking comes from settings made inside the request's own transaction
 * (`set_config(..., true)`, src/database/row-security.ts): `clearing_house.user_id`; role, region
 * and party are looked up in `users`, never trusted from a setting. System work (statistics,
 * retention, deadlines, the audit trail's case references, re-encryption, the break-glass review
 * queue) sets `clearing_house.system` to its own name, and each table admits only the system
 * contexts that need it, for reading (and deadlines for its own table). Without settings every
 * case table shows nothing to the service.
 *
 * Policies bind the service's role (`clearing_house_service` and its login members). The
 * helper functions that look at other case tables run SECURITY DEFINER as the owner, so that a
 * policy on `cases` can ask about `case_team_members` (whose own policy asks about `cases`)
 * without recursing. FORCE makes RLS apply to the owner too, so instead of `SET row_security =
 * off` (which only a role with BYPASSRLS may use) the owner is admitted by its own policy on
 * each table (`rls_owner`): correct whether the owner is a superuser (tests, the demo: it bypasses
 * RLS anyway) or an ordinary role (production), and it never applies to the service's role,
 * which is not a member of the owner.
 */
export class RowLevelSecurity1764381300000 implements MigrationInterface {
  name = 'RowLevelSecurity1764381300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(FUNCTIONS);
    for (const fn of DEFINER_FUNCTIONS) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO clearing_house_service`);
    }
    for (const [table, policies] of Object.entries(await policiesFor(q))) {
      const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = $1::regclass`, [table]);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY rls_owner ON ${table} FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
      for (const [name, command, using, check] of policies) {
        await q.query(
          `CREATE POLICY ${name} ON ${table} FOR ${command} TO clearing_house_service` +
            (using ? ` USING (${using})` : '') +
            (check ? ` WITH CHECK (${check})` : ''),
        );
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, policies] of Object.entries(await policiesFor(q))) {
      for (const [name] of policies) await q.query(`DROP POLICY ${name} ON ${table}`);
      await q.query(`DROP POLICY rls_owner ON ${table}`);
      await q.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
    for (const fn of [...DEFINER_FUNCTIONS, ...INVOKER_FUNCTIONS]) await q.query(`DROP FUNCTION ${fn}`);
  }
}

const STAFF = `('clearing_house_officer','clearing_house_manager')`;

/** [name, command, USING, WITH CHECK] */
type Policy = [string, 'SELECT' | 'INSERT' | 'UPDATE', string | null, string | null];

const system = (...contexts: string[]) => `ch_system_context() IN (${contexts.map((c) => `'${c}'`).join(', ')})`;

async function policiesFor(q: QueryRunner): Promise<Record<string, Policy[]>> {
  const caseRow = (writing: boolean) => `ch_case_visible(id, authority_id, referred_to_riep_at, restricted_to_team, restricted_by, ${writing})`;
  const tables: Record<string, Policy[]> = {
    cases: [
      ['rls_read', 'SELECT', `${system('statistics', 'retention', 'audit', 'deadlines', 'break_glass_review')} OR ${caseRow(false)}`, null],
      // Opening a case: clearing-house staff, in their own name.
      ['rls_insert', 'INSERT', null, `ch_user_role() IN ${STAFF} AND opened_by = ch_user_id()`],
      // Never under break-glass alone (read only).
      ['rls_update', 'UPDATE', caseRow(true), caseRow(true)],
    ],
    case_team_members: [
      ['rls_read', 'SELECT', `${system('deadlines')} OR ch_may_read_case(case_id)`, null],
      ['rls_insert', 'INSERT', null, `ch_user_role() = 'clearing_house_manager' AND ch_may_write_case(case_id)`],
      ['rls_update', 'UPDATE', `ch_user_role() = 'clearing_house_manager' AND ch_may_write_case(case_id)`, `ch_user_role() = 'clearing_house_manager' AND ch_may_write_case(case_id)`],
    ],
    concerns: [
      // Whoever logged a concern may read it back (they wrote it), even when its marking does not name them.
      ['rls_read', 'SELECT', `${system('statistics', 'encryption')} OR (ch_may_read_case(case_id) AND (ch_item_visible(handling, NULL, named_user_ids) OR logged_by = ch_user_id()))`, null],
      ['rls_insert', 'INSERT', null, `ch_user_role() IN ${STAFF} AND logged_by = ch_user_id() AND ch_may_write_case(case_id)`],
    ],
    concern_sources: [
      ['rls_read', 'SELECT', `${system('encryption')} OR ch_may_see_source(concern_id)`, null],
      ['rls_insert', 'INSERT', null, `ch_may_record_source(concern_id)`],
    ],
    case_transitions: [
      ['rls_read', 'SELECT', `${system('statistics')} OR ch_may_read_case(case_id)`, null],
      ['rls_insert', 'INSERT', null, `actor_id = ch_user_id() AND ch_may_write_case(case_id)`],
    ],
    conversation_records: [
      ['rls_read', 'SELECT', `${system('deadlines', 'encryption')} OR (ch_may_read_case(case_id) AND (ch_item_visible(handling, party_id, named_user_ids) OR recorded_by = ch_user_id()))`, null],
      // A party-confidential record only by someone who may see that party's records (a peer of the party, or a manager correcting one).
      ['rls_insert', 'INSERT', null, `recorded_by = ch_user_id() AND ch_may_write_case(case_id) AND (handling <> 'party_confidential' OR ch_item_visible(handling, party_id, named_user_ids))`],
    ],
    pre_intervention_meetings: [
      ['rls_read', 'SELECT', `ch_may_read_case(case_id)`, null],
      ['rls_insert', 'INSERT', null, `recorded_by = ch_user_id() AND ch_may_write_case(case_id)`],
      ['rls_update', 'UPDATE', `ch_may_write_case(case_id)`, `ch_may_write_case(case_id)`],
    ],
    improvement_support: [
      ['rls_read', 'SELECT', `ch_may_read_case(case_id)`, null],
      ['rls_insert', 'INSERT', null, `recorded_by = ch_user_id() AND ch_may_write_case(case_id)`],
      ['rls_update', 'UPDATE', `ch_may_write_case(case_id)`, `ch_may_write_case(case_id)`],
    ],
    support_progress_notes: [
      ['rls_read', 'SELECT', `ch_may_read_case(ch_case_of_support(support_id))`, null],
      ['rls_insert', 'INSERT', null, `recorded_by = ch_user_id() AND ch_may_write_case(ch_case_of_support(support_id))`],
    ],
  };
  // Tables of later features, covered when they exist.
  const [{ deadlines }] = await q.query(`SELECT to_regclass('public.case_deadlines') IS NOT NULL AS deadlines`);
  if (deadlines) {
    tables.case_deadlines = [
      ['rls_read', 'SELECT', `${system('deadlines')} OR ch_may_read_case(case_id)`, null],
      ['rls_insert', 'INSERT', null, `ch_may_write_case(case_id)`],
      ['rls_update', 'UPDATE', `${system('deadlines')} OR ch_may_write_case(case_id)`, `${system('deadlines')} OR ch_may_write_case(case_id)`],
    ];
  }
  return tables;
}

const INVOKER_FUNCTIONS = ['ch_user_id()', 'ch_system_context()', 'ch_user_role()', 'ch_item_visible(text, uuid, uuid[])'];
const DEFINER_FUNCTIONS = [
  'ch_case_visible(uuid, uuid, timestamptz, boolean, uuid, boolean)',
  'ch_may_read_case(uuid)',
  'ch_may_write_case(uuid)',
  'ch_case_of_support(uuid)',
  'ch_may_see_source(uuid)',
  'ch_may_record_source(uuid)',
  'ch_concern_has_source(uuid)',
  'ch_case_refusal_facts(text)',
  'ch_locate_item(text, uuid)',
  'ch_case_has_sensitive_conversation(uuid)',
];

const FUNCTIONS = `
-- Who is asking: set with set_config(..., true) at the start of the request's transaction.
CREATE FUNCTION ch_user_id() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('clearing_house.user_id', true), '')::uuid
$$;

-- The system work running in this transaction (statistics, retention, ...), or NULL.
CREATE FUNCTION ch_system_context() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('clearing_house.system', true), '')
$$;

-- The caller's role, from users (an unknown or disabled user has none).
CREATE FUNCTION ch_user_role() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT role FROM users WHERE id = ch_user_id() AND disabled_at IS NULL
$$;

-- itemVisibility: managers see every item; named-only items their named people; party-confidential ones the peers of the party.
CREATE FUNCTION ch_item_visible(p_handling text, p_party uuid, p_named uuid[]) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce((
    SELECT CASE
             WHEN u.role = 'clearing_house_manager' THEN true
             WHEN p_handling = 'normal' THEN true
             WHEN p_handling = 'named_only' THEN u.id = ANY (p_named)
             WHEN p_handling = 'party_confidential' THEN u.role = 'lead_political_peer' AND u.party_id IS NOT NULL AND u.party_id = p_party
             ELSE false
           END
      FROM users u WHERE u.id = ch_user_id() AND u.disabled_at IS NULL), false)
$$;

-- caseVisibility over a case's facts. p_writing: not through a break-glass grant (break-glass reads only).
CREATE FUNCTION ch_case_visible(p_case uuid, p_authority uuid, p_referred timestamptz, p_restricted boolean, p_restricted_by uuid, p_writing boolean)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  me uuid := ch_user_id();
  u record;
  on_team boolean;
BEGIN
  IF me IS NULL THEN RETURN false; END IF;
  SELECT role, region INTO u FROM users WHERE id = me AND disabled_at IS NULL;
  IF NOT FOUND THEN RETURN false; END IF;
  on_team := EXISTS (SELECT 1 FROM case_team_members tm WHERE tm.case_id = p_case AND tm.user_id = me AND tm.removed_at IS NULL);
  IF u.role IN ('clearing_house_officer', 'clearing_house_manager') THEN
    NULL;
  ELSIF u.role = 'riep_facilitator' THEN
    IF u.region IS NULL OR NOT EXISTS (SELECT 1 FROM authorities a WHERE a.id = p_authority AND a.region = u.region) THEN RETURN false; END IF;
    IF NOT on_team AND p_referred IS NULL THEN RETURN false; END IF;
  ELSIF u.role = 'lead_political_peer' THEN
    IF NOT on_team THEN RETURN false; END IF;
  ELSE
    RETURN false;
  END IF;
  IF NOT p_restricted OR on_team THEN RETURN true; END IF;
  IF u.role <> 'clearing_house_manager' THEN RETURN false; END IF;
  IF p_restricted_by = me THEN RETURN true; END IF;
  RETURN NOT p_writing AND EXISTS (SELECT 1 FROM break_glass_grants g WHERE g.case_id = p_case AND g.user_id = me AND g.expires_at > now());
END $$;

CREATE FUNCTION ch_may_read_case(p_case uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT ch_case_visible(c.id, c.authority_id, c.referred_to_riep_at, c.restricted_to_team, c.restricted_by, false) FROM cases c WHERE c.id = p_case), false)
$$;

CREATE FUNCTION ch_may_write_case(p_case uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT ch_case_visible(c.id, c.authority_id, c.referred_to_riep_at, c.restricted_to_team, c.restricted_by, true) FROM cases c WHERE c.id = p_case), false)
$$;

CREATE FUNCTION ch_case_of_support(p_support uuid) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT case_id FROM improvement_support WHERE id = p_support
$$;

-- A source's identity: a clearing-house manager who may see the case other than through
-- break-glass; or clearing-house staff holding an approved, unexpired release of it who may see
-- the case (not through break-glass) and the concern. Nobody else.
CREATE FUNCTION ch_may_see_source(p_concern uuid) RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  k record;
  r text := ch_user_role();
BEGIN
  IF r IS NULL OR r NOT IN ${STAFF} THEN RETURN false; END IF;
  SELECT case_id, handling, named_user_ids INTO k FROM concerns WHERE id = p_concern;
  IF NOT FOUND OR NOT ch_may_write_case(k.case_id) THEN RETURN false; END IF;
  IF r = 'clearing_house_manager' THEN RETURN true; END IF;
  IF to_regclass('public.source_identity_releases') IS NULL OR NOT ch_item_visible(k.handling, NULL, k.named_user_ids) THEN RETURN false; END IF;
  RETURN EXISTS (SELECT 1 FROM source_identity_releases s WHERE s.concern_id = p_concern AND s.released_to = ch_user_id()
                  AND s.state = 'approved' AND s.expires_at > now());
END $$;

-- Recording a source with a concern: clearing-house staff who may write to the concern's case.
CREATE FUNCTION ch_may_record_source(p_concern uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT ch_user_role() IN ${STAFF} AND coalesce((SELECT ch_may_write_case(case_id) FROM concerns WHERE id = p_concern), false)
$$;

-- Whether a concern the caller may read has a source (never who): officers see that one exists.
CREATE FUNCTION ch_concern_has_source(p_concern uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM concerns k JOIN concern_sources s ON s.concern_id = k.id
                  WHERE k.id = p_concern AND ch_may_read_case(k.case_id) AND ch_item_visible(k.handling, NULL, k.named_user_ids))
$$;

-- The access facts (never content) of a case the caller's own query did not return, so the
-- application can name in the audit trail the rule that hid it, and a manager can ask for
-- break-glass access to a restricted case they cannot see. Only inside a request.
CREATE FUNCTION ch_case_refusal_facts(p_key text)
RETURNS TABLE (id uuid, reference text, authority_region text, referred_to_riep_at timestamptz, restricted_to_team boolean, restricted_by uuid, team jsonb, break_glass_grants jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.reference, a.region, c.referred_to_riep_at, c.restricted_to_team, c.restricted_by,
         coalesce((SELECT jsonb_agg(jsonb_build_object('userId', tm.user_id, 'teamRole', tm.team_role)) FROM case_team_members tm
                    WHERE tm.case_id = c.id AND tm.removed_at IS NULL), '[]'),
         coalesce((SELECT jsonb_agg(jsonb_build_object('userId', g.user_id, 'expiresAt', g.expires_at)) FROM break_glass_grants g
                    WHERE g.case_id = c.id AND g.user_id = ch_user_id() AND g.expires_at > now()), '[]')
    FROM cases c JOIN authorities a ON a.id = c.authority_id
   WHERE ch_user_id() IS NOT NULL
     AND (CASE WHEN p_key ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN c.id = p_key::uuid ELSE c.reference = p_key END)
$$;

-- A workflow precondition: whether a sensitive conversation was recorded on a case the caller may
-- read, whoever may read the record itself (a party-confidential note still counts). Yes or no only.
CREATE FUNCTION ch_case_has_sensitive_conversation(p_case uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT ch_may_read_case(p_case) AND EXISTS (SELECT 1 FROM conversation_records r WHERE r.case_id = p_case AND r.kind = 'sensitive_conversation')
$$;

-- Where an item the caller's own query did not return lives, and its marking (never content):
-- for the audit rule of the refusal. Only inside a request.
CREATE FUNCTION ch_locate_item(p_kind text, p_id uuid)
RETURNS TABLE (case_id uuid, handling text, party_id uuid, named_user_ids uuid[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT * FROM (
    SELECT k.case_id, k.handling, NULL::uuid, k.named_user_ids FROM concerns k WHERE p_kind = 'concern' AND k.id = p_id
    UNION ALL
    (SELECT r.case_id, r.handling, r.party_id, r.named_user_ids FROM conversation_records r WHERE p_kind = 'conversation' AND r.record_id = p_id ORDER BY r.version DESC LIMIT 1)
    UNION ALL
    SELECT m.case_id, 'normal', NULL::uuid, '{}'::uuid[] FROM pre_intervention_meetings m WHERE p_kind = 'meeting' AND m.id = p_id
    UNION ALL
    SELECT s.case_id, 'normal', NULL::uuid, '{}'::uuid[] FROM improvement_support s WHERE p_kind = 'support' AND s.id = p_id
  ) x WHERE ch_user_id() IS NOT NULL
$$;
`;
