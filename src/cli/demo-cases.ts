import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../config/environment';
import { EncryptedField } from '../encryption/encrypted-field';
import { FieldCipher } from '../encryption/field-cipher';
import { MasterKeyRing } from '../encryption/key-wrapper';
import { seedDemoDeadlines } from '../deadlines/demo-deadlines';

/**
 * A handful of realistic cases in different states, so a newcomer sees the product working.
 * Written straight to the database as the fixtures they are (with their history), and only
 * once: a demo database that already has cases keeps them.
 */
interface DemoCase {
  authority: string;
  state: string;
  moves: Array<[string, string, string]>; // [move, from, to]
  concern: { channel: string; area: string; description: string; signals: string[]; source?: { name: string; role: string; organisation: string; contact: string } };
  team: Array<[string, string]>; // [email, team role]
  referred?: boolean;
  trigger?: [string, string];
  conversation?: { by: string; kind: string; summary: string; handling: string; party?: string };
  support?: { kind: string; status: string; description: string };
  outcome?: [string, string];
}

const CASES: DemoCase[] = [
  {
    authority: 'WLL', state: 'concern_raised', moves: [],
    concern: {
      channel: 'sector_intelligence', area: 'political_leadership',
      description: 'Reports that the ruling group is split after a leadership challenge and key decisions are stalled.',
      signals: ['change_of_political_control'],
      source: { name: 'Jordan Example', role: 'Group whip', organisation: 'Walsall Council', contact: '07700 900123' },
    },
    team: [],
  },
  {
    authority: 'COV', state: 'sensitive_conversation',
    moves: [['start_triage', 'concern_raised', 'triage'], ['follow_up', 'triage', 'sensitive_conversation']],
    concern: {
      channel: 'inspectorate_or_audit', area: 'childrens_services_and_safeguarding',
      description: 'Inspection letter flags weak management oversight of children in need plans.',
      signals: ['poor_inspection_result', 'change_of_senior_management'],
    },
    team: [['manager@demo.clearing-house.test', 'case_lead'], ['peer.lab@demo.clearing-house.test', 'lead_political_peer']],
    conversation: { by: 'peer.lab@demo.clearing-house.test', kind: 'sensitive_conversation', summary: 'Spoke with the leader about the inspection findings; she accepts the need for outside help.', handling: 'party_confidential', party: 'Labour' },
  },
  {
    authority: 'BIR', state: 'improvement_support',
    moves: [
      ['start_triage', 'concern_raised', 'triage'], ['follow_up', 'triage', 'sensitive_conversation'],
      ['refer_to_riep', 'sensitive_conversation', 'riep_discussion'], ['start_support', 'riep_discussion', 'improvement_support'],
    ],
    concern: {
      channel: 'self_referral', area: 'finance', description: 'The council has asked for help with a projected budget gap and its recovery plan.',
      signals: ['financial_difficulty'],
    },
    team: [['officer@demo.clearing-house.test', 'case_lead'], ['riep.wm@demo.clearing-house.test', 'riep_facilitator']],
    referred: true,
    conversation: { by: 'officer@demo.clearing-house.test', kind: 'sensitive_conversation', summary: 'Confidential call with the chief executive and section 151 officer about the recovery plan.', handling: 'normal' },
    support: { kind: 'improvement_plan', status: 'in_progress', description: 'Financial recovery plan with quarterly measures, mentored by a neighbouring authority.' },
  },
  {
    authority: 'SND', state: 'pre_intervention',
    moves: [
      ['start_triage', 'concern_raised', 'triage'], ['follow_up', 'triage', 'sensitive_conversation'],
      ['refer_to_riep', 'sensitive_conversation', 'riep_discussion'], ['call_pre_intervention_meeting', 'riep_discussion', 'pre_intervention'],
    ],
    concern: {
      channel: 'government_office', area: 'adult_social_care', description: 'Government office reports repeated failures in adult safeguarding responses.',
      signals: ['poor_inspection_result', 'inward_looking_culture'],
    },
    team: [['manager@demo.clearing-house.test', 'case_lead'], ['riep.ne@demo.clearing-house.test', 'riep_facilitator']],
    referred: true,
    trigger: ['Department of Health and Social Care', 'improvement_notice'],
    conversation: { by: 'manager@demo.clearing-house.test', kind: 'facilitated_meeting', summary: 'RIEP-facilitated discussion with the authority and the inspectorate.', handling: 'normal' },
  },
  {
    authority: 'LDS', state: 'closed',
    moves: [['start_triage', 'concern_raised', 'triage'], ['close', 'triage', 'closed']],
    concern: { channel: 'peer', area: 'corporate_governance', description: 'Question about scrutiny arrangements, already being addressed by the authority.', signals: [] },
    team: [],
    outcome: ['no_further_action', 'Dealt with routinely by the authority itself'],
  },
];

/** The content is encrypted at rest like the service's own writes (src/encryption), under the configured master key. */
function demoCipher(): FieldCipher {
  const env = validateEnvironment(process.env);
  return FieldCipher.withRing(MasterKeyRing.fromConfig(env.ENCRYPTION_MASTER_KEY!, env.ENCRYPTION_MASTER_KEY_PREVIOUS ?? null));
}

