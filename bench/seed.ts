import 'reflect-metadata';
import { createHash, createHmac } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { checkpointHash, checkpointMessage, CheckpointBody } from '../src/audit/audit-record';
import { MerkleFrontier } from '../src/audit/merkle';
import { CheckpointSigner } from '../src/audit/signing';
import { importAuthorities } from '../src/authorities/authorities-import';
import { hashPassword } from '../src/auth/password-hash';
import { validateEnvironment } from '../src/config/environment';
import { EncryptedField, FIELD_SPECS } from '../src/encryption/encrypted-field';
import { sealField } from '../src/encryption/envelope';
import { dataKeyContext, MasterKeyRing } from '../src/encryption/key-wrapper';
import { dataSourceOptions } from '../src/database/data-source-options';
import { runMigrations } from '../src/database/migrations';
import { ensureServiceLogin } from '../src/database/service-role';
import { BENCH_SERVICE_LOGIN, databaseUrl, loadAverage, log, machineFacts, numberOption, option, recreateDatabase, round, today, writeResult } from './common';
import { auditRecordsSql } from './audit-generator';

/**
 * Fills a fresh database with a realistic volume of case data, set-based:
 *
 *   npm run bench:seed -- [--cases 100000] [--conversations 1000000] [--audit 50000000]
 *                         [--database ch_bench_seed] [--jobs 2] [--tag name]
 *
 * The database is migrated with the real migrations as the owner; the real authority register
 * is imported with the service's import code; then users of every role, cases spread over the
 * current authorities and every workflow state (each with the transition history that leads
 * there and what the workflow's preconditions need: a sensitive conversation before a RIEP
 * referral, agreed support before support starts, a government trigger and a meeting before a
 * pre-intervention meeting, an outcome on closed cases), their concerns and some protected
 * sources, conversation records (with corrections), case teams, improvement support,
 * pre-intervention meetings, and audit records across 24 months, sealed with their real RFC 9162
 * leaf hashes and one signed checkpoint, so that the trail verifies and the service's sealer
 * carries on from it.
 *
 * Every row is produced by `INSERT … SELECT … FROM generate_series` in chunks that each commit
 * within seconds (a long open transaction on a shared server holds back everyone's vacuum and
 * the audit sealer's horizon). Ids are deterministic (md5 of a key), so the generators need no
 * joins to find each other's rows: user k is bench_seed.u('bench-actor-' || k), case k bench_seed.u('bench-case-' || k)
 * (md5 of the key shaped as a v4 uuid; bench/audit-scale.ts uses the same keys, unshaped).
 *
 * Users: k < 3000 with the role mix of audit-scale (by k % 100: 0-59 officer, 60-69 manager,
 * 70-84 RIEP facilitator, 85-94 lead political peer, 95-97 auditor, 98-99 administrator), plus
 * 20 board members. All share one password (BENCH_PASSWORD), hashed once with the real hasher.
 */

export const BENCH_PASSWORD = 'bench password that is long enough 42';
export const SEED_USERS = 3_000;
const BOARD_MEMBERS = 20;
const FIRST_MONTH = Date.UTC(2025, 0, 1);
const MONTHS = 24;
const REGIONS = ['North East', 'North West', 'Yorkshire and The Humber', 'East Midlands', 'West Midlands', 'East of England', 'London', 'South East', 'South West'];
const PARTIES = ['Conservative', 'Labour', 'Liberal Democrat', 'Green', 'Independent'];

/** Which user keys the HTTP benchmark signs in as (see the role mix above). */
export const SEED_ACTORS = { officer: 0, manager: 60, riepFacilitator: 70, leadPoliticalPeer: 85, auditor: 95 } as const;
export function seedEmail(k: number): string {
  return `bench.user.${k}@bench.example`;
}

/**
 * The paths a case takes, by k % 20: the moves of the workflow table (src/workflow/workflow-table.ts)
 * from 'open' to the case's state. Closing is a manager's move, the others an officer's.
 */
const PATHS: Array<{ path: number; residues: number[]; steps: Array<[move: string, from: string | null, to: string]> }> = (() => {
  const open: [string, string | null, string] = ['open', null, 'concern_raised'];
  const triage: [string, string, string] = ['start_triage', 'concern_raised', 'triage'];
  const follow: [string, string, string] = ['follow_up', 'triage', 'sensitive_conversation'];
  const refer: [string, string, string] = ['refer_to_riep', 'sensitive_conversation', 'riep_discussion'];
  const support: [string, string, string] = ['start_support', 'riep_discussion', 'improvement_support'];
  const meeting: [string, string, string] = ['call_pre_intervention_meeting', 'improvement_support', 'pre_intervention'];
  return [
    { path: 0, residues: [0, 1], steps: [open] },
    { path: 1, residues: [2, 3, 4], steps: [open, triage] },
    { path: 2, residues: [5, 6, 7], steps: [open, triage, ['monitor', 'triage', 'monitoring']] },
    { path: 3, residues: [8, 9, 10], steps: [open, triage, follow] },
    { path: 4, residues: [11, 12], steps: [open, triage, follow, refer] },
    { path: 5, residues: [13, 14], steps: [open, triage, follow, refer, support] },
    { path: 6, residues: [15], steps: [open, triage, follow, refer, support, meeting] },
    { path: 7, residues: [16, 17], steps: [open, triage, ['close', 'triage', 'closed']] },
    { path: 8, residues: [18], steps: [open, triage, follow, refer, support, ['close', 'improvement_support', 'closed']] },
    { path: 9, residues: [19], steps: [open, triage, follow, refer, support, meeting, ['close', 'pre_intervention', 'closed']] },
  ];
})();
/** Paths on which a sensitive conversation (and so conversation records) exists. */
const CONVERSATION_RESIDUES = [8, 9, 10, 11, 12, 13, 14, 15, 18, 19];

