/**
 * The audit-record generator shared by bench/audit-scale.ts and bench/seed.ts (never imported by
 * src/): a realistic mix of actions and resources, 2% denials with their rules, request ids, client
 * addresses and user agents, actors and cases skewed towards busy ones (power 1.5), in time order
 * over a slice of a month.
 *
 * One chunk's parameters: $1 and $2 the slice's start and end, $3 its number of records; the
 * caller's `txId` expression may use $4 (the chunk's first row number) and any parameter of its
 * own. What the records are sealed with is the caller's: it follows with an INSERT into
 * audit_seals ... FROM ins.
 */
export interface AuditGeneratorOptions {
  /** Actor keys 0..actors-1 and case keys 0..cases-1. */
  actors: number;
  cases: number;
  /** SQL for the writing transaction's id (xid8) of record i. */
  txId: string;
  /** SQL for the uuid of a key expression (actors 'bench-actor-' || k, cases 'bench-case-' || k). */
  uuid: (key: string) => string;
  /** What the insert returns for the seals. */
  returning: string;
}

export function auditRecordsSql(o: AuditGeneratorOptions): string {
  return `WITH src AS (
  SELECT i,
         $1::timestamptz + ((i + random()) / $3::float8) * ($2::timestamptz - $1::timestamptz) AS at,
         floor(${o.actors} * power(random(), 1.5))::int AS ak,
         floor(${o.cases} * power(random(), 1.5))::int AS ck,
         random() AS ra, random() AS rd, random() AS rr
    FROM generate_series(0, $3::int - 1) AS i
), ins AS (
  INSERT INTO audit_events (id, occurred_at, tx_id, actor_id, actor_role, action, resource_type, resource_id, case_id, outcome, rule, request_id, client_ip, user_agent)
  SELECT gen_random_uuid(), at, ${o.txId}, ${o.uuid(`'bench-actor-' || ak`)},
         CASE WHEN ak % 100 < 60 THEN 'clearing_house_officer' WHEN ak % 100 < 70 THEN 'clearing_house_manager'
              WHEN ak % 100 < 85 THEN 'riep_facilitator' WHEN ak % 100 < 95 THEN 'lead_political_peer'
              WHEN ak % 100 < 98 THEN 'auditor' ELSE 'administrator' END,
         CASE WHEN ra < 0.76 THEN 'read' WHEN ra < 0.80 THEN 'create' WHEN ra < 0.82 THEN 'create' WHEN ra < 0.84 THEN 'update'
              WHEN ra < 0.85 THEN 'move' WHEN ra < 0.86 THEN 'add_team_member' WHEN ra < 0.93 THEN 'list' WHEN ra < 0.97 THEN 'sign_in'
              WHEN ra < 0.98 THEN 'sign_out' WHEN ra < 0.99 THEN 'search' ELSE 'change_password' END,
         CASE WHEN ra < 0.40 THEN 'case' WHEN ra < 0.55 THEN 'concern' WHEN ra < 0.60 THEN 'concern_source' WHEN ra < 0.65 THEN 'history'
              WHEN ra < 0.70 THEN 'conversation' WHEN ra < 0.73 THEN 'meeting' WHEN ra < 0.76 THEN 'support' WHEN ra < 0.80 THEN 'conversation'
              WHEN ra < 0.82 THEN 'concern' WHEN ra < 0.85 THEN 'case' WHEN ra < 0.86 THEN 'team' WHEN ra < 0.93 THEN 'case'
              WHEN ra < 0.98 THEN 'session' WHEN ra < 0.99 THEN 'audit_trail' ELSE 'user' END,
         CASE WHEN ra < 0.40 OR (ra >= 0.82 AND ra < 0.86) THEN ${o.uuid(`'bench-case-' || ck`)}::text
              WHEN ra < 0.82 THEN ${o.uuid(`'bench-item-' || ck || '-' || floor(rr * 20)`)}::text
              WHEN ra < 0.93 THEN NULL
              WHEN ra < 0.98 THEN ${o.uuid(`'bench-session-' || ak || '-' || floor(rr * 1000)`)}::text
              WHEN ra < 0.99 THEN NULL
              ELSE ${o.uuid(`'bench-actor-' || ak`)}::text END,
         CASE WHEN ra < 0.86 THEN ${o.uuid(`'bench-case-' || ck`)} END,
         CASE WHEN rd < 0.02 THEN 'denied' ELSE 'allowed' END,
         CASE WHEN rd < 0.02 THEN (ARRAY['riep_other_region','riep_not_referred','peer_not_on_team','case_not_found','item_not_named','action_role_may_not'])[1 + floor(rr * 6)::int]
              WHEN ra >= 0.84 AND ra < 0.85 THEN 'triage->monitoring' END,
         gen_random_uuid()::text,
         '10.' || (ak / 250) || '.' || (ak % 250) || '.' || (1 + (ak * 7) % 250),
         (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
                'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
                'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
                'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
                'Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
                'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'])[1 + ak % 6]
    FROM src
  RETURNING ${o.returning}
)`;
}