export async function seedDemoCases(ds: DataSource, cipher: FieldCipher = demoCipher()): Promise<number> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM cases`);
  if (n > 0) return 0;
  const userId = async (email: string): Promise<string> => (await ds.query(`SELECT id FROM users WHERE email = $1`, [email]))[0].id;
  const officer = await userId('officer@demo.clearing-house.test');
  const manager = await userId('manager@demo.clearing-house.test');
  await ds.transaction(async (m) => {
    const year = new Date().getUTCFullYear();
    let number = 0;
    for (const c of CASES) {
      number += 1;
      const [authority] = await m.query(`SELECT id FROM authorities WHERE code = $1`, [c.authority]);
      const closed = c.state === 'closed';
      const [row] = await m.query(
        `INSERT INTO cases (reference, authority_id, state, handling, opened_by, opened_at, referred_to_riep_at, government_department, government_power,
                            government_trigger_at, outcome, outcome_reason, closed_at)
         VALUES ($1, $2, $3, 'official_sensitive', $4, now() - ($5 || ' days')::interval, CASE WHEN $6 THEN now() - interval '10 days' END,
                 $7, $8, CASE WHEN $7::text IS NOT NULL THEN now() - interval '3 days' END, $9, $10, CASE WHEN $11 THEN now() - interval '1 day' END)
         RETURNING id`,
        [`CH-${year}-${String(number).padStart(4, '0')}`, authority.id, c.state, officer, String(60 - number * 7), !!c.referred,
          c.trigger?.[0] ?? null, c.trigger?.[1] ?? null, c.outcome?.[0] ?? null, c.outcome?.[1] ?? null, closed],
      );
      const steps: Array<[string, string | null, string]> = [['open', null, 'concern_raised'], ...c.moves];
      for (const [i, [move, from, to]] of steps.entries()) {
        await m.query(
          `INSERT INTO case_transitions (case_id, sequence, move, from_state, to_state, actor_id, actor_role, reason, outcome, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() - ($10 || ' days')::interval)`,
          [row.id, i + 1, move, from, to, move === 'close' ? manager : officer, move === 'close' ? 'clearing_house_manager' : 'clearing_house_officer',
            move === 'close' ? c.outcome![1] : null, move === 'close' ? c.outcome![0] : null, String(50 - i * 5)],
        );
      }
      const concernId = randomUUID();
      const description = await cipher.encrypt(m, EncryptedField.ConcernDescription, row.id, concernId, c.concern.description);
      const [concern] = await m.query(
        `INSERT INTO concerns (id, case_id, received_on, channel, area, description, signals, logged_by) VALUES ($8, $1, current_date - 60 + $2::int, $3, $4, $5, $6, $7) RETURNING id`,
        [row.id, number, c.concern.channel, c.concern.area, description, c.concern.signals, officer, concernId],
      );
      if (c.concern.source) {
        const s = c.concern.source;
        const identity = await cipher.sealSourceIdentity(m, row.id, concern.id, { name: s.name, role: s.role, organisation: s.organisation, contact: s.contact });
        await m.query(`INSERT INTO concern_sources (concern_id, identity) VALUES ($1, $2)`, [concern.id, identity]);
      }
      for (const [email, teamRole] of c.team) {
        await m.query(`INSERT INTO case_team_members (case_id, user_id, team_role, added_by) VALUES ($1, $2, $3, $4)`, [row.id, await userId(email), teamRole, manager]);
      }
      if (c.conversation) {
        const [party] = c.conversation.party ? await m.query(`SELECT id FROM parties WHERE name = $1`, [c.conversation.party]) : [null];
        const id = randomUUID();
        const summary = await cipher.encrypt(m, EncryptedField.ConversationSummary, row.id, id, c.conversation.summary);
        await m.query(
          `INSERT INTO conversation_records (id, record_id, version, case_id, kind, held_on, summary, handling, party_id, recorded_by, external_participants)
           VALUES ($7, gen_random_uuid(), 1, $1, $2, current_date - 20, $3, $4, $5, $6, '[{"name":"Council leader","role":"Leader of the council"}]')`,
          [row.id, c.conversation.kind, summary, c.conversation.handling, party?.id ?? null, await userId(c.conversation.by), id],
        );
      }
      if (c.support) {
        await m.query(
          `INSERT INTO improvement_support (case_id, kind, status, description, agreed_at, agreed_by, recorded_by, review_dates, providers)
           VALUES ($1, $2, $3, $4, now() - interval '8 days', $5, $5, ARRAY[current_date + 30]::date[], '[{"kind":"supporting_authority","name":"Solihull Council"}]')`,
          [row.id, c.support.kind, c.support.status, c.support.description, officer],
        );
      }
      await seedDemoDeadlines(m, row.id, c.state);
    }
    await m.query(
      `INSERT INTO case_reference_counters (year, last_number) VALUES ($1, $2) ON CONFLICT (year) DO UPDATE SET last_number = greatest(case_reference_counters.last_number, $2)`,
      [year, number],
    );
  });
  return CASES.length;
}
