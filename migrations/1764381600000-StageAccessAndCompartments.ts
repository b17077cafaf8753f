import { MigrationInterface, QueryRunner } from 'typeorm';
import { recusalGuardSql } from './1764381500000-Conflicts';

const ROLES_BEFORE = `'clearing_house_officer','clearing_house_manager','riep_facilitator','lead_political_peer','auditor','administrator','board_member'`;
const STAFF = `('clearing_house_officer','clearing_house_manager')`;

/**
 * Access that follows the workflow stage, and compartments inside a case (issue 8, points 1-2).
 *
 * Stage access: the `government_liaison` role; the liaisons a manager names for a case's
 * pre-intervention meeting (`stage_liaisons`) and the items the clearing house releases into
 * that meeting's pack (`stage_pack_items`). Both are tied to the case transition that moved the
 * case into `pre_intervention` (`stage_transition_id`): when the case leaves the stage that
 * transition is no longer the current one, so access ends at once, with no job to run; a later
 * pre-intervention stage starts with nobody named and an empty pack.
 *
 * Compartments: `case_compartments` (one per lead political peer per case), the clearing-house
 * staff named on each (`compartment_staff`) and the conversation records placed in it
 * (`compartment_records`; records themselves are never updated, so placement is a row of its own).
 *
 * Row-level security mirrors both, next to migrations/1764381300000-RowLevelSecurity.ts (whose
 * policies admit nothing to an unknown role such as the liaison, and are left untouched):
 * additional PERMISSIVE policies let a liaison read the pack tables (and the support items and
 * meetings released into the current pack) only; a RESTRICTIVE policy keeps conversation records
 * in a compartment from everyone outside it, whatever else admits them.
 */
export class StageAccessAndCompartments1764381600000 implements MigrationInterface {
  name = 'StageAccessAndCompartments1764381600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_role_check`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (${ROLES_BEFORE},'government_liaison'))`);

    await q.query(`
      CREATE TABLE stage_liaisons (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        stage_transition_id uuid NOT NULL REFERENCES case_transitions(id),
        user_id uuid NOT NULL REFERENCES users(id),
        named_by uuid NOT NULL REFERENCES users(id),
        named_at timestamptz NOT NULL DEFAULT now(),
        reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
        removed_by uuid REFERENCES users(id),
        removed_at timestamptz,
        CONSTRAINT stage_liaison_removed_stamped CHECK ((removed_at IS NULL) = (removed_by IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX stage_liaisons_once ON stage_liaisons (stage_transition_id, user_id) WHERE removed_at IS NULL`);
    await q.query(`CREATE INDEX stage_liaisons_case_idx ON stage_liaisons (case_id, named_at)`);
    await q.query(`CREATE INDEX stage_liaisons_user_idx ON stage_liaisons (user_id) WHERE removed_at IS NULL`);

    await q.query(`
      CREATE TABLE stage_pack_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        stage_transition_id uuid NOT NULL REFERENCES case_transitions(id),
        kind text NOT NULL CHECK (kind IN ('summary','support','meeting')),
        title text,
        summary text CHECK (length(summary) <= 20000),
        support_id uuid REFERENCES improvement_support(id),
        meeting_id uuid REFERENCES pre_intervention_meetings(id),
        released_by uuid NOT NULL REFERENCES users(id),
        released_at timestamptz NOT NULL DEFAULT now(),
        withdrawn_by uuid REFERENCES users(id),
        withdrawn_at timestamptz,
        CONSTRAINT pack_item_summary CHECK ((kind = 'summary') = (summary IS NOT NULL)),
        CONSTRAINT pack_item_support CHECK ((kind = 'support') = (support_id IS NOT NULL)),
        CONSTRAINT pack_item_meeting CHECK ((kind = 'meeting') = (meeting_id IS NOT NULL)),
        CONSTRAINT pack_item_withdrawn_stamped CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL))
      )`);
    await q.query(`CREATE INDEX stage_pack_items_stage_idx ON stage_pack_items (stage_transition_id, released_at)`);
    await q.query(`CREATE UNIQUE INDEX stage_pack_support_once ON stage_pack_items (stage_transition_id, support_id) WHERE support_id IS NOT NULL AND withdrawn_at IS NULL`);
    await q.query(`CREATE UNIQUE INDEX stage_pack_meeting_once ON stage_pack_items (stage_transition_id, meeting_id) WHERE meeting_id IS NOT NULL AND withdrawn_at IS NULL`);