function md5Uuid(text: string): string {
  const m = createHash('md5').update(text).digest('hex');
  // As bench_seed.u: a version-4, RFC 4122 variant uuid.
  const h = `${m.slice(0, 12)}4${m.slice(13, 16)}8${m.slice(17)}`;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const caseId = (k: number) => md5Uuid(`bench-case-${k}`);

/**
 * The content of concerns, sources and conversation records, made by the loader (not in SQL) so
 * that it can be encrypted at rest the way the service does (src/encryption: one data key per
 * case, wrapped by the master key; each value an AES-256-GCM envelope bound to its row). With
 * encryption, case k's data key is derived from k (HMAC), so the generators need not keep 100,000
 * keys; without it (a schema from before encryption) the plaintext goes in as text.
 */
class Content {
  constructor(
    readonly encrypted: boolean,
    readonly ring: MasterKeyRing,
  ) {}

  get type(): string {
    return this.encrypted ? 'bytea' : 'text';
  }

  dataKey(k: number): { id: string; key: Buffer } {
    return { id: md5Uuid(`bench-datakey-${k}`), key: createHmac('sha256', 'bench-seed-data-keys').update(String(k)).digest() };
  }

  value(field: EncryptedField, k: number, rowId: string, plaintext: string): Buffer | string {
    if (!this.encrypted) return plaintext;
    const { id, key } = this.dataKey(k);
    const spec = FIELD_SPECS[field];
    return sealField(key, { id, version: 1 }, { table: spec.table, column: spec.column, rowId }, plaintext);
  }
}

const concernText = (k: number, n: number) =>
  `Concern ${k}.${n}: the section 151 officer reports a widening in-year budget gap; the audit committee has asked for a governance review ` +
  'and relations between the leader and the chief executive are said to be strained. Reported on condition of confidence.';
const conversationText = (r: number, version: number) =>
  `Conversation ${r} (version ${version}): the leader accepted that the medium-term financial plan relies on ` +
  "one-off reserves; the chief executive will share the draft recovery plan and the monitoring officer's report before the next meeting. " +
  'Relations between the cabinet and the senior team were discussed frankly; both sides agreed to a facilitated session.';

interface Step {
  name: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  chunks?: number;
}

/** Runs set-based statements chunk by chunk over `jobs` connections; each chunk commits on its own. */
type Chunk = { sql: string; params: unknown[] | (() => Promise<unknown[]>); rows: number };

async function chunked(url: string, jobs: number, chunks: Chunk[], label: string): Promise<number> {
  let next = 0;
  let done = 0;
  let lastLog = 0;
  const total = chunks.reduce((a, c) => a + c.rows, 0);
  const started = Date.now();
  const worker = async () => {
    const client = new Client({ connectionString: url, application_name: 'bench-seed' });
    await client.connect();
    try {
      // Loader sessions only: a lost commit on a crash costs nothing here.
      await client.query(`SET synchronous_commit = off; SET work_mem = '128MB'`);
      for (;;) {
        const chunk = chunks[next++];
        if (!chunk) return;
        await client.query(chunk.sql, typeof chunk.params === 'function' ? await chunk.params() : chunk.params);
        done += chunk.rows;
        if (Date.now() - lastLog > 10_000 || done === total) {
          lastLog = Date.now();
          const secs = (Date.now() - started) / 1000;
          log(`  ${label}: ${done.toLocaleString('en-GB')} / ${total.toLocaleString('en-GB')} (${Math.round(done / Math.max(secs, 0.001)).toLocaleString('en-GB')} rows/s, load ${loadAverage()})`);
        }
      }
    } finally {
      await client.end();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return done;
}

function ranges(total: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = 0; a < total; a += size) out.push([a, Math.min(total, a + size) - 1]);
  return out;
}

/** Helpers the generators share, in a schema of their own (dropped at the end). */
const HELPERS_SQL = `
CREATE SCHEMA bench_seed;
-- md5 of a key as a version-4, RFC 4122 variant uuid (the API validates uuids strictly).
CREATE FUNCTION bench_seed.u(t text) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$ SELECT (substr(h, 1, 12) || '4' || substr(h, 14, 3) || '8' || substr(h, 18))::uuid FROM md5(t) AS h $$;
CREATE TABLE bench_seed.paths (path int, step int, move text, from_state text, to_state text, PRIMARY KEY (path, step));
CREATE FUNCTION bench_seed.path_of(k bigint) RETURNS int IMMUTABLE LANGUAGE sql AS $$
  SELECT CASE (k % 20)::int ${PATHS.map((p) => p.residues.map((r) => `WHEN ${r} THEN ${p.path}`).join(' ')).join(' ')} END $$;
CREATE FUNCTION bench_seed.steps_of(p int) RETURNS int IMMUTABLE LANGUAGE sql AS $$
  SELECT CASE p ${PATHS.map((p) => `WHEN ${p.path} THEN ${p.steps.length}`).join(' ')} END $$;
CREATE FUNCTION bench_seed.uid(k bigint) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$ SELECT bench_seed.u('bench-actor-' || k) $$;
CREATE FUNCTION bench_seed.cid(k bigint) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$ SELECT bench_seed.u('bench-case-' || k) $$;
-- An officer, a second officer, a manager, a lead political peer for case k (see the user role mix).
CREATE FUNCTION bench_seed.officer(k bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT ((k / 60) % 30) * 100 + k % 60 $$;
CREATE FUNCTION bench_seed.officer2(k bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT ((k / 60 + 1) % 30) * 100 + (k + 1) % 60 $$;
CREATE FUNCTION bench_seed.manager(k bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT ((k / 10) % 30) * 100 + 60 + k % 10 $$;
CREATE FUNCTION bench_seed.peer(k bigint) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT (((k / 20 * 3 + k % 20) % 300) / 10) * 100 + 85 + ((k / 20 * 3 + k % 20) % 300) % 10 $$;
-- A RIEP facilitator of region g (0-based index into the region list): user h*100+m has region (h+m) % 9.
CREATE FUNCTION bench_seed.riep(k bigint, g int) RETURNS bigint IMMUTABLE LANGUAGE sql AS $$ SELECT ((k / 7) % 30) * 100 + 70 + (((g - ((k / 7) % 30) - 7) % 9) + 9) % 9 $$;
CREATE FUNCTION bench_seed.opened_at(k bigint, cases bigint) RETURNS timestamptz IMMUTABLE LANGUAGE sql AS $$
  SELECT TIMESTAMPTZ '2025-01-01 00:00:00+00' + ((k * 650) / cases) * interval '1 day' + ((k * 7919) % 86400) * interval '1 second' $$;
`;

function pathRows(): string {
  return PATHS.flatMap((p) => p.steps.map(([move, from, to], i) => `(${p.path}, ${i + 1}, '${move}', ${from ? `'${from}'` : 'NULL'}, '${to}')`)).join(',\n');
}

const AUTH = `(SELECT array_agg(id ORDER BY code) AS ids, array_agg(coalesce(array_position($R::text[], region), 0) ORDER BY code) AS regions
                 FROM authorities WHERE is_current) AS a`;
const regionsLiteral = `ARRAY[${REGIONS.map((r) => `'${r}'`).join(',')}]`;
const withRegions = (sql: string) => sql.replace('$R', regionsLiteral);

const CASES_SQL = withRegions(`
INSERT INTO cases (id, reference, authority_id, state, handling, government_department, government_power, government_trigger_at, referred_to_riep_at,
                   outcome, outcome_reason, closed_at, opened_at, opened_by, updated_at, version, restricted_to_team, restricted_by, restricted_at)
SELECT bench_seed.cid(k),
       'CH-' || extract(year FROM o.at)::int || '-' || lpad((k + 1)::text, 6, '0'),
       a.ids[1 + k % cardinality(a.ids)],
       last.to_state,
       CASE WHEN k % 5 = 0 THEN 'official' ELSE 'official_sensitive' END,
       CASE WHEN p.path IN (6, 9) THEN (ARRAY['Ministry of Housing, Communities and Local Government','Department for Education','Department of Health and Social Care'])[1 + k % 3] END,
       CASE WHEN p.path IN (6, 9) THEN (ARRAY['improvement_notice','statutory_direction','other_powers'])[1 + k % 3] END,
       CASE WHEN p.path IN (6, 9) THEN o.at + 33 * interval '1 day' END,
       CASE WHEN p.path IN (4, 5, 6, 8, 9) THEN o.at + 21 * interval '1 day' END,
       CASE p.path WHEN 7 THEN 'no_further_action' WHEN 8 THEN 'improvement_achieved' WHEN 9 THEN 'government_intervention' END,
       CASE WHEN p.path IN (7, 8, 9) THEN 'Closed after review by the clearing house' END,
       CASE WHEN p.path IN (7, 8, 9) THEN o.at + (last.step - 1) * 7 * interval '1 day' END,
       o.at, bench_seed.uid(bench_seed.officer(k)),
       o.at + (last.step - 1) * 7 * interval '1 day', last.step,
       k % 200 = 7, CASE WHEN k % 200 = 7 THEN bench_seed.uid(bench_seed.manager(k)) END, CASE WHEN k % 200 = 7 THEN o.at + interval '1 hour' END
  FROM generate_series($1::bigint, $2::bigint) AS k
  CROSS JOIN LATERAL (SELECT bench_seed.path_of(k) AS path) AS p
  CROSS JOIN LATERAL (SELECT bench_seed.opened_at(k, $3) AS at) AS o
  CROSS JOIN LATERAL (SELECT s.step, s.to_state FROM bench_seed.paths s WHERE s.path = p.path ORDER BY s.step DESC LIMIT 1) AS last,
  ${AUTH}`);

const TRANSITIONS_SQL = `
INSERT INTO case_transitions (case_id, sequence, move, from_state, to_state, actor_id, actor_role, reason, outcome, occurred_at)
SELECT bench_seed.cid(k), s.step, s.move, s.from_state, s.to_state,
       bench_seed.uid(CASE WHEN s.move = 'close' THEN bench_seed.manager(k) ELSE bench_seed.officer(k) END),
       CASE WHEN s.move = 'close' THEN 'clearing_house_manager' ELSE 'clearing_house_officer' END,
       CASE WHEN s.move = 'monitor' THEN 'Watching the budget position until the quarter-end figures'
            WHEN s.move = 'close' THEN 'Closed after review by the clearing house' END,
       CASE WHEN s.move = 'close' THEN (CASE bench_seed.path_of(k) WHEN 7 THEN 'no_further_action' WHEN 8 THEN 'improvement_achieved' ELSE 'government_intervention' END) END,
       bench_seed.opened_at(k, $3) + (s.step - 1) * 7 * interval '1 day'
  FROM generate_series($1::bigint, $2::bigint) AS k JOIN bench_seed.paths s ON s.path = bench_seed.path_of(k)`;

const CONCERNS_SQL = `
INSERT INTO concerns (id, case_id, received_on, channel, area, description, signals, handling, named_user_ids, logged_by, logged_at)
SELECT bench_seed.u('bench-concern-' || k || '-' || n), bench_seed.cid(k), (bench_seed.opened_at(k, $3) + n * interval '3 days')::date,
       (ARRAY['self_referral','inspectorate_or_audit','sector_intelligence','political_group','government_office','riep','peer','other'])[1 + (k + n) % 8],
       (ARRAY['corporate_governance','finance','childrens_services_and_safeguarding','adult_social_care','political_leadership','member_officer_relations',
              'leader_chief_executive_relationship','partnership_working','serious_adverse_incident','other'])[1 + (k * 3 + n) % 10],
       enc.v,
       CASE WHEN k % 4 = 0 THEN ARRAY['poor_member_officer_relations'] WHEN k % 4 = 1 THEN ARRAY['financial_difficulty','change_of_senior_management'] ELSE '{}' END,
       CASE WHEN k % 50 = 3 THEN 'named_only' ELSE 'normal' END,
       CASE WHEN k % 50 = 3 THEN ARRAY[bench_seed.uid(bench_seed.officer(k))] ELSE '{}' END,
       bench_seed.uid(bench_seed.officer(k)), bench_seed.opened_at(k, $3) + n * interval '3 days'
  FROM generate_series($1::bigint, $2::bigint) AS k CROSS JOIN generate_series(0, 1) AS n
  JOIN unnest($4::uuid[], $5::CONTENT_TYPE[]) AS enc(id, v) ON enc.id = bench_seed.u('bench-concern-' || k || '-' || n)
 WHERE n = 0 OR k % 3 = 0`;

const SOURCES_SQL = `
INSERT INTO concern_sources (concern_id, name, role, organisation, contact)
SELECT bench_seed.u('bench-concern-' || k || '-0'), 'Source ' || k, 'Monitoring officer', 'The council', 'source' || k || '@council.example'
  FROM generate_series($1::bigint, $2::bigint) AS k WHERE k % 5 = 1 AND $3::bigint > 0`;
/** With encryption at rest: the identity as one envelope (src/encryption), computed by the loader. */
const SOURCES_ENCRYPTED_SQL = `
INSERT INTO concern_sources (concern_id, identity)
SELECT enc.id, enc.v FROM unnest($4::uuid[], $5::bytea[]) AS enc(id, v) WHERE $1::bigint <= $2::bigint AND $3::bigint > 0`;

const TEAM_SQL = withRegions(`
INSERT INTO case_team_members (case_id, user_id, team_role, added_by, added_at)
SELECT bench_seed.cid(k), bench_seed.uid(m.user_k), m.team_role, bench_seed.uid(bench_seed.officer(k)), bench_seed.opened_at(k, $3) + interval '1 day'
  FROM generate_series($1::bigint, $2::bigint) AS k
  CROSS JOIN ${AUTH}
  CROSS JOIN LATERAL (SELECT bench_seed.path_of(k) AS path, a.regions[1 + k % cardinality(a.ids)] AS g) AS c
  CROSS JOIN LATERAL (
    SELECT bench_seed.officer(k) AS user_k, 'case_lead' AS team_role
    UNION ALL SELECT bench_seed.officer2(k), 'case_officer' WHERE k % 2 = 0
    UNION ALL SELECT bench_seed.riep(k, c.g - 1), 'riep_facilitator' WHERE c.path IN (4, 5, 6, 8, 9) AND c.g > 0
    UNION ALL SELECT bench_seed.peer(k), 'lead_political_peer' WHERE c.path >= 3 AND k % 10 < 3
  ) AS m`);

const SUPPORT_SQL = `
INSERT INTO improvement_support (id, case_id, kind, status, description, providers, outcomes, starts_on, ends_on, agreed_at, agreed_by, recorded_by, recorded_at, updated_at)
SELECT bench_seed.u('bench-support-' || k), bench_seed.cid(k),
       (ARRAY['corporate_peer_review','service_peer_review','peer_challenge','mentoring','inter_authority_exchange','improvement_plan','peer_support_panel'])[1 + k % 7],
       CASE WHEN bench_seed.path_of(k) = 8 THEN 'completed' WHEN k % 2 = 0 THEN 'in_progress' ELSE 'agreed' END,
       'Corporate peer challenge followed by a finance improvement plan, agreed with the leader and the chief executive',
       '[{"name":"LGA peer team"},{"name":"Regional improvement and efficiency partnership"}]'::jsonb, '[]'::jsonb,
       (bench_seed.opened_at(k, $3) + interval '28 days')::date, (bench_seed.opened_at(k, $3) + interval '200 days')::date,
       bench_seed.opened_at(k, $3) + interval '27 days', bench_seed.uid(bench_seed.officer(k)),
       bench_seed.uid(bench_seed.officer(k)), bench_seed.opened_at(k, $3) + interval '26 days', bench_seed.opened_at(k, $3) + interval '27 days'
  FROM generate_series($1::bigint, $2::bigint) AS k WHERE bench_seed.path_of(k) IN (5, 6, 8, 9)`;

const MEETINGS_SQL = `
INSERT INTO pre_intervention_meetings (id, case_id, meeting_on, intervention_contemplated, attendees, agenda, outcome, outcome_notes, outcome_recorded_by, outcome_recorded_at, recorded_by, recorded_at)
SELECT bench_seed.u('bench-meeting-' || k), bench_seed.cid(k), (bench_seed.opened_at(k, $3) + interval '36 days')::date,
       (ARRAY['improvement_notice','statutory_direction','other_powers'])[1 + k % 3],
       '[{"name":"Director, local government stewardship","role":"Department"},{"name":"Chief executive","role":"Authority"}]'::jsonb,
       'Whether a sector-led alternative can still be agreed',
       CASE WHEN bench_seed.path_of(k) = 9 THEN 'intervention_proceeds' END,
       CASE WHEN bench_seed.path_of(k) = 9 THEN 'The department will proceed' END,
       CASE WHEN bench_seed.path_of(k) = 9 THEN bench_seed.uid(bench_seed.officer(k)) END,
       CASE WHEN bench_seed.path_of(k) = 9 THEN bench_seed.opened_at(k, $3) + interval '37 days' END,
       bench_seed.uid(bench_seed.officer(k)), bench_seed.opened_at(k, $3) + interval '35 days'
  FROM generate_series($1::bigint, $2::bigint) AS k WHERE bench_seed.path_of(k) IN (6, 9)`;

/**
 * Conversation records. Row i < E (the number of cases with conversations) is the sensitive
 * conversation of the i-th such case; the rest fall on those cases round-robin, and every 20th
 * row is a correction (version 2) of the row before it. $4 is E, $5 the residues table.
 */
const CONVERSATIONS_SQL = `
INSERT INTO conversation_records (id, record_id, version, case_id, kind, held_on, internal_participant_ids, external_participants, summary, agreed_actions,
                                  handling, party_id, named_user_ids, recorded_by, recorded_at, correction_reason)
SELECT bench_seed.u('bench-conv-row-' || i), bench_seed.u('bench-conv-' || r), CASE WHEN corr THEN 2 ELSE 1 END, bench_seed.cid(ck),
       CASE WHEN r < $4 THEN 'sensitive_conversation' ELSE (ARRAY['sensitive_conversation','confidential_discussion','facilitated_meeting','call'])[1 + r % 4] END,
       (bench_seed.opened_at(ck, $3) + (14 + r % 200) * interval '1 day')::date,
       ARRAY[bench_seed.uid(bench_seed.officer(ck))],
       '[{"name":"Cllr A. Leader","role":"Leader of the council"},{"name":"J. Smith","role":"Chief executive","organisation":"The council"}]'::jsonb,
       enc.v,
       '[{"description":"Share the draft budget recovery plan","owner":"Chief executive"}]'::jsonb,
       CASE WHEN r >= $4 AND r % 10 = 1 THEN 'party_confidential' WHEN r >= $4 AND r % 20 = 2 THEN 'named_only' ELSE 'normal' END,
       CASE WHEN r >= $4 AND r % 10 = 1 THEN bench_seed.u('bench-party-' || (r % 5)) END,
       CASE WHEN r >= $4 AND r % 20 = 2 THEN ARRAY[bench_seed.uid(bench_seed.officer(ck))] ELSE '{}' END,
       bench_seed.uid(bench_seed.officer(ck)),
       bench_seed.opened_at(ck, $3) + (14 + r % 200) * interval '1 day' + CASE WHEN corr THEN interval '2 days' ELSE interval '0' END,
       CASE WHEN corr THEN 'Corrected the date of the follow-up meeting' END
  FROM generate_series($1::bigint, $2::bigint) AS i
  CROSS JOIN LATERAL (SELECT i >= $4 AND i % 20 = 19 AS corr) AS c
  CROSS JOIN LATERAL (SELECT CASE WHEN c.corr THEN i - 1 ELSE i END AS r) AS rr
  CROSS JOIN LATERAL (SELECT ((rr.r % $4) / ${CONVERSATION_RESIDUES.length}) * 20 + ($5::int[])[1 + (rr.r % $4) % ${CONVERSATION_RESIDUES.length}] AS ck) AS cc
  JOIN unnest($6::uuid[], $7::CONTENT_TYPE[]) AS enc(id, v) ON enc.id = bench_seed.u('bench-conv-row-' || i)`;

/**
 * Audit records: bench/audit-scale.ts's generator (bench/audit-generator.ts: same mix of actions, resources, denials, actors
 * and cases, skewed towards busy ones), with the population sized to this seed, and sealed with
 * the real leaf hash: SHA-256(0x00 || canonicalRecord), the canonical record being the JSON array
 * of src/audit/audit-record.ts built in SQL (every field here is plain ASCII, for which to_json
 * and JSON.stringify write the same bytes; the verifier run of the HTTP benchmark checks that).
 * tx_id: the writing "transaction", spread over the ids below the seed's start ($6 = first id not
 * used, $7 = total rows), so that every later real transaction lies above the checkpoint's horizon.
 */
function auditChunkSql(actors: number, cases: number): string {
  return `
${auditRecordsSql({
  actors,
  cases,
  txId: '(3 + floor(($4::bigint + i)::numeric * ($6::bigint - 3) / $7::bigint))::bigint::text::xid8',
  uuid: (key) => `bench_seed.u(${key})`,
  returning: '*',
})}
INSERT INTO audit_seals (seq, event_id, event_occurred_at, leaf_hash)
SELECT $5::bigint + row_number() OVER (ORDER BY occurred_at, id), id, occurred_at,
       sha256('\\x00'::bytea || convert_to('[' || concat_ws(',',
         '"ch-audit-v1"', to_json(id::text)::text, to_json(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text,
         coalesce(to_json(actor_id::text)::text, 'null'), coalesce(to_json(actor_role)::text, 'null'), to_json(action)::text, to_json(resource_type)::text,
         coalesce(to_json(resource_id)::text, 'null'), coalesce(to_json(case_id::text)::text, 'null'), to_json(outcome)::text,
         coalesce(to_json(rule)::text, 'null'), coalesce(to_json(request_id)::text, 'null'), coalesce(to_json(client_ip)::text, 'null'),
         coalesce(to_json(user_agent)::text, 'null'), coalesce(to_json(justification)::text, 'null')) || ']', 'UTF8'))
  FROM ins`;
}

function planAuditChunks(rows: number, chunkRows: number): Array<{ from: string; to: string; rows: number; offset: number; seqBase: number }> {
  const chunks: Array<{ from: string; to: string; rows: number; offset: number; seqBase: number }> = [];
  let offset = 0;
  for (let m = 0; m < MONTHS; m++) {
    const monthRows = Math.floor(rows / MONTHS) + (m < rows % MONTHS ? 1 : 0);
    const slices = Math.max(1, Math.ceil(monthRows / chunkRows));
    const start = new Date(FIRST_MONTH);
    start.setUTCMonth(start.getUTCMonth() + m);
    const end = new Date(FIRST_MONTH);
    end.setUTCMonth(end.getUTCMonth() + m + 1);
    const span = end.getTime() - start.getTime();
    for (let s = 0; s < slices; s++) {
      const n = Math.floor(monthRows / slices) + (s < monthRows % slices ? 1 : 0);
      if (n === 0) continue;
      chunks.push({
        from: new Date(start.getTime() + Math.floor((span * s) / slices)).toISOString(),
        to: new Date(start.getTime() + Math.floor((span * (s + 1)) / slices)).toISOString(),
        rows: n, offset, seqBase: offset, // seq = seqBase + row_number() (1-based)
      });
      offset += n;
    }
  }
  return chunks;
}

/**
 * A bulk load's usual shape: the audit tables' search indexes and uuid keys are dropped while the
 * empty tables fill, then built once from the migrations' own definitions (read back from the
 * catalogue before the drop). One sort per index instead of 50 million random inserts into
 * B-trees that outgrow memory: with them in place the load fell from 24,800 to 9,700 rows/s.
 * audit_seals keeps its primary key (seq ascends within every chunk).
 */
async function withAuditIndexesBuiltAfter(url: string, fill: () => Promise<number>): Promise<{ rows: number; rebuildSeconds: number; rebuilt: string[] }> {
  const client = new Client({ connectionString: url, application_name: 'bench-seed' });
  await client.connect();
  try {
    const { rows: [{ n }] } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM audit_events LIMIT 1) e`);
    if (Number(n) > 0) return { rows: await fill(), rebuildSeconds: 0, rebuilt: [] };
    const constraints = (await client.query<{ tbl: string; name: string; def: string }>(
      `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE contype IN ('p', 'u') AND (conrelid = 'audit_events'::regclass OR (conrelid = 'audit_seals'::regclass AND contype = 'u'))
        ORDER BY conname`)).rows;
    const indexes = (await client.query<{ name: string; def: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'audit_events'::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname`)).rows;
    for (const x of indexes) await client.query(`DROP INDEX ${x.name}`);
    for (const x of constraints) await client.query(`ALTER TABLE ${x.tbl} DROP CONSTRAINT ${x.name}`);
    const rows = await fill();
    const t0 = Date.now();
    await client.query(`SET maintenance_work_mem = '1GB'`);
    for (const x of constraints) {
      log(`  building ${x.name} (${x.def})...`);
      await client.query(`ALTER TABLE ${x.tbl} ADD CONSTRAINT ${x.name} ${x.def}`);
    }
    for (const x of indexes) {
      log(`  building ${x.name}...`);
      // The parent's definition reads "ON ONLY audit_events", which would build no partition's index.
      await client.query(x.def.replace(' ON ONLY ', ' ON '));
    }
    return { rows, rebuildSeconds: round((Date.now() - t0) / 1000, 1), rebuilt: [...constraints.map((x) => x.name), ...indexes.map((x) => x.name)] };
  } finally {
    await client.end();
  }
}

