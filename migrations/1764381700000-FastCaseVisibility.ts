import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Case visibility that the planner can see through (issue 7).
 *
 * The read policy on `cases` (migrations/1764381300000-RowLevelSecurity.ts) called the plpgsql
 * function `ch_case_visible` for every candidate row, and the recusal guard
 * (migrations/1764381500000-Conflicts.ts) the SQL function `ch_is_recused`; both are SECURITY
 * DEFINER, so neither is inlined, and each call looked up the caller in `users` and probed
 * `case_team_members` (and `authorities`, `case_recusals`) again. An officer's list at 100,000
 * cases paid that ~100,000 times per page (bench/README.md, section 5).
 *
 * Here both policies become plain SQL over the row's own columns. What depends on the caller only
 * is a sub-select that PostgreSQL evaluates once per statement: the caller's role and region (an
 * InitPlan over `users`), the authorities of that region, the cases of the caller's team, their
 * recusals and their unexpired break-glass grants (hashed SubPlans, looked up per row in memory).
 * The team, the recusals and the grants are read through SECURITY DEFINER set functions, as
 * `ch_case_visible` read them: those tables' own policies ask about `cases`.
 *
 * Same rule as `ch_case_visible(..., false)` and `ch_is_recused`, which stay (the policies of the
 * other case tables and the update policy on `cases` still call them): clearing-house staff see the
 * register; a RIEP facilitator their region's cases once referred, or those whose team they are
 * on; a lead political peer their team's cases; nobody else, and no unknown or disabled user. A
 * case restricted to its team only to its current members, the manager who restricted it, and a
 * manager holding an unexpired break-glass grant. Never a case the caller is recused from.
 */
export class FastCaseVisibility1764381700000 implements MigrationInterface {
  name = 'FastCaseVisibility1764381700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(FUNCTIONS);
    for (const fn of DEFINER_FUNCTIONS) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO clearing_house_service`);
    }
    await q.query(`ALTER POLICY rls_read ON cases USING (${SYSTEM_READS} OR ${CASE_VISIBLE})`);
    await q.query(`ALTER POLICY rls_not_recused ON cases USING (${NOT_RECUSED})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER POLICY rls_not_recused ON cases USING (NOT ch_is_recused(id))`);
    await q.query(
      `ALTER POLICY rls_read ON cases USING (${SYSTEM_READS} OR ch_case_visible(id, authority_id, referred_to_riep_at, restricted_to_team, restricted_by, false))`,
    );
    for (const fn of [...DEFINER_FUNCTIONS, ...INVOKER_FUNCTIONS]) await q.query(`DROP FUNCTION ${fn}`);
  }
}

/** The system work that reads `cases` (unchanged from the row-level-security migration). */
const SYSTEM_READS = `ch_system_context() IN ('statistics', 'retention', 'audit', 'deadlines', 'break_glass_review')`;

// Each sub-select below is uncorrelated: evaluated once per statement, not per row.
const ROLE = `(SELECT ch_user_role())`;
const ON_TEAM = `id IN (SELECT t FROM ch_team_case_ids() AS t)`;
const GRANTED = `id IN (SELECT g FROM ch_break_glass_case_ids() AS g)`;

/** `caseVisibility` (src/access-control/case-access-policy.ts) over a `cases` row, for reading. */
const CASE_VISIBLE = `(
  CASE ${ROLE}
    WHEN 'clearing_house_officer' THEN true
    WHEN 'clearing_house_manager' THEN true
    WHEN 'riep_facilitator' THEN authority_id IN (SELECT a.id FROM authorities a WHERE a.region = (SELECT ch_user_region()))
                                 AND (referred_to_riep_at IS NOT NULL OR ${ON_TEAM})
    WHEN 'lead_political_peer' THEN ${ON_TEAM}
    ELSE false
  END
  AND (NOT restricted_to_team
       OR ${ON_TEAM}
       OR (${ROLE} = 'clearing_house_manager' AND (restricted_by = ch_user_id() OR ${GRANTED}))))`;

const NOT_RECUSED = `id NOT IN (SELECT r FROM ch_recused_case_ids() AS r)`;

const INVOKER_FUNCTIONS = ['ch_user_region()'];
const DEFINER_FUNCTIONS = ['ch_team_case_ids()', 'ch_recused_case_ids()', 'ch_break_glass_case_ids()'];

const FUNCTIONS = `
-- The caller's region, from users (as ch_user_role: an unknown or disabled user has none).
CREATE FUNCTION ch_user_region() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT region FROM users WHERE id = ch_user_id() AND disabled_at IS NULL
$$;

-- The cases whose team the caller is on now. SECURITY DEFINER: case_team_members' own policy asks about cases.
CREATE FUNCTION ch_team_case_ids() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 100 AS $$
  SELECT case_id FROM case_team_members WHERE user_id = ch_user_id() AND removed_at IS NULL
$$;

-- The cases on which the caller holds an unexpired break-glass grant (as ch_case_visible, whatever break_glass_grants' own policy).
CREATE FUNCTION ch_break_glass_case_ids() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 10 AS $$
  SELECT case_id FROM break_glass_grants WHERE user_id = ch_user_id() AND expires_at > now()
$$;

-- The cases the caller is recused from (ch_is_recused for all of them at once). Without a user, none.
CREATE FUNCTION ch_recused_case_ids() RETURNS SETOF uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp ROWS 10 AS $$
  SELECT case_id FROM case_recusals WHERE user_id = ch_user_id() AND withdrawn_at IS NULL
$$;
`;
