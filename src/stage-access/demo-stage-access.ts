import { DataSource } from 'typeorm';

/**
 * Names the demonstration government liaison for the pre-intervention meeting of the demo case
 * at that stage, and releases a summary into its pack, as a manager would through the API
 * (POST /cases/:id/liaisons, POST /cases/:id/pack/items). Safe to run again: nothing is added twice.
 */
export async function seedDemoStageAccess(ds: DataSource, liaisonEmail: string, managerEmail: string): Promise<string | null> {
  const [c]: Array<{ id: string; reference: string; stage: string | null }> = await ds.query(
    `SELECT c.id, c.reference, ch_current_stage(c.id) AS stage FROM cases c WHERE c.state = 'pre_intervention' ORDER BY c.opened_at LIMIT 1`);
  if (!c?.stage) return null;
  const [liaison] = await ds.query(`SELECT id FROM users WHERE email = $1`, [liaisonEmail]);
  const [manager] = await ds.query(`SELECT id FROM users WHERE email = $1`, [managerEmail]);
  if (!liaison || !manager) return null;
  await ds.query(
    `INSERT INTO stage_liaisons (case_id, stage_transition_id, user_id, named_by, reason)
     SELECT $1, $2, $3, $4, 'Lead official of the department for the meeting'
      WHERE NOT EXISTS (SELECT 1 FROM stage_liaisons WHERE stage_transition_id = $2 AND user_id = $3 AND removed_at IS NULL)`,
    [c.id, c.stage, liaison.id, manager.id]);
  await ds.query(
    `INSERT INTO stage_pack_items (case_id, stage_transition_id, kind, title, summary, released_by)
     SELECT $1, $2, 'summary', 'Where things stand', 'The council has agreed a peer-supported recovery plan; the meeting will consider whether it is a sufficient sector-led alternative.', $3
      WHERE NOT EXISTS (SELECT 1 FROM stage_pack_items WHERE stage_transition_id = $2 AND kind = 'summary')`,
    [c.id, c.stage, manager.id]);
  return c.reference;
}
