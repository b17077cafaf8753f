import { MigrationInterface, QueryRunner } from 'typeorm';
import { recusalGuardSql } from './1764381500000-Conflicts';

const STAFF = `('clearing_house_officer','clearing_house_manager')`;
const MANAGER = `ch_user_role() = 'clearing_house_manager'`;

/**
 * Row-level security on the rest of the tables that hold case data or point at a case (issue 5,
 * point 1), with the same pattern as migrations/1764381300000-RowLevelSecurity.ts: enabled and
 * forced, the owner admitted by `rls_owner`, the service's role bound by policies that mirror the
 * application's rules, and (for tables naming a case) the recusal guard of
 * migrations/1764381500000-Conflicts.ts. The audit tables keep their own append-only design.
 *
 * - `source_identity_releases`: the managers who may see the case and the colleague it is for
 *   (src/source-identity); the auditors' listing (system context `audit`). Asked for, decided and
 *   revoked only by a manager who may change the case, never through break-glass alone.
 * - `break_glass_grants`: the manager holding it, managers who may see the case, the auditors'
 *   review queue (`break_glass_review`), which alone records a review, by an active auditor.
 *   Taken only by a manager, in their own name, on a case they could not otherwise see.
 * - `retention_reviews`: listed by the retention job (`retention`); seen by clearing-house
 *   managers (who all see the review list); decided by a manager who may change the case.
 * - `deletion_certificates`: read by the auditors (`audit`) and by whoever may read the case (a
 *   certificate holds counts, ids and the approval's reason, never case content); written only with a destruction that
 *   happened, by the manager who may change the case.
 * - `data_keys`: read by whoever may read the case, and by the re-encryption job
 *   (`encryption`); a new active key by whoever may write to the case. Retiring and destroying
 *   keys stay with the owner's functions (`retire_data_key`, `destroy_case_content`).
 * - `deadline_reminders`: whoever may see the deadline (case_deadlines' own policies); written by
 *   the deadline job (`deadlines`) only.
 * - `notifications`: read and marked read by their own user only; written only through
 *   `ch_notify` below.
 * - `idempotency_keys`: their own user only; the purge (`idempotency`) sees and deletes expired
 *   keys only.
 *
 * `ch_notify` is the one way to write a notification: one in-app notification per recipient and
 * its e-mail in the outbox, as the owner, for a user who may read the case it is about (or about
 * no case), or for the deadline job and the welcome worker. The writing transaction could not
 * read those rows back under the policy above (nor could it use INSERT ... ON CONFLICT, which
 * needs to), which is the point.
 */
