import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The case file: cases, concerns and their protected sources, the case team, the workflow
 * history, conversations (immutable, versioned), pre-intervention meetings, improvement
 * support.
 */
export class Cases1764380100000 implements MigrationInterface {
  name = 'Cases1764380100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE case_reference_counters (
        year integer PRIMARY KEY,
        last_number integer NOT NULL
      )`);
    await q.query(`
      CREATE TABLE cases (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        reference text NOT NULL UNIQUE CHECK (reference ~ '^CH-[0-9]{4}-[0-9]{4,}$'),
        authority_id uuid NOT NULL REFERENCES authorities(id),
        state text NOT NULL CHECK (state IN ('concern_raised','triage','monitoring','sensitive_conversation','riep_discussion','improvement_support','pre_intervention','closed')),
        handling text NOT NULL CHECK (handling IN ('official','official_sensitive')),
        government_department text,
        government_power text CHECK (government_power IN ('improvement_notice','statutory_direction','other_powers')),
        government_trigger_at timestamptz,
        referred_to_riep_at timestamptz,
        outcome text CHECK (outcome IN ('no_further_action','resolved_by_authority','improvement_achieved','government_intervention','withdrawn')),
        outcome_reason text,
        closed_at timestamptz,
        opened_at timestamptz NOT NULL DEFAULT now(),
        opened_by uuid NOT NULL REFERENCES users(id),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT cases_closed_has_outcome CHECK ((state = 'closed') = (outcome IS NOT NULL AND outcome_reason IS NOT NULL AND closed_at IS NOT NULL)),
        CONSTRAINT cases_trigger_complete CHECK ((government_department IS NULL) = (government_power IS NULL))
      )`);
    await q.query(`CREATE INDEX cases_list_idx ON cases (opened_at DESC, id DESC)`);
    await q.query(`CREATE INDEX cases_authority_idx ON cases (authority_id, state)`);
    await q.query(`CREATE INDEX cases_state_idx ON cases (state, opened_at DESC, id DESC)`);
    // At most one open case per authority is the rule the API warns about, not one it enforces:
    // two unrelated difficulties in one council can run as separate cases.

    await q.query(`
      CREATE TABLE case_team_members (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        user_id uuid NOT NULL REFERENCES users(id),
        team_role text NOT NULL CHECK (team_role IN ('case_lead','lead_political_peer','riep_facilitator','case_officer')),
        added_by uuid NOT NULL REFERENCES users(id),
        added_at timestamptz NOT NULL DEFAULT now(),
        removed_by uuid REFERENCES users(id),
        removed_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX case_team_current_uq ON case_team_members (case_id, user_id) WHERE removed_at IS NULL`);
    await q.query(`CREATE INDEX case_team_user_idx ON case_team_members (user_id, case_id) WHERE removed_at IS NULL`);

    await q.query(`
      CREATE TABLE concerns (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        received_on date NOT NULL,
        channel text NOT NULL CHECK (channel IN ('self_referral','inspectorate_or_audit','sector_intelligence','political_group','government_office','riep','peer','other')),
        area text NOT NULL CHECK (area IN ('corporate_governance','finance','childrens_services_and_safeguarding','adult_social_care','political_leadership','member_officer_relations','leader_chief_executive_relationship','partnership_working','serious_adverse_incident','other')),
        description text NOT NULL,
        signals text[] NOT NULL DEFAULT '{}',
        handling text NOT NULL DEFAULT 'normal' CHECK (handling IN ('normal','named_only')),
        named_user_ids uuid[] NOT NULL DEFAULT '{}',
        logged_by uuid NOT NULL REFERENCES users(id),
        logged_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT concerns_named_only_names_people CHECK (handling <> 'named_only' OR cardinality(named_user_ids) > 0)
      )`);
    await q.query(`CREATE INDEX concerns_case_idx ON concerns (case_id, received_on)`);
    await q.query(`CREATE INDEX concerns_area_idx ON concerns (area, case_id)`);
    // The source's identity lives apart from the concern so that it can be protected (and later
    // encrypted and released) on its own.
    await q.query(`
      CREATE TABLE concern_sources (
        concern_id uuid PRIMARY KEY REFERENCES concerns(id),
        name text NOT NULL,
        role text,
        organisation text,
        contact text
      )`);

    await q.query(`
      CREATE TABLE case_transitions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        sequence integer NOT NULL,
        move text NOT NULL,
        from_state text,
        to_state text NOT NULL,
        actor_id uuid NOT NULL REFERENCES users(id),
        actor_role text NOT NULL,
        reason text,
        outcome text,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (case_id, sequence)
      )`);

    await q.query(`
      CREATE TABLE conversation_records (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        record_id uuid NOT NULL,
        version integer NOT NULL CHECK (version >= 1),
        case_id uuid NOT NULL REFERENCES cases(id),
        kind text NOT NULL CHECK (kind IN ('sensitive_conversation','confidential_discussion','facilitated_meeting','call')),
        held_on date NOT NULL,
        internal_participant_ids uuid[] NOT NULL DEFAULT '{}',
        external_participants jsonb NOT NULL DEFAULT '[]',
        summary text NOT NULL,
        agreed_actions jsonb NOT NULL DEFAULT '[]',
        handling text NOT NULL CHECK (handling IN ('normal','party_confidential','named_only')),
        party_id uuid REFERENCES parties(id),
        named_user_ids uuid[] NOT NULL DEFAULT '{}',
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        correction_reason text,
        UNIQUE (record_id, version),
        CONSTRAINT conversation_party_marking CHECK ((handling = 'party_confidential') = (party_id IS NOT NULL)),
        CONSTRAINT conversation_named_marking CHECK (handling <> 'named_only' OR cardinality(named_user_ids) > 0),
        CONSTRAINT conversation_correction_reason CHECK ((version = 1) = (correction_reason IS NULL))
      )`);
    await q.query(`CREATE INDEX conversation_records_case_idx ON conversation_records (case_id, held_on DESC, record_id, version DESC)`);
    // Records of conversations are never edited in place or deleted (DOMAIN.md).
    await q.query(`
      CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`CREATE TRIGGER conversation_records_immutable BEFORE UPDATE OR DELETE ON conversation_records FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`CREATE TRIGGER case_transitions_immutable BEFORE UPDATE OR DELETE ON case_transitions FOR EACH ROW EXECUTE FUNCTION forbid_change()`);

    await q.query(`
      CREATE TABLE pre_intervention_meetings (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        meeting_on date NOT NULL,
        intervention_contemplated text NOT NULL CHECK (intervention_contemplated IN ('improvement_notice','statutory_direction','other_powers')),
        attendees jsonb NOT NULL DEFAULT '[]',
        agenda text,
        outcome text CHECK (outcome IN ('sector_led_alternative_agreed','intervention_proceeds','deferred')),
        outcome_notes text,
        deferred_until date,
        outcome_recorded_by uuid REFERENCES users(id),
        outcome_recorded_at timestamptz,
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT meeting_deferred_has_date CHECK ((outcome = 'deferred') = (deferred_until IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX pre_intervention_meetings_case_idx ON pre_intervention_meetings (case_id, meeting_on DESC)`);

    await q.query(`
      CREATE TABLE improvement_support (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        case_id uuid NOT NULL REFERENCES cases(id),
        kind text NOT NULL CHECK (kind IN ('corporate_peer_review','service_peer_review','peer_challenge','mentoring','inter_authority_exchange','improvement_plan','peer_support_panel')),
        status text NOT NULL CHECK (status IN ('proposed','agreed','in_progress','completed','withdrawn')),
        description text NOT NULL,
        providers jsonb NOT NULL DEFAULT '[]',
        outcomes jsonb NOT NULL DEFAULT '[]',
        starts_on date,
        ends_on date,
        review_dates date[] NOT NULL DEFAULT '{}',
        agreed_at timestamptz,
        agreed_by uuid REFERENCES users(id),
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT support_dates_ordered CHECK (starts_on IS NULL OR ends_on IS NULL OR starts_on <= ends_on),
        CONSTRAINT support_agreed_stamped CHECK ((status IN ('proposed','withdrawn')) OR agreed_at IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX improvement_support_case_idx ON improvement_support (case_id, recorded_at)`);
    await q.query(`
      CREATE TABLE support_progress_notes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        support_id uuid NOT NULL REFERENCES improvement_support(id),
        note text NOT NULL,
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX support_progress_notes_idx ON support_progress_notes (support_id, recorded_at)`);
    await q.query(`CREATE TRIGGER support_progress_notes_immutable BEFORE UPDATE OR DELETE ON support_progress_notes FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'support_progress_notes', 'improvement_support', 'pre_intervention_meetings', 'conversation_records',
      'case_transitions', 'concern_sources', 'concerns', 'case_team_members', 'cases', 'case_reference_counters',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`DROP FUNCTION forbid_change()`);
  }
}