    await q.query(`
      CREATE TABLE case_compartments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        peer_id uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (case_id, peer_id)
      )`);
    await q.query(`
      CREATE TABLE compartment_staff (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        compartment_id uuid NOT NULL REFERENCES case_compartments(id),
        case_id uuid NOT NULL REFERENCES cases(id),
        user_id uuid NOT NULL REFERENCES users(id),
        added_by uuid NOT NULL REFERENCES users(id),
        added_at timestamptz NOT NULL DEFAULT now(),
        removed_by uuid REFERENCES users(id),
        removed_at timestamptz,
        CONSTRAINT compartment_staff_removed_stamped CHECK ((removed_at IS NULL) = (removed_by IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX compartment_staff_once ON compartment_staff (compartment_id, user_id) WHERE removed_at IS NULL`);
    await q.query(`
      CREATE TABLE compartment_records (
        record_id uuid PRIMARY KEY,
        compartment_id uuid NOT NULL REFERENCES case_compartments(id),
        case_id uuid NOT NULL REFERENCES cases(id),
        placed_by uuid NOT NULL REFERENCES users(id),
        placed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX compartment_records_compartment_idx ON compartment_records (compartment_id)`);

    for (const table of TABLES) {
      await q.query(`GRANT SELECT, INSERT ON ${table} TO clearing_house_service`);
    }
    // Removals and withdrawals are stamped, never deleted; placements and compartments are never changed.
    await q.query(`GRANT UPDATE (removed_by, removed_at) ON stage_liaisons TO clearing_house_service`);
    await q.query(`GRANT UPDATE (withdrawn_by, withdrawn_at) ON stage_pack_items TO clearing_house_service`);
    await q.query(`GRANT UPDATE (removed_by, removed_at) ON compartment_staff TO clearing_house_service`);

    await q.query(FUNCTIONS);
    for (const fn of DEFINER_FUNCTIONS) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO clearing_house_service`);
    }

    for (const [table, policies] of Object.entries(NEW_TABLE_POLICIES)) {
      const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = $1::regclass`, [table]);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY rls_owner ON ${table} FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
      for (const [name, command, using, check] of policies) await q.query(policySql(table, name, command, using, check));
      // A user recused from the case sees none of its rows here either (migrations/1764381500000-Conflicts.ts).
      await q.query(recusalGuardSql(table, 'case_id'));
    }
    for (const [table, name, command, using, check, restrictive] of EXISTING_TABLE_POLICIES) {
      await q.query(policySql(table, name, command, using, check, restrictive));
    }
    // A pack summary is case content: retention's destroy_case_content destroys it with the rest.
    await q.query(`CREATE TRIGGER cases_destroy_pack_content AFTER UPDATE OF content_destroyed_at ON cases FOR EACH ROW
      WHEN (OLD.content_destroyed_at IS NULL AND NEW.content_destroyed_at IS NOT NULL) EXECUTE FUNCTION ch_destroy_pack_content()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER cases_destroy_pack_content ON cases`);
    await q.query(`DROP FUNCTION ch_destroy_pack_content()`);
    for (const [table, name] of EXISTING_TABLE_POLICIES) await q.query(`DROP POLICY ${name} ON ${table}`);
    for (const table of [...TABLES].reverse()) await q.query(`DROP TABLE ${table}`);
    for (const fn of DEFINER_FUNCTIONS) await q.query(`DROP FUNCTION ${fn}`);
    await q.query(`DELETE FROM users WHERE role = 'government_liaison'`);
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_role_check`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (${ROLES_BEFORE}))`);
  }
}

const TABLES = ['stage_liaisons', 'stage_pack_items', 'case_compartments', 'compartment_staff', 'compartment_records'];

type Command = 'SELECT' | 'INSERT' | 'UPDATE' | 'ALL';
/** [name, command, USING, WITH CHECK] */
type Policy = [string, Command, string | null, string | null];

function policySql(table: string, name: string, command: Command, using: string | null, check: string | null, restrictive = false): string {
  return (
    `CREATE POLICY ${name} ON ${table} ${restrictive ? 'AS RESTRICTIVE ' : ''}FOR ${command} TO clearing_house_service` +
    (using ? ` USING (${using})` : '') +
    (check ? ` WITH CHECK (${check})` : '')
  );
}

