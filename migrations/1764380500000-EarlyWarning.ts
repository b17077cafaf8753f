import { MigrationInterface, QueryRunner } from 'typeorm';

/** The early-warning register: signals seen at each authority over time, and its commitments. */
export class EarlyWarning1764380500000 implements MigrationInterface {
  name = 'EarlyWarning1764380500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE authority_signals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        authority_id uuid NOT NULL REFERENCES authorities(id),
        signal text NOT NULL CHECK (signal IN ('change_of_political_control','senior_management_change','poor_inspection','financial_difficulty','member_officer_relations','self_referral')),
        observed_on date NOT NULL,
        note text CHECK (note IS NULL OR length(note) <= 2000),
        recorded_by uuid NOT NULL REFERENCES users(id),
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX authority_signals_idx ON authority_signals (authority_id, observed_on DESC)`);
    await q.query(`CREATE INDEX authority_signals_date_idx ON authority_signals (observed_on)`);
    await q.query(`
      CREATE TABLE authority_commitments (
        authority_id uuid PRIMARY KEY REFERENCES authorities(id),
        signed_statement_on date,
        last_self_evaluation_on date,
        last_peer_challenge_on date,
        updated_by uuid NOT NULL REFERENCES users(id),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    // Signals are a record over time: never edited or removed.
    await q.query(`CREATE TRIGGER authority_signals_immutable BEFORE UPDATE OR DELETE ON authority_signals FOR EACH ROW EXECUTE FUNCTION forbid_change()`);
    await q.query(`GRANT SELECT, INSERT ON authority_signals TO clearing_house_service`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON authority_commitments TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE authority_commitments`);
    await q.query(`DROP TABLE authority_signals`);
  }
}