async function ownerQuery<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, application_name: 'bench-seed' });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The signed checkpoint over every seeded record, as the sealer would have left it. */
async function writeCheckpoint(url: string, txHorizon: string, signingKey: string): Promise<{ treeSize: number; rootHash: string }> {
  const client = new Client({ connectionString: url, application_name: 'bench-seed' });
  await client.connect();
  try {
    const frontier = MerkleFrontier.empty();
    let last = 0;
    for (;;) {
      const { rows } = await client.query<{ seq: string; leaf_hash: Buffer }>(`SELECT seq, leaf_hash FROM audit_seals WHERE seq > $1 ORDER BY seq LIMIT 200000`, [last]);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (Number(r.seq) !== frontier.size + 1) throw new Error(`audit_seals has a gap before ${r.seq}`);
        frontier.append(r.leaf_hash);
      }
      last = Number(rows[rows.length - 1].seq);
    }
    if (frontier.size === 0) return { treeSize: 0, rootHash: '' };
    const signer = new CheckpointSigner(signingKey);
    const [{ now }] = (await client.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`)).rows;
    const body: CheckpointBody = { treeSize: frontier.size, rootHash: frontier.root().toString('hex'), txHorizon, createdAt: now, previousHash: null, keyId: signer.keyId };
    await client.query(
      `INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, tx_horizon, created_at, previous_hash, checkpoint_hash, key_id, signature)
       VALUES ($1, $2, $3, $4::xid8, $5, NULL, $6, $7, $8)`,
      [body.treeSize, Buffer.from(body.rootHash, 'hex'), JSON.stringify(frontier.toJSON()), body.txHorizon, body.createdAt, checkpointHash(body), body.keyId,
        signer.sign(checkpointMessage(body))],
    );
    return { treeSize: body.treeSize, rootHash: body.rootHash };
  } finally {
    await client.end();
  }
}

export interface SeedOptions {
  database: string;
  cases: number;
  conversations: number;
  audit: number;
  jobs: number;
  tag?: string;
}

export function seedOptions(argv: string[]): SeedOptions {
  const cases = numberOption(argv, '--cases', 100_000);
  return {
    database: option(argv, '--database') ?? 'ch_bench_seed',
    // Whole cycles of the 20 paths, so every state has its share.
    cases: Math.max(20, Math.round(cases / 20) * 20),
    conversations: numberOption(argv, '--conversations', cases * 10),
    audit: option(argv, '--audit') === '0' ? 0 : numberOption(argv, '--audit', 50_000_000),
    jobs: numberOption(argv, '--jobs', 2),
    tag: option(argv, '--tag'),
  };
}

export async function runSeed(o: SeedOptions): Promise<Record<string, unknown>> {
  const url = databaseUrl(o.database);
  const started = Date.now();
  const machine = await machineFacts();
  const steps: Step[] = [];
  const step = async (name: string, fn: () => Promise<number>) => {
    const t0 = Date.now();
    log(`${name}...`);
    const rows = await fn();
    const seconds = (Date.now() - t0) / 1000;
    steps.push({ name, rows, seconds: round(seconds, 1), rowsPerSecond: Math.round(rows / Math.max(seconds, 0.001)) });
    log(`  ${name}: ${rows.toLocaleString('en-GB')} rows in ${round(seconds, 1)} s`);
  };
  log(`seed: database ${o.database}, ${o.cases.toLocaleString('en-GB')} cases, ${o.conversations.toLocaleString('en-GB')} conversation records, ${o.audit.toLocaleString('en-GB')} audit records, ${o.jobs} loader(s)`);

  await step('create database and run the migrations (owner)', async () => {
    await recreateDatabase(o.database);
    await runMigrations(url);
    await ensureServiceLogin(url, BENCH_SERVICE_LOGIN);
    return 0;
  });
  await step('authority register (src/authorities import)', async () => {
    const ds = new DataSource(dataSourceOptions({ url, poolSize: 1, applicationName: 'bench-seed' }));
    await ds.initialize();
    try {
      const r = await importAuthorities(ds);
      return r.total;
    } finally {
      await ds.destroy();
    }
  });
  await ownerQuery(url, HELPERS_SQL);
  await ownerQuery(url, `INSERT INTO bench_seed.paths VALUES ${pathRows()}`);

  const settings = validateEnvironment({ NODE_ENV: 'test' });
  const [{ type }] = await ownerQuery<{ type: string }>(url, `SELECT data_type AS type FROM information_schema.columns WHERE table_name = 'concerns' AND column_name = 'description'`);
  const content = new Content(type === 'bytea', MasterKeyRing.fromConfig(settings.ENCRYPTION_MASTER_KEY!));
  log(`  content: ${content.encrypted ? 'encrypted at rest (concerns.description is bytea)' : 'plaintext (no encryption migration)'}`);
  await step('parties and users (every role)', async () => {
    const hash = await hashPassword(BENCH_PASSWORD, { memoryKib: settings.ARGON2_MEMORY_KIB, timeCost: settings.ARGON2_TIME_COST });
    await ownerQuery(url, `INSERT INTO parties (id, name) SELECT bench_seed.u('bench-party-' || (i - 1)), p FROM unnest($1::text[]) WITH ORDINALITY AS t(p, i)`, [PARTIES]);
    const [{ n }] = await ownerQuery<{ n: number }>(
      url,
      `WITH ins AS (
       INSERT INTO users (id, email, display_name, password_hash, role, region, party_id)
       SELECT bench_seed.uid(k), 'bench.user.' || k || '@bench.example', 'Bench User ' || k, $1, role,
              CASE WHEN role = 'riep_facilitator' THEN ($2::text[])[1 + k % 9] END,
              CASE WHEN role = 'lead_political_peer' THEN bench_seed.u('bench-party-' || (k % 5)) END
         FROM (SELECT k, CASE WHEN k % 100 < 60 THEN 'clearing_house_officer' WHEN k % 100 < 70 THEN 'clearing_house_manager'
                              WHEN k % 100 < 85 THEN 'riep_facilitator' WHEN k % 100 < 95 THEN 'lead_political_peer'
                              WHEN k % 100 < 98 THEN 'auditor' ELSE 'administrator' END AS role
                 FROM generate_series(0, ${SEED_USERS - 1}) AS k
               UNION ALL SELECT k, 'board_member' FROM generate_series(${SEED_USERS}, ${SEED_USERS + BOARD_MEMBERS - 1}) AS k) AS u
       RETURNING 1) SELECT count(*)::int AS n FROM ins`,
      [hash, REGIONS],
    );
    return n;
  });

  const caseChunks = (sql: string, size: number) => ranges(o.cases, size).map(([a, b]) => ({ sql, params: [a, b, o.cases], rows: b - a + 1 }));
  const countOf = async (table: string) => Number((await ownerQuery<{ n: string }>(url, `SELECT count(*) AS n FROM ${table}`))[0].n);
  await step('cases (every state, over the current authorities)', async () => {
    await chunked(url, o.jobs, caseChunks(CASES_SQL, 10_000), 'cases');
    // Service-created references continue after the seeded ones.
    await ownerQuery(url, `INSERT INTO case_reference_counters (year, last_number) SELECT y, $1 FROM generate_series(2025, 2027) AS y`, [o.cases]);
    return o.cases;
  });
  await step('workflow history (case_transitions)', async () => {
    await chunked(url, o.jobs, caseChunks(TRANSITIONS_SQL, 10_000), 'transitions');
    return countOf('case_transitions');
  });
  if (content.encrypted) {
    await step('data keys (one per case, wrapped by the master key)', async () => {
      const chunks: Chunk[] = ranges(o.cases, 10_000).map(([a, b]) => ({
        rows: b - a + 1,
        sql: `INSERT INTO data_keys (id, case_id, version, state, wrapped_key, master_key_id)
              SELECT id, case_id, 1, 'active', w, $4 FROM unnest($1::uuid[], $2::uuid[], $3::bytea[]) AS t(id, case_id, w)`,
        params: async () => {
          const ids: string[] = [];
          const cases: string[] = [];
          const wrapped: Buffer[] = [];
          for (let k = a; k <= b; k++) {
            const { id, key } = content.dataKey(k);
            ids.push(id);
            cases.push(caseId(k));
            wrapped.push(await content.ring.current.wrap(key, dataKeyContext({ id, caseId: caseId(k), version: 1 })));
          }
          return [ids, cases, wrapped, content.ring.current.masterKeyId];
        },
      }));
      await chunked(url, o.jobs, chunks, 'data keys');
      return countOf('data_keys');
    });
  }
  const concernSql = CONCERNS_SQL.replace('CONTENT_TYPE', content.type);
  await step(`concerns${content.encrypted ? ' (descriptions encrypted)' : ''}`, async () => {
    const chunks: Chunk[] = ranges(o.cases, 10_000).map(([a, b]) => ({
      rows: b - a + 1,
      sql: concernSql,
      params: () => {
        const ids: string[] = [];
        const values: Array<Buffer | string> = [];
        for (let k = a; k <= b; k++) {
          for (const n of k % 3 === 0 ? [0, 1] : [0]) {
            const id = md5Uuid(`bench-concern-${k}-${n}`);
            ids.push(id);
            values.push(content.value(EncryptedField.ConcernDescription, k, id, concernText(k, n)));
          }
        }
        return Promise.resolve([a, b, o.cases, ids, values]);
      },
    }));
    await chunked(url, o.jobs, chunks, 'concerns');
    return countOf('concerns');
  });
  await step(`concern sources${content.encrypted ? ' (identities encrypted)' : ''}`, async () => {
    const chunks: Chunk[] = content.encrypted
      ? ranges(o.cases, 20_000).map(([a, b]) => ({
          rows: b - a + 1,
          sql: SOURCES_ENCRYPTED_SQL,
          params: () => {
            const ids: string[] = [];
            const values: Array<Buffer | string> = [];
            for (let k = a; k <= b; k++) {
              if (k % 5 !== 1) continue;
              const id = md5Uuid(`bench-concern-${k}-0`);
              ids.push(id);
              const identity = { name: `Source ${k}`, role: 'Monitoring officer', organisation: 'The council', contact: `source${k}@council.example` };
              values.push(content.value(EncryptedField.SourceIdentity, k, id, JSON.stringify(identity)));
            }
            return Promise.resolve([a, b, o.cases, ids, values]);
          },
        }))
      : caseChunks(SOURCES_SQL, 20_000);
    await chunked(url, o.jobs, chunks, 'sources');
    return countOf('concern_sources');
  });
  await step('case teams', async () => {
    await chunked(url, o.jobs, caseChunks(TEAM_SQL, 10_000), 'team');
    return countOf('case_team_members');
  });
  await step('improvement support and pre-intervention meetings', async () => {
    await chunked(url, o.jobs, [...caseChunks(SUPPORT_SQL, 20_000), ...caseChunks(MEETINGS_SQL, 20_000)], 'support/meetings');
    return (await countOf('improvement_support')) + (await countOf('pre_intervention_meetings'));
  });
  const withConversations = (o.cases / 20) * CONVERSATION_RESIDUES.length;
  const conversationSql = CONVERSATIONS_SQL.replace('CONTENT_TYPE', content.type);
  await step(`conversation records${content.encrypted ? ' (summaries encrypted)' : ''}`, async () => {
    const total = Math.max(o.conversations, withConversations);
    const R = CONVERSATION_RESIDUES;
    const chunks: Chunk[] = ranges(total, 25_000).map(([a, b]) => ({
      rows: b - a + 1,
      sql: conversationSql,
      params: () => {
        const ids: string[] = [];
        const values: Array<Buffer | string> = [];
        for (let i = a; i <= b; i++) {
          // The same arithmetic as CONVERSATIONS_SQL: which record, which version, which case.
          const corr = i >= withConversations && i % 20 === 19;
          const r = corr ? i - 1 : i;
          const e = r % withConversations;
          const ck = Math.floor(e / R.length) * 20 + R[e % R.length];
          const id = md5Uuid(`bench-conv-row-${i}`);
          ids.push(id);
          values.push(content.value(EncryptedField.ConversationSummary, ck, id, conversationText(r, corr ? 2 : 1)));
        }
        return Promise.resolve([a, b, o.cases, withConversations, R, ids, values]);
      },
    }));
    return chunked(url, o.jobs, chunks, 'conversations');
  });

  const auditResult: Record<string, unknown> = {};
  if (o.audit > 0) {
    const [{ xid }] = await ownerQuery<{ xid: string }>(url, `SELECT pg_current_xact_id()::text AS xid`);
    await step('audit records (audit-scale generator, sealed with real leaf hashes; indexes built after the load)', async () => {
      const sql = auditChunkSql(SEED_USERS, o.cases);
      const chunks = planAuditChunks(o.audit, 100_000).map((c) => ({ sql, params: [c.from, c.to, c.rows, c.offset, c.seqBase, xid, o.audit], rows: c.rows }));
      const t0 = Date.now();
      const r = await withAuditIndexesBuiltAfter(url, () => chunked(url, o.jobs, chunks, 'audit'));
      const total = (Date.now() - t0) / 1000;
      Object.assign(auditResult, {
        loadSeconds: round(total - r.rebuildSeconds, 1), indexBuildSeconds: r.rebuildSeconds, indexesBuiltAfterTheLoad: r.rebuilt,
        loadRowsPerSecond: Math.round(r.rows / Math.max(total - r.rebuildSeconds, 0.001)),
      });
      log(`  audit: ${r.rows.toLocaleString('en-GB')} rows loaded in ${round(total - r.rebuildSeconds, 1)} s, indexes built in ${r.rebuildSeconds} s`);
      return r.rows;
    });
    await step('signed checkpoint over the seeded records', async () => {
      const cp = await writeCheckpoint(url, xid, settings.AUDIT_SIGNING_KEY!);
      Object.assign(auditResult, { checkpoint: cp, txHorizon: xid });
      return cp.treeSize;
    });
  }
  await step('VACUUM (ANALYZE)', async () => {
    await ownerQuery(url, `DROP SCHEMA bench_seed CASCADE`);
    const client = new Client({ connectionString: url, application_name: 'bench-seed' });
    await client.connect();
    try {
      for (const t of [...(content.encrypted ? ['data_keys'] : []), 'users', 'authorities', 'cases', 'case_transitions', 'concerns', 'concern_sources', 'case_team_members', 'improvement_support', 'pre_intervention_meetings', 'conversation_records', 'audit_events', 'audit_seals']) {
        await client.query(`VACUUM (ANALYZE) ${t}`);
      }
    } finally {
      await client.end();
    }
    return 0;
  });

  const sizes = await ownerQuery<{ t: string; rows: string; bytes: string }>(
    url,
    `SELECT t, (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n FROM ' || t, false, true, '')))[1]::text AS rows,
            CASE WHEN t = 'audit_events' THEN (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass)
                 ELSE pg_total_relation_size(t::regclass) END AS bytes
       FROM unnest(ARRAY['authorities','parties','users','cases','case_transitions','concerns','concern_sources','case_team_members','improvement_support',
                         'pre_intervention_meetings','conversation_records','audit_events','audit_seals','audit_checkpoints']) AS t`,
  );
  const states = await ownerQuery<{ state: string; n: string }>(url, `SELECT state, count(*) AS n FROM cases GROUP BY state ORDER BY state`);
  const loadSteps = steps.filter((s) => s.rows > 0);
  const result = {
    benchmark: 'seed',
    date: new Date().toISOString(),
    machine,
    settings: { ...o, users: SEED_USERS + BOARD_MEMBERS, encryptedAtRest: content.encrypted, chunks: 'cases/teams/history/concerns 10,000 cases per statement; conversations 25,000 rows; audit 100,000 rows', synchronousCommit: 'off in the loader sessions' },
    steps,
    totalSeconds: round((Date.now() - started) / 1000, 1),
    loadedRows: loadSteps.reduce((a, s) => a + s.rows, 0),
    tables: Object.fromEntries(sizes.map((s) => [s.t, { rows: Number(s.rows), MiB: round(Number(s.bytes) / 2 ** 20, 1) }])),
    caseStates: Object.fromEntries(states.map((s) => [s.state, Number(s.n)])),
    audit: auditResult,
    loadAverageAtEnd: loadAverage(),
  };
  const file = writeResult(`seed-${today()}${o.tag ? `-${o.tag}` : ''}.json`, result);
  log(`seed: done in ${result.totalSeconds} s, results in ${file}`);
  return result;
}

if (require.main === module) {
  runSeed(seedOptions(process.argv.slice(2))).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