const system = (...contexts: string[]) => `ch_system_context() IN (${contexts.map((c) => `'${c}'`).join(', ')})`;
const MANAGER_WRITES = `ch_user_role() = 'clearing_house_manager' AND ch_may_write_case(case_id)`;
const STAFF_WRITES = `ch_user_role() IN ${STAFF} AND ch_may_write_case(case_id)`;
const OWNER_PEER = `ch_user_role() = 'lead_political_peer' AND ch_may_write_case(case_id)
  AND EXISTS (SELECT 1 FROM case_compartments k WHERE k.id = compartment_id AND k.peer_id = ch_user_id())`;

const NEW_TABLE_POLICIES: Record<string, Policy[]> = {
  stage_liaisons: [
    // The case's readers see who is named; a liaison sees their own namings; the auditors' listing reads them all.
    ['rls_read', 'SELECT', `ch_may_read_case(case_id) OR user_id = ch_user_id() OR ${system('audit')}`, null],
    ['rls_insert', 'INSERT', null, `named_by = ch_user_id() AND ${MANAGER_WRITES}`],
    ['rls_update', 'UPDATE', MANAGER_WRITES, MANAGER_WRITES],
  ],
  stage_pack_items: [
    ['rls_read', 'SELECT', `ch_may_read_case(case_id) OR (withdrawn_at IS NULL AND stage_transition_id = ch_liaison_stage(case_id)) OR ${system('audit')}`, null],
    ['rls_insert', 'INSERT', null, `released_by = ch_user_id() AND ${STAFF_WRITES}`],
    ['rls_update', 'UPDATE', STAFF_WRITES, STAFF_WRITES],
  ],
  // Who is in a compartment and which records are placed there are facts (never content) that
  // the application needs to keep those records from everyone else: readable by the case's readers.
  case_compartments: [
    ['rls_read', 'SELECT', `ch_may_read_case(case_id) OR ${system('deadlines')}`, null],
    ['rls_insert', 'INSERT', null, `peer_id = ch_user_id() AND ch_user_role() = 'lead_political_peer' AND ch_may_write_case(case_id)`],
  ],
  compartment_staff: [
    ['rls_read', 'SELECT', `ch_may_read_case(case_id) OR ${system('deadlines')}`, null],
    ['rls_insert', 'INSERT', null, `added_by = ch_user_id() AND ${OWNER_PEER}`],
    ['rls_update', 'UPDATE', OWNER_PEER, OWNER_PEER],
  ],
  compartment_records: [
    ['rls_read', 'SELECT', `ch_may_read_case(case_id) OR ${system('deadlines')}`, null],
    ['rls_insert', 'INSERT', null, `placed_by = ch_user_id() AND ${OWNER_PEER}`],
  ],
};

/** [table, name, command, USING, WITH CHECK, restrictive] on tables of earlier migrations. */
const EXISTING_TABLE_POLICIES: Array<[string, string, Command, string | null, string | null, boolean]> = [
  // A liaison reads a support item or a meeting only while it is released into the pack they may read.
  ['improvement_support', 'rls_liaison_pack', 'SELECT', `ch_liaison_released('support', id)`, null, false],
  ['pre_intervention_meetings', 'rls_liaison_pack', 'SELECT', `ch_liaison_released('meeting', id)`, null, false],
  // Whatever else admits a conversation record, one in a compartment only to those inside it.
  ['conversation_records', 'rls_compartment', 'ALL', `ch_compartment_admits(record_id)`, `ch_compartment_admits(record_id)`, true],
];

const DEFINER_FUNCTIONS = [
  'ch_current_stage(uuid)',
  'ch_liaison_stage(uuid)',
  'ch_liaison_released(text, uuid)',
  'ch_stage_facts(text)',
  'ch_stage_episodes(uuid)',
  'ch_compartment_admits(uuid)',
];