export class RowLevelSecurityRest1764381800000 implements MigrationInterface {
  name = 'RowLevelSecurityRest1764381800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(FUNCTIONS);
    for (const fn of DEFINER_FUNCTIONS) {
      await q.query(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`);
      await q.query(`GRANT EXECUTE ON FUNCTION ${fn} TO clearing_house_service`);
    }
    for (const [table, { policies, caseOfRow }] of Object.entries(TABLES)) {
      const [{ owner }] = await q.query(`SELECT quote_ident(pg_get_userbyid(relowner)) AS owner FROM pg_class WHERE oid = $1::regclass`, [table]);
      await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await q.query(`CREATE POLICY rls_owner ON ${table} FOR ALL TO ${owner} USING (true) WITH CHECK (true)`);
      for (const [name, command, using, check] of policies) {
        await q.query(
          `CREATE POLICY ${name} ON ${table} FOR ${command} TO clearing_house_service` + (using ? ` USING (${using})` : '') + (check ? ` WITH CHECK (${check})` : ''),
        );
      }
      // A user recused from the case sees none of its rows here either.
      if (caseOfRow) await q.query(recusalGuardSql(table, caseOfRow));
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, { policies, caseOfRow }] of Object.entries(TABLES)) {
      if (caseOfRow) await q.query(`DROP POLICY rls_not_recused ON ${table}`);
      for (const [name] of policies) await q.query(`DROP POLICY ${name} ON ${table}`);
      await q.query(`DROP POLICY rls_owner ON ${table}`);
      await q.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
      await q.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
    for (const fn of DEFINER_FUNCTIONS) await q.query(`DROP FUNCTION ${fn}`);
  }
}

const system = (...contexts: string[]) => `ch_system_context() IN (${contexts.map((c) => `'${c}'`).join(', ')})`;

/** [name, command, USING, WITH CHECK] */
type Policy = [string, 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE', string | null, string | null];

/** Who may see a release: a manager who may see the case; the colleague it is for, while they may read the concern. */
const RELEASE_VISIBLE = `ch_may_read_case(case_id) AND (${MANAGER}
  OR (ch_user_role() IN ${STAFF} AND released_to = ch_user_id()
      AND EXISTS (SELECT 1 FROM concerns k WHERE k.id = source_identity_releases.concern_id AND ch_item_visible(k.handling, NULL, k.named_user_ids))))`;
/** Who may change a release: a manager who may change the case (never through break-glass alone). */
const RELEASE_WRITER = `${MANAGER} AND ch_may_write_case(case_id)`;

/** Each table: its policies, and the expression giving a row's case (for the recusal guard), if it names one. */
const TABLES: Record<string, { policies: Policy[]; caseOfRow: string | null }> = {
  source_identity_releases: {
    caseOfRow: 'case_id',
    policies: [
      ['rls_read', 'SELECT', `${system('audit')} OR (${RELEASE_VISIBLE})`, null],
      ['rls_insert', 'INSERT', null, `requested_by = ch_user_id() AND state = 'requested' AND ${RELEASE_WRITER} AND case_id = ch_case_of_concern(concern_id)`],
      // Whoever may see a release may lock it (the service then answers 403 or 409 for what they may not do); only a manager who may change the case changes it.
      ['rls_update', 'UPDATE', RELEASE_VISIBLE, RELEASE_WRITER],
    ],
  },
  break_glass_grants: {
    caseOfRow: 'case_id',
    policies: [
      ['rls_read', 'SELECT', `user_id = ch_user_id() OR (${MANAGER} AND ch_may_read_case(case_id)) OR ${system('break_glass_review')}`, null],
      // In one's own name, unreviewed, on a case one could not see without it (a restricted case, not on its team, not its restrictor, no live grant).
      ['rls_insert', 'INSERT', null, `user_id = ch_user_id() AND ${MANAGER} AND reviewed_at IS NULL AND reviewed_by IS NULL AND expires_at > now() AND NOT ch_may_read_case(case_id)`],
      // Only the auditors' review, naming an active auditor.
      [
        'rls_update', 'UPDATE', system('break_glass_review'),
        `${system('break_glass_review')} AND EXISTS (SELECT 1 FROM users u WHERE u.id = reviewed_by AND u.role = 'auditor' AND u.disabled_at IS NULL)`,
      ],
    ],
  },
  retention_reviews: {
    caseOfRow: 'case_id',
    policies: [
      // Every manager sees the review list (references only, src/retention); the job lists what is due.
      ['rls_read', 'SELECT', `${system('retention')} OR ${MANAGER}`, null],
      ['rls_insert', 'INSERT', null, `${system('retention')} AND status = 'pending' AND decided_by IS NULL`],
      // Any manager may lock a review (the service then opens the case, auditing a refusal); only one who may change the case decides it.
      ['rls_update', 'UPDATE', MANAGER, `${MANAGER} AND ch_may_write_case(case_id)`],
    ],
  },
  deletion_certificates: {
    caseOfRow: 'case_id',
    policies: [
      // The auditors; and whoever may read the case (verifying an agreed record of a destroyed case names its certificate).
      ['rls_read', 'SELECT', `${system('audit')} OR ch_may_read_case(case_id)`, null],
      [
        'rls_insert', 'INSERT', null,
        `${MANAGER} AND ch_may_write_case(case_id)
         AND EXISTS (SELECT 1 FROM retention_reviews r WHERE r.id = deletion_certificates.review_id AND r.case_id = deletion_certificates.case_id AND r.status = 'destroyed')`,
      ],
    ],
  },
  data_keys: {
    caseOfRow: 'case_id',
    policies: [
      ['rls_read', 'SELECT', `${system('encryption')} OR ch_may_read_case(case_id)`, null],
      ['rls_insert', 'INSERT', null, `state = 'active' AND (${system('encryption')} OR ch_may_write_case(case_id))`],
    ],
  },
  deadline_reminders: {
    caseOfRow: null,
    policies: [
      // Visible with its deadline: case_deadlines' own policies (and its recusal guard) decide.
      ['rls_read', 'SELECT', `${system('deadlines')} OR EXISTS (SELECT 1 FROM case_deadlines d WHERE d.id = deadline_reminders.deadline_id)`, null],
      ['rls_insert', 'INSERT', null, system('deadlines')],
      ['rls_update', 'UPDATE', system('deadlines'), system('deadlines')],
    ],
  },
  notifications: {
    caseOfRow: 'case_id',
    policies: [
      // No INSERT policy: every notification is written through ch_notify.
      ['rls_read', 'SELECT', `user_id = ch_user_id()`, null],
      ['rls_update', 'UPDATE', `user_id = ch_user_id()`, `user_id = ch_user_id()`],
    ],
  },
  idempotency_keys: {
    caseOfRow: null,
    policies: [
      ['rls_read', 'SELECT', `user_id = ch_user_id() OR (${system('idempotency')} AND expires_at <= now())`, null],
      ['rls_insert', 'INSERT', null, `user_id = ch_user_id()`],
      ['rls_update', 'UPDATE', `user_id = ch_user_id()`, `user_id = ch_user_id()`],
      ['rls_delete', 'DELETE', `${system('idempotency')} AND expires_at <= now()`, null],
    ],
  },
};

const DEFINER_FUNCTIONS = ['ch_notify(uuid[], text, text, text, text, uuid, text)', 'ch_locate_release(uuid)'];

const FUNCTIONS = `
-- Notifies users (NotificationsService.notify): one notification per active recipient, deduplicated
-- per recipient (<dedupe>:<user id>), and its e-mail in the outbox when p_email_body is given.
-- Allowed for the deadline job and the welcome worker, or a signed-in user about no case or a case they may read.
-- Answers {created, outbox: [{id, attempts, next_attempt_at}]}.
CREATE FUNCTION ch_notify(p_recipients uuid[], p_kind text, p_title text, p_body text, p_dedupe text, p_case uuid, p_email_body text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  out jsonb;
BEGIN
  IF NOT (coalesce(ch_system_context() IN ('deadlines', 'notifications'), false)
          OR (ch_user_role() IS NOT NULL AND (p_case IS NULL OR ch_may_read_case(p_case)))) THEN
    RAISE EXCEPTION 'new row violates row-level security policy for table "notifications"' USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH recipient AS (
    SELECT id, email FROM users WHERE id = ANY (p_recipients) AND disabled_at IS NULL
  ), created AS (
    INSERT INTO notifications (user_id, kind, title, body, dedupe_key, case_id)
    SELECT id, p_kind, p_title, p_body, p_dedupe || ':' || id, p_case FROM recipient
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, user_id
  ), mailed AS (
    INSERT INTO email_outbox (notification_id, to_address, subject, body)
    SELECT created.id, recipient.email, p_title, p_email_body
      FROM created JOIN recipient ON recipient.id = created.user_id
     WHERE p_email_body IS NOT NULL AND recipient.email IS NOT NULL AND recipient.email <> ''
    RETURNING id, attempts, next_attempt_at
  )
  SELECT jsonb_build_object(
           'created', (SELECT count(*) FROM created),
           'outbox', coalesce((SELECT jsonb_agg(jsonb_build_object('id', id, 'attempts', attempts, 'next_attempt_at', next_attempt_at)) FROM mailed), '[]'::jsonb))
    INTO out;
  RETURN out;
END $$;

-- The case of a source identity release the caller's own query did not return (never content):
-- for the audit rule of the refusal. Only inside a request.
CREATE FUNCTION ch_locate_release(p_release uuid) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT case_id FROM source_identity_releases WHERE id = p_release AND ch_user_id() IS NOT NULL
$$;
`;
