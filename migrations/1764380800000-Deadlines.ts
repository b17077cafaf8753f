import { MigrationInterface, QueryRunner } from 'typeorm';

const ROLES_BEFORE = `'clearing_house_officer','clearing_house_manager','riep_facilitator','lead_political_peer','auditor','administrator'`;

/**
 * Deadlines of cases and the reminders sent for them, and the Board-member role.
 *
 * A deadline holds ids, a kind and dates only (never case content). A reminder row is the
 * record that one reminder of one kind went for one deadline: its unique key is what makes a
 * reminder job safe to run twice, and what lets the jobs be re-derived from here after Redis
 * loses them.
 */
export class Deadlines1764380800000 implements MigrationInterface {
  name = 'Deadlines1764380800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE case_deadlines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        kind text NOT NULL CHECK (kind IN ('triage','first_sensitive_conversation','support_review','agreed_action','pre_intervention_meeting')),
        -- The row that set it: a concern, a conversation record, a support item or a meeting; NULL when it is the case's stage.
        source_id uuid,
        -- Which of the source's items (an agreed action's position in its record); 0 otherwise.
        source_item integer NOT NULL DEFAULT 0 CHECK (source_item >= 0),
        due_on date NOT NULL,
        warn_on date NOT NULL,
        state text NOT NULL DEFAULT 'open' CHECK (state IN ('open','met','cancelled')),
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        closed_reason text CHECK (closed_reason IN ('met','case_moved_on','source_changed','source_ended')),
        -- Who marked it met by hand (an agreed action done, a review held); NULL when a command or the worker closed it.
        closed_by uuid REFERENCES users(id),
        CONSTRAINT case_deadlines_warn_before_due CHECK (warn_on <= due_on),
        CONSTRAINT case_deadlines_closed_stamped CHECK ((state = 'open') = (closed_at IS NULL))
      )`);
    // One open deadline per kind, source, item and date: creating it twice is a no-op.
    await q.query(`CREATE UNIQUE INDEX case_deadlines_open_uq ON case_deadlines (case_id, kind, coalesce(source_id, '00000000-0000-0000-0000-000000000000'::uuid), source_item, due_on) WHERE state = 'open'`);
    await q.query(`CREATE INDEX case_deadlines_due_idx ON case_deadlines (warn_on) WHERE state = 'open'`);
    await q.query(`CREATE INDEX case_deadlines_case_idx ON case_deadlines (case_id, state)`);
    await q.query(`CREATE INDEX case_deadlines_source_idx ON case_deadlines (source_id) WHERE state = 'open'`);
    await q.query(`
      CREATE TABLE deadline_reminders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        deadline_id uuid NOT NULL REFERENCES case_deadlines(id),
        kind text NOT NULL CHECK (kind IN ('approaching','missed')),
        sent_at timestamptz NOT NULL,
        -- How many in-app notifications it created (team and, when missed, managers).
        notifications integer NOT NULL DEFAULT 0,
        CONSTRAINT deadline_reminders_once UNIQUE (deadline_id, kind)
      )`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON case_deadlines TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON deadline_reminders TO clearing_house_service`);

    // Board members: aggregate statistics only (no region, no party).
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_role_check`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (${ROLES_BEFORE},'board_member'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP CONSTRAINT users_role_check`);
    await q.query(`ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (${ROLES_BEFORE}))`);
    await q.query(`DROP TABLE deadline_reminders`);
    await q.query(`DROP TABLE case_deadlines`);
  }
}