const FUNCTIONS = `
-- Retention: when a case's content is destroyed, so are the texts written for its packs.
CREATE FUNCTION ch_destroy_pack_content() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE stage_pack_items SET summary = '[destroyed under the retention schedule]', title = NULL WHERE case_id = NEW.id AND kind = 'summary';
  UPDATE stage_pack_items SET title = NULL WHERE case_id = NEW.id AND kind <> 'summary';
  UPDATE stage_liaisons SET reason = '[destroyed under the retention schedule]' WHERE case_id = NEW.id;
  RETURN NULL;
END $$;
-- The transition that moved a case into the pre-intervention stage it is in now; NULL when it is in another stage.
CREATE FUNCTION ch_current_stage(p_case uuid) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id FROM cases c JOIN case_transitions t ON t.case_id = c.id
   WHERE c.id = p_case AND c.state = 'pre_intervention' AND t.to_state = 'pre_intervention'
   ORDER BY t.sequence DESC LIMIT 1
$$;

-- That stage, if the caller is an active government liaison named (and not removed) for it; else NULL.
CREATE FUNCTION ch_liaison_stage(p_case uuid) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.stage FROM (SELECT ch_current_stage(p_case) AS stage) s
   WHERE s.stage IS NOT NULL
     AND EXISTS (SELECT 1 FROM users u WHERE u.id = ch_user_id() AND u.role = 'government_liaison' AND u.disabled_at IS NULL)
     AND EXISTS (SELECT 1 FROM stage_liaisons l WHERE l.stage_transition_id = s.stage AND l.user_id = ch_user_id() AND l.removed_at IS NULL)
$$;

-- Whether a support item or meeting is released, not withdrawn, into a pack the caller may read now as a liaison.
CREATE FUNCTION ch_liaison_released(p_kind text, p_id uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM stage_pack_items pi
                  WHERE pi.withdrawn_at IS NULL AND pi.kind = p_kind
                    AND (CASE WHEN p_kind = 'support' THEN pi.support_id = p_id ELSE pi.meeting_id = p_id END)
                    AND pi.stage_transition_id = ch_liaison_stage(pi.case_id))
$$;

-- The stage facts (never content) of a case, for the application's stage-access policy: its
-- state, its current pre-intervention stage and the caller's own namings. Reference and
-- authority only to a liaison the database admits now. Only inside a request.
CREATE FUNCTION ch_stage_facts(p_key text)
RETURNS TABLE (id uuid, state text, stage_transition_id uuid, stage_entered_at timestamptz, namings jsonb, reference text, authority_name text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT c.id, c.state, ch_current_stage(c.id),
         (SELECT t.occurred_at FROM case_transitions t WHERE t.id = ch_current_stage(c.id)),
         coalesce((SELECT jsonb_agg(jsonb_build_object('stageTransitionId', l.stage_transition_id, 'removedAt', l.removed_at))
                     FROM stage_liaisons l WHERE l.case_id = c.id AND l.user_id = ch_user_id()), '[]'),
         CASE WHEN ch_liaison_stage(c.id) IS NOT NULL THEN c.reference END,
         CASE WHEN ch_liaison_stage(c.id) IS NOT NULL THEN a.official_name END
    FROM cases c JOIN authorities a ON a.id = c.authority_id
   WHERE ch_user_id() IS NOT NULL
     AND (CASE WHEN p_key ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN c.id = p_key::uuid ELSE c.reference = p_key END)
$$;

-- Each pre-intervention stage of a case (or of every case): when it began and ended. Derived
-- from the case transitions (the move in, and the next move); for the auditors' listing only.
CREATE FUNCTION ch_stage_episodes(p_case uuid)
RETURNS TABLE (case_id uuid, reference text, stage_transition_id uuid, entered_at timestamptz, ended_at timestamptz, ended_by_move text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.case_id, c.reference, t.id, t.occurred_at, n.occurred_at, n.move
    FROM case_transitions t JOIN cases c ON c.id = t.case_id
    LEFT JOIN LATERAL (SELECT x.occurred_at, x.move FROM case_transitions x
                        WHERE x.case_id = t.case_id AND x.sequence > t.sequence ORDER BY x.sequence LIMIT 1) n ON true
   WHERE t.to_state = 'pre_intervention' AND (p_case IS NULL OR t.case_id = p_case)
     AND ch_system_context() = 'audit'
$$;

-- Whether the caller may see a conversation record as far as compartments go: a record in none,
-- or one in a compartment whose peer they are, or on which they are named clearing-house staff.
-- System work (deadlines, re-encryption) is decided by its own policies.
CREATE FUNCTION ch_compartment_admits(p_record uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT NOT EXISTS (SELECT 1 FROM compartment_records cr WHERE cr.record_id = p_record)
      OR (ch_user_id() IS NULL AND ch_system_context() IS NOT NULL)
      OR EXISTS (SELECT 1 FROM compartment_records cr JOIN case_compartments k ON k.id = cr.compartment_id
                   JOIN users u ON u.id = ch_user_id() AND u.disabled_at IS NULL
                  WHERE cr.record_id = p_record
                    AND ((u.role = 'lead_political_peer' AND k.peer_id = u.id)
                         OR (u.role IN ${STAFF} AND EXISTS (SELECT 1 FROM compartment_staff s
                                                              WHERE s.compartment_id = k.id AND s.user_id = u.id AND s.removed_at IS NULL))))
$$;
`;
