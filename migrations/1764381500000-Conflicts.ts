import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conflicts of interest and recusal (issue 8, point 4).
 *
 * - `conflict_declarations`: the ties a user declares about themselves (a council they work for
 *   or represent, an employer, a party role, a personal tie to named people). Never deleted: a
 *   tie that ends gets `ended_at`, so that what was declared when stays answerable.
 * - `case_recusals`: a user stepped away from a case. While a row is not withdrawn the user
 *   sees nothing of the case, whatever their role (src/conflicts, `AccessRule.Recused`). Only a
 *   clearing-house manager withdraws one, with a reason, once.
 *
 * The database mirrors recusal as a second lock: every table of case data that has row-level
 * security (migrations/1764381300000-RowLevelSecurity.ts) gets a RESTRICTIVE policy
 * `NOT ch_is_recused(<its case>)` for the service's role, so a recused user gets no row even if
 * the application's policy had a bug. Restrictive policies are ANDed with the permissive ones
 * of that migration, which stay untouched. Tables created by later migrations must add the
 * same policy themselves.
 */
export class Conflicts1764381500000 implements MigrationInterface {
  name = 'Conflicts1764381500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conflict_declarations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        kind text NOT NULL CHECK (kind IN ('authority_employment','authority_representation','employer','party_role','personal_tie')),
        authority_id uuid REFERENCES authorities(id),
        party_id uuid REFERENCES parties(id),
        detail text CHECK (detail IS NULL OR length(detail) BETWEEN 1 AND 500),
        declared_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        -- Working for or representing a council always names the council.
        CONSTRAINT conflict_declaration_authority CHECK (kind NOT IN ('authority_employment','authority_representation') OR authority_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX conflict_declarations_user_idx ON conflict_declarations (user_id, declared_at DESC)`);
    await q.query(`CREATE INDEX conflict_declarations_authority_idx ON conflict_declarations (authority_id, user_id) WHERE ended_at IS NULL`);

    await q.query(`
      CREATE TABLE case_recusals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        user_id uuid NOT NULL REFERENCES users(id),
        reason text CHECK (reason IS NULL OR length(reason) <= 2000),
        recused_at timestamptz NOT NULL DEFAULT now(),
        withdrawn_at timestamptz,
        withdrawn_by uuid REFERENCES users(id),
        withdraw_reason text,
        CONSTRAINT case_recusal_withdrawal_complete CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL) AND (withdrawn_at IS NULL) = (withdraw_reason IS NULL)),
        -- Nobody lifts their own recusal: a recused user cannot see the case, and a second person decides.
        CONSTRAINT case_recusal_not_self_withdrawn CHECK (withdrawn_by IS DISTINCT FROM user_id)
      )`);
    await q.query(`CREATE UNIQUE INDEX case_recusals_current_uq ON case_recusals (case_id, user_id) WHERE withdrawn_at IS NULL`);
    await q.query(`CREATE INDEX case_recusals_user_idx ON case_recusals (user_id, case_id) WHERE withdrawn_at IS NULL`);
    // A recusal is withdrawn once, and nothing else about it ever changes; rows are never deleted.
    await q.query(`
      CREATE FUNCTION case_recusal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'case_recusals rows are never deleted' USING ERRCODE = 'insufficient_privilege'; END IF;
        IF OLD.withdrawn_at IS NOT NULL THEN RAISE EXCEPTION 'a withdrawn recusal does not change' USING ERRCODE = 'check_violation'; END IF;
        IF NEW.case_id <> OLD.case_id OR NEW.user_id <> OLD.user_id OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.recused_at <> OLD.recused_at THEN
          RAISE EXCEPTION 'only the withdrawal of a recusal may be recorded' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER case_recusal_guard BEFORE UPDATE OR DELETE ON case_recusals FOR EACH ROW EXECUTE FUNCTION case_recusal_guard()`);

    await q.query(`GRANT SELECT, INSERT ON conflict_declarations, case_recusals TO clearing_house_service`);
    await q.query(`GRANT UPDATE (ended_at) ON conflict_declarations TO clearing_house_service`);
    await q.query(`GRANT UPDATE (withdrawn_at, withdrawn_by, withdraw_reason) ON case_recusals TO clearing_house_service`);

    await q.query(FUNCTIONS);
    for (const fn of DEFINER_FUNCTIONS) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO clearing_house_service`);
    }

    // The second lock on every case table that row-level security already guards.
    for (const [table, caseOfRow] of await guardedCaseTables(q)) await q.query(recusalGuardSql(table, caseOfRow));

    for (const [table, policies] of Object.entries(OWN_POLICIES)) {
      const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = $1::regclass`, [table]);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY rls_owner ON ${table} FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
      for (const [name, command, using, check] of policies) {
        await q.query(`CREATE POLICY ${name} ON ${table} FOR ${command} TO clearing_house_service` + (using ? ` USING (${using})` : '') + (check ? ` WITH CHECK (${check})` : ''));
      }
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const guarded: Array<{ table: string }> = await q.query(`SELECT tablename AS table FROM pg_policies WHERE schemaname = 'public' AND policyname = 'rls_not_recused'`);
    for (const { table } of guarded) await q.query(`DROP POLICY rls_not_recused ON ${table}`);
    await q.query(`DROP TABLE case_recusals`);
    await q.query(`DROP TABLE conflict_declarations`);
    await q.query(`DROP FUNCTION case_recusal_guard()`);
    for (const fn of DEFINER_FUNCTIONS) await q.query(`DROP FUNCTION ${fn}`);
  }
}

/**
 * The second lock for one table of case data: a recused user gets none of its rows, whatever its
 * other policies allow. A later migration that creates a case table with row-level security runs
 * this for it (test/conflicts/recusal.e2e-spec.ts checks that every such table has it).
 */
export function recusalGuardSql(table: string, caseOfRow: string): string {
  return `CREATE POLICY rls_not_recused ON ${table} AS RESTRICTIVE FOR ALL TO clearing_house_service USING (NOT ch_is_recused(${caseOfRow}))`;
}

/**
 * [table, the expression giving a row's case]: every table with row-level security enabled
 * that names a case, found in the catalogue so that case tables of features migrated before
 * this one are covered too.
 */
async function guardedCaseTables(q: QueryRunner): Promise<Array<[string, string]>> {
  const rows: Array<{ table: string; column: string }> = await q.query(`
    SELECT c.relname AS table, a.attname AS column
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
       AND ((c.relname = 'cases' AND a.attname = 'id')
         OR (c.relname <> 'cases' AND a.attname = 'case_id')
         OR (c.relname = 'concern_sources' AND a.attname = 'concern_id')
         OR (c.relname = 'support_progress_notes' AND a.attname = 'support_id'))
     ORDER BY c.relname`);
  return rows.map(({ table, column }): [string, string] => [
    table,
    column === 'concern_id' ? 'ch_case_of_concern(concern_id)' : column === 'support_id' ? 'ch_case_of_support(support_id)' : column,
  ]);
}

type Policy = [string, 'SELECT' | 'INSERT' | 'UPDATE', string | null, string | null];

const OWN_POLICIES: Record<string, Policy[]> = {
  // Your own ties; managers (who compose case teams) and administrators (who manage accounts) see everyone's.
  conflict_declarations: [
    ['rls_read', 'SELECT', `user_id = ch_user_id() OR ch_user_role() IN ('clearing_house_manager', 'administrator')`, null],
    ['rls_insert', 'INSERT', null, `user_id = ch_user_id() AND ch_user_role() IS NOT NULL`],
    ['rls_update', 'UPDATE', `user_id = ch_user_id()`, `user_id = ch_user_id()`],
  ],
  // Your own recusals; and those on a case you may read (they decide who is told about it); the deadline job's recipients.
  case_recusals: [
    ['rls_read', 'SELECT', `user_id = ch_user_id() OR (ch_may_read_case(case_id) AND NOT ch_is_recused(case_id)) OR ch_system_context() = 'deadlines'`, null],
    // Only yourself, from a case you may see now.
    ['rls_insert', 'INSERT', null, `user_id = ch_user_id() AND withdrawn_at IS NULL AND ch_may_read_case(case_id) AND NOT ch_is_recused(case_id)`],
    // Withdrawal: a clearing-house manager who may change the case (never through break-glass alone).
    [
      'rls_update', 'UPDATE',
      `ch_user_role() = 'clearing_house_manager' AND ch_may_write_case(case_id) AND NOT ch_is_recused(case_id)`,
      `ch_user_role() = 'clearing_house_manager' AND withdrawn_by = ch_user_id() AND ch_may_write_case(case_id) AND NOT ch_is_recused(case_id)`,
    ],
  ],
};

const DEFINER_FUNCTIONS = ['ch_is_recused(uuid)', 'ch_case_of_concern(uuid)', 'ch_leave_case_team(uuid)'];

const FUNCTIONS = `
-- Whether the requesting user has recused themselves from the case (and it was not withdrawn).
-- Without a user (system work) nobody is recused. SECURITY DEFINER: case_recusals' own policy asks it.
CREATE FUNCTION ch_is_recused(p_case uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM case_recusals r WHERE r.case_id = p_case AND r.user_id = ch_user_id() AND r.withdrawn_at IS NULL)
$$;

CREATE FUNCTION ch_case_of_concern(p_concern uuid) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT case_id FROM concerns WHERE id = p_concern
$$;

-- Completes a recusal: the recused user leaves the case team (and the case's version moves on).
-- Only their own membership, and only once their recusal is recorded (team changes are otherwise
-- a manager's; the recused user may no longer change the case itself).
CREATE FUNCTION ch_leave_case_team(p_case uuid) RETURNS integer LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  me uuid := ch_user_id();
  n integer;
BEGIN
  IF me IS NULL OR NOT ch_is_recused(p_case) THEN RETURN 0; END IF;
  UPDATE case_team_members SET removed_at = now(), removed_by = me WHERE case_id = p_case AND user_id = me AND removed_at IS NULL;
  GET DIAGNOSTICS n = ROW_COUNT;
  -- The team changed: readers holding the old version must reload.
  IF n > 0 THEN UPDATE cases SET version = version + 1, updated_at = now() WHERE id = p_case; END IF;
  RETURN n;
END $$;
`;
