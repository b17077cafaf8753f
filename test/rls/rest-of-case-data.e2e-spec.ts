import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { EntityManager } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { actAsSystem, actAsUser, SystemContext } from '../../src/database/row-security';
import { createTestApp, nextTotp, signedIn, TestApp } from '../support/app';
import { expectApiError } from '../support/api-error';
import { freshAuthority, REASON, restrictedCase, RestrictedCase } from '../break-glass/fixtures';
import { usedAllBut } from './authorities';
import { asSystemIn, asUserIn, countRows } from './service-role';

/*
 * Row-level security on the rest of the tables that hold case data or point at a case
 * (migrations/1764381800000-RowLevelSecurityRest.ts), seen from the database: the service's own
 * role with no settings, with the settings of a user who may not see a row (no rows, writes
 * refused) and of one who may (their rows), and with each system context. Fixtures are written
 * as the owner; every assertion is made through the service's role.
 */
jest.setTimeout(60_000);

const TABLES = [
  'source_identity_releases', 'break_glass_grants', 'retention_reviews', 'notifications',
  'deletion_certificates', 'data_keys', 'deadline_reminders', 'idempotency_keys',
];
const RLS = /row-level security/;
const RELEASE_REASON = 'The case officer must call the source back about the referral';

type Person = Awaited<ReturnType<typeof signedIn>>;

describe('row-level security on the rest of the case data', () => {
  let t: TestApp;
  let officer: Person;
  let otherOfficer: Person;
  let outsider: Person;
  let glass: Person;
  let managerA: Person;
  let peer: Person;
  let auditor: Person;
  /** Restricted to its team (teamOfficer), restricted by its setter; glass holds a break-glass grant on it. */
  let r: RestrictedCase;
  let releaseId: string;
  let grantId: string;
  let pendingReview: string;
  let spareDestroyedReview: string;
  let certificateId: string;
  let deadlineId: string;
  let reminderId: string;
  let teamNotification: string;
  let officerNotification: string;
  /** An unrestricted case, with a release asked for to otherOfficer. */
  let open: { caseId: string; concernId: string; releaseId: string };

  const asUser = <T>(userId: string, work: (m: EntityManager) => Promise<T>): Promise<T> => asUserIn(t.ds, userId, work);
  const asSystem = <T>(context: SystemContext, work: (m: EntityManager) => Promise<T>): Promise<T> => asSystemIn(t.ds, context, work);
  const count = countRows;
  /** Rows an UPDATE or DELETE touched (TypeORM answers [rows, count]). */
  const changed = async (m: EntityManager, sql: string, params: unknown[]): Promise<number> => (await m.query(sql, params))[1];
  const post = (who: Person, path: string, body: Record<string, unknown>) => request(t.http).post(path).set(who.auth).send(body);

  beforeAll(async () => {
    t = await createTestApp();
    const used = await usedAllBut(t);
    [officer, otherOfficer, outsider, glass, managerA, peer, auditor] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Logging officer' }), signedIn(t, Role.ClearingHouseOfficer, { name: 'Other officer' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Outside manager' }), signedIn(t, Role.ClearingHouseManager, { name: 'Break-glass manager' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Manager A' }), signedIn(t, Role.LeadPoliticalPeer), signedIn(t, Role.Auditor),
    ]);
    r = await restrictedCase(t, used, officer);
    const asked = await post(r.setter, `/concerns/${r.concernId}/source-identity/releases`, { releasedToUserId: r.teamOfficer.id, reason: RELEASE_REASON });
    expect(asked.status).toBe(201);
    releaseId = asked.body.id;
    const granted = await post(glass, `/cases/${r.id}/break-glass`, { reason: REASON, code: nextTotp(glass.email) });
    expect(granted.status).toBe(201);
    grantId = granted.body.id;

    const logged = await post(officer, '/concerns', {
      authority: await freshAuthority(t, used),
      receivedOn: '2026-11-02', channel: 'sector_intelligence', area: 'finance', description: 'A second concern', source: { name: 'Sam Source' },
    });
    expect(logged.status).toBe(201);
    const openAsked = await post(managerA, `/concerns/${logged.body.concern.id}/source-identity/releases`, { releasedToUserId: otherOfficer.id, reason: RELEASE_REASON });
    expect(openAsked.status).toBe(201);
    open = { caseId: logged.body.case.id, concernId: logged.body.concern.id, releaseId: openAsked.body.id };

    // Fixtures the API makes only through long journeys (a closed case due for destruction, a sent reminder): as the owner.
    const review = (status: string) => t.owner.query(
      `INSERT INTO retention_reviews (case_id, due_on, rule, status, decided_by, decided_at) VALUES ($1, current_date, 'rls test: 6 years after closure', $2, $3, $4) RETURNING id`,
      [r.id, status, status === 'pending' ? null : r.setter.id, status === 'pending' ? null : new Date()]);
    [{ id: pendingReview }] = await review('pending');
    const [{ id: destroyedReview }] = await review('destroyed');
    [{ id: spareDestroyedReview }] = await review('destroyed');
    certificateId = randomUUID();
    await t.owner.query(
      `INSERT INTO deletion_certificates (id, case_id, review_id, certificate, certificate_hash, issued_at) VALUES ($1, $2, $3, '{}', sha256('rls test'::bytea), now())`,
      [certificateId, r.id, destroyedReview]);
    [{ id: deadlineId }] = await t.owner.query(
      `INSERT INTO case_deadlines (case_id, kind, source_id, due_on, warn_on) VALUES ($1, 'triage', gen_random_uuid(), '2099-01-10', '2099-01-05') RETURNING id`, [r.id]);
    [{ id: reminderId }] = await t.owner.query(`INSERT INTO deadline_reminders (deadline_id, kind, sent_at) VALUES ($1, 'approaching', now()) RETURNING id`, [deadlineId]);
    [{ id: teamNotification }] = await t.owner.query(
      `INSERT INTO notifications (user_id, kind, title, body, dedupe_key, case_id) VALUES ($1, 'escalation', 'Escalation', 'A deadline was missed', $2, $3) RETURNING id`,
      [r.teamOfficer.id, `rls:${randomUUID()}`, r.id]);
    [{ id: officerNotification }] = await t.owner.query(
      `INSERT INTO notifications (user_id, kind, title, body, dedupe_key) VALUES ($1, 'welcome', 'Welcome', 'Welcome to the clearing house', $2) RETURNING id`,
      [officer.id, `rls:${randomUUID()}`]);
    for (const who of [officer, r.teamOfficer]) {
      await t.owner.query(
        `INSERT INTO idempotency_keys (user_id, key, request_hash, resource_type, resource_id, expires_at) VALUES ($1, $2, sha256('rls'::bytea), 'concern', gen_random_uuid(), now() + interval '1 day')`,
        [who.id, `rls-${randomUUID()}`]);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('has RLS enabled and forced on each of these tables', async () => {
    const rows: Array<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }> = await t.owner.query(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY ($1) AND relkind = 'r' ORDER BY relname`, [TABLES]);
    expect(rows.map((x) => x.relname).sort()).toEqual([...TABLES].sort());
    for (const row of rows) expect(row).toEqual({ relname: row.relname, relrowsecurity: true, relforcerowsecurity: true });
  });

  it('shows the service role nothing without settings, or with the id of no user; and refuses its writes', async () => {
    for (const table of TABLES) {
      expect(await count(t.owner, table)).toBeGreaterThan(0);
      expect(await count(t.ds, table)).toBe(0);
      expect(await asUser('00000000-0000-0000-0000-000000000000', (m) => count(m, table))).toBe(0);
    }
    const inserts: Array<[string, unknown[]]> = [
      [`INSERT INTO source_identity_releases (concern_id, case_id, requested_by, released_to, reason) VALUES ($1, $2, $3, $4, $5)`, [r.concernId, r.id, r.setter.id, officer.id, RELEASE_REASON]],
      [`INSERT INTO break_glass_grants (case_id, user_id, reason, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour')`, [r.id, outsider.id, REASON]],
      [`INSERT INTO retention_reviews (case_id, due_on, rule, status) VALUES ($1, current_date, 'x', 'pending')`, [open.caseId]],
      [`INSERT INTO notifications (user_id, kind, title, body, dedupe_key) VALUES ($1, 'welcome', 'x', 'x', $2)`, [officer.id, `rls:${randomUUID()}`]],
      [`INSERT INTO deletion_certificates (id, case_id, review_id, certificate, certificate_hash, issued_at) VALUES (gen_random_uuid(), $1, $2, '{}', sha256('x'::bytea), now())`, [r.id, spareDestroyedReview]],
      [`INSERT INTO data_keys (id, case_id, version, state) VALUES (gen_random_uuid(), $1, 99, 'retired')`, [r.id]],
      [`INSERT INTO deadline_reminders (deadline_id, kind, sent_at) VALUES ($1, 'missed', now())`, [deadlineId]],
      [`INSERT INTO idempotency_keys (user_id, key, request_hash, resource_type, resource_id, expires_at) VALUES ($1, 'k', sha256('x'::bytea), 'concern', gen_random_uuid(), now() + interval '1 day')`, [officer.id]],
    ];
    for (const [sql, params] of inserts) await expect(t.ds.query(sql, params)).rejects.toThrow(RLS);
    // Nor can anyone be notified without a user or the deadline job behind it.
    await expect(t.ds.query(`SELECT ch_notify(ARRAY[$1::uuid], 'escalation', 'x', 'x', $2, NULL, NULL)`, [officer.id, `rls:${randomUUID()}`])).rejects.toThrow(RLS);
  });

  it("source identity releases: the managers who may see the case and the colleague it is for; written by a manager who may change the case", async () => {
    const releases = (m: EntityManager) => count(m, 'source_identity_releases', 'id = ANY ($1::uuid[])', [[releaseId, open.releaseId]]);
    // Allowed: the manager who asked, any manager who sees the unrestricted case, each colleague their own.
    expect(await asUser(r.setter.id, (m) => count(m, 'source_identity_releases', 'id = $1', [releaseId]))).toBe(1);
    expect(await asUser(managerA.id, releases)).toBe(1);
    expect(await asUser(r.teamOfficer.id, releases)).toBe(1);
    expect(await asUser(otherOfficer.id, releases)).toBe(1);
    // Refused: an officer who sees the case but is not the colleague; a manager outside the restricted case (who sees the other); a peer; an auditor in person.
    expect(await asUser(officer.id, releases)).toBe(0);
    expect(await asUser(outsider.id, (m) => count(m, 'source_identity_releases', 'id = $1', [releaseId]))).toBe(0);
    expect(await asUser(outsider.id, (m) => count(m, 'source_identity_releases', 'id = $1', [open.releaseId]))).toBe(1);
    expect(await asUser(peer.id, releases)).toBe(0);
    expect(await asUser(auditor.id, releases)).toBe(0);
    // The auditors' listing reads them all; no other system context does.
    expect(await asSystem(SystemContext.Audit, releases)).toBe(2);
    for (const context of [SystemContext.Retention, SystemContext.Deadlines, SystemContext.Encryption, SystemContext.BreakGlassReview]) {
      expect(await asSystem(context, releases)).toBe(0);
    }

    const ask = (m: EntityManager, by: Person, to: Person) => m.query(
      `INSERT INTO source_identity_releases (concern_id, case_id, requested_by, released_to, reason) VALUES ($1, $2, $3, $4, $5)`, [r.concernId, r.id, by.id, to.id, RELEASE_REASON]);
    await expect(asUser(outsider.id, (m) => ask(m, outsider, officer))).rejects.toThrow(RLS);
    await expect(asUser(r.teamOfficer.id, (m) => ask(m, r.teamOfficer, officer))).rejects.toThrow(RLS);
    await expect(asUser(r.setter.id, (m) => ask(m, managerA, officer))).rejects.toThrow(RLS);
    // Under break-glass: read, never written.
    expect(await asUser(glass.id, (m) => count(m, 'source_identity_releases', 'id = $1', [releaseId]))).toBe(1);
    await expect(asUser(glass.id, (m) => ask(m, glass, officer))).rejects.toThrow(RLS);
    const revoke = (m: EntityManager, by: Person) => changed(m,
      `UPDATE source_identity_releases SET state = 'revoked', revoked_by = $2, revoked_at = now(), revoke_reason = 'No longer needed' WHERE id = $1`, [releaseId, by.id]);
    await expect(asUser(glass.id, (m) => revoke(m, glass))).rejects.toThrow(RLS);
    await expect(asUser(r.teamOfficer.id, (m) => revoke(m, r.teamOfficer))).rejects.toThrow(RLS);
    expect(await asUser(outsider.id, (m) => revoke(m, outsider))).toBe(0);
    expect(await asUser(r.setter.id, (m) => revoke(m, r.setter))).toBe(1);
    await expect(asUser(r.setter.id, (m) => ask(m, r.setter, officer))).resolves.toBeDefined();
  });

  it('a release hidden by the database answers 404 like a missing one, and the audit record names the rule that hid its case', async () => {
    const hidden = await post(outsider, `/source-identity/releases/${releaseId}/approve`, {});
    const missing = await post(outsider, `/source-identity/releases/${randomUUID()}/approve`, {});
    expectApiError(hidden, 404, 'NOT_FOUND');
    expect({ ...hidden.body, requestId: undefined }).toEqual({ ...missing.body, requestId: undefined });
    const [audit] = await t.owner.query(`SELECT outcome, rule, case_id FROM audit_events WHERE request_id = $1`, [hidden.headers['x-request-id']]);
    expect(audit).toEqual({ outcome: 'denied', rule: 'restricted_to_team', case_id: r.id });
  });

  it('break-glass grants: the holder, managers who may see the case, the auditors\' queue; taken only on a case one could not see; reviewed only in the queue', async () => {
    const grants = (m: EntityManager) => count(m, 'break_glass_grants', 'id = $1', [grantId]);
    expect(await asUser(glass.id, grants)).toBe(1);
    expect(await asUser(r.setter.id, grants)).toBe(1);
    expect(await asSystem(SystemContext.BreakGlassReview, grants)).toBe(1);
    for (const who of [r.teamOfficer, outsider, officer, auditor, peer]) expect(await asUser(who.id, grants)).toBe(0);
    expect(await asSystem(SystemContext.Audit, grants)).toBe(0);

    const take = (m: EntityManager, who: Person, caseId = r.id) =>
      m.query(`INSERT INTO break_glass_grants (case_id, user_id, reason, expires_at) VALUES ($1, $2, $3, now() + interval '1 hour') RETURNING id`, [caseId, who.id, REASON]);
    await expect(asUser(outsider.id, (m) => take(m, glass))).rejects.toThrow(RLS); // in another's name
    await expect(asUser(r.teamOfficer.id, (m) => take(m, r.teamOfficer))).rejects.toThrow(RLS); // not a manager
    await expect(asUser(r.setter.id, (m) => take(m, r.setter))).rejects.toThrow(RLS); // sees the case already
    await expect(asUser(glass.id, (m) => take(m, glass))).rejects.toThrow(RLS); // holds a live grant
    await expect(asUser(outsider.id, (m) => take(m, outsider, open.caseId))).rejects.toThrow(RLS); // not restricted
    expect(await asUser(outsider.id, (m) => take(m, outsider))).toHaveLength(1);

    const review = (m: EntityManager, by: Person) => changed(m,
      `UPDATE break_glass_grants SET reviewed_by = $2, reviewed_at = now(), review_note = 'Reviewed: justified' WHERE id = $1`, [grantId, by.id]);
    expect(await asUser(r.setter.id, (m) => review(m, auditor))).toBe(0);
    expect(await asUser(glass.id, (m) => review(m, auditor))).toBe(0);
    await expect(asSystem(SystemContext.BreakGlassReview, (m) => review(m, r.setter))).rejects.toThrow(RLS);
    expect(await asSystem(SystemContext.BreakGlassReview, (m) => review(m, auditor))).toBe(1);
  });

  it('retention reviews: listed by the job, seen by managers, decided by a manager who may change the case', async () => {
    const reviews = (m: EntityManager) => count(m, 'retention_reviews', 'id = $1', [pendingReview]);
    expect(await asSystem(SystemContext.Retention, reviews)).toBe(1);
    for (const who of [r.setter, outsider, managerA]) expect(await asUser(who.id, reviews)).toBe(1);
    for (const who of [r.teamOfficer, officer, auditor, peer]) expect(await asUser(who.id, reviews)).toBe(0);
    expect(await asSystem(SystemContext.Audit, reviews)).toBe(0);

    const cancel = (m: EntityManager, by: Person) => changed(m,
      `UPDATE retention_reviews SET status = 'cancelled', decided_by = $2, decided_at = now(), decision_reason = 'legal hold' WHERE id = $1`, [pendingReview, by.id]);
    expect(await asUser(r.teamOfficer.id, (m) => cancel(m, r.teamOfficer))).toBe(0);
    await expect(asUser(outsider.id, (m) => cancel(m, outsider))).rejects.toThrow(RLS);
    await expect(asUser(glass.id, (m) => cancel(m, glass))).rejects.toThrow(RLS);
    expect(await asUser(r.setter.id, (m) => cancel(m, r.setter))).toBe(1);
    const list = (m: EntityManager) => m.query(`INSERT INTO retention_reviews (case_id, due_on, rule, status) VALUES ($1, current_date, 'x', 'pending')`, [open.caseId]);
    await expect(asUser(managerA.id, list)).rejects.toThrow(RLS);
    await expect(asSystem(SystemContext.Retention, list)).resolves.toBeDefined();
  });

  it('deletion certificates: the auditors and whoever may read the case; issued only for a destruction, by a manager who may change the case', async () => {
    const certificates = (m: EntityManager) => count(m, 'deletion_certificates', 'id = $1', [certificateId]);
    expect(await asSystem(SystemContext.Audit, certificates)).toBe(1);
    for (const who of [r.setter, r.teamOfficer, glass]) expect(await asUser(who.id, certificates)).toBe(1);
    for (const who of [outsider, officer, auditor, peer]) expect(await asUser(who.id, certificates)).toBe(0);
    expect(await asSystem(SystemContext.Retention, certificates)).toBe(0);

    const issue = (m: EntityManager, review: string) => m.query(
      `INSERT INTO deletion_certificates (id, case_id, review_id, certificate, certificate_hash, issued_at) VALUES (gen_random_uuid(), $1, $2, '{}', sha256('x'::bytea), now())`, [r.id, review]);
    await expect(asUser(outsider.id, (m) => issue(m, spareDestroyedReview))).rejects.toThrow(RLS);
    await expect(asUser(r.teamOfficer.id, (m) => issue(m, spareDestroyedReview))).rejects.toThrow(RLS);
    await expect(asUser(r.setter.id, (m) => issue(m, pendingReview))).rejects.toThrow(RLS); // nothing was destroyed
    await expect(asUser(r.setter.id, (m) => issue(m, spareDestroyedReview))).resolves.toBeDefined();
  });

  it('data keys: whoever may read the case and the re-encryption job; a new active key by whoever may write to the case', async () => {
    const keys = (m: EntityManager) => count(m, 'data_keys', 'case_id = $1', [r.id]);
    expect(await count(t.owner, 'data_keys', 'case_id = $1', [r.id])).toBeGreaterThan(0);
    for (const who of [r.teamOfficer, r.setter, glass]) expect(await asUser(who.id, keys)).toBeGreaterThan(0);
    for (const who of [officer, outsider, auditor, peer]) expect(await asUser(who.id, keys)).toBe(0);
    expect(await asSystem(SystemContext.Encryption, keys)).toBeGreaterThan(0);
    for (const context of [SystemContext.Retention, SystemContext.Statistics, SystemContext.Deadlines, SystemContext.Audit]) expect(await asSystem(context, keys)).toBe(0);

    const insert = (m: EntityManager, state: string) => m.query(
      `INSERT INTO data_keys (id, case_id, version, state, wrapped_key, master_key_id) VALUES (gen_random_uuid(), $1, 99, $2, decode(repeat('00', 60), 'hex'), 'rls-test')`, [r.id, state]);
    await expect(asUser(outsider.id, (m) => insert(m, 'active'))).rejects.toThrow(RLS);
    await expect(asUser(glass.id, (m) => insert(m, 'active'))).rejects.toThrow(RLS);
    // Retiring a key is the owner's (a rotation from the command line), never the service's.
    await expect(asUser(r.teamOfficer.id, (m) => insert(m, 'retiring'))).rejects.toThrow(RLS);
    // A case without an active key (its keys destroyed, as retention does): whoever writes to it next creates one.
    await t.owner.query(`UPDATE data_keys SET state = 'destroyed', wrapped_key = NULL, master_key_id = NULL, destroyed_at = now() WHERE case_id = $1`, [open.caseId]);
    const insertOpen = (m: EntityManager) => m.query(
      `INSERT INTO data_keys (id, case_id, version, state, wrapped_key, master_key_id) VALUES (gen_random_uuid(), $1, 99, 'active', decode(repeat('00', 60), 'hex'), 'rls-test') RETURNING id`, [open.caseId]);
    expect(await asUser(officer.id, insertOpen)).toHaveLength(1);
    expect(await asSystem(SystemContext.Encryption, insertOpen)).toHaveLength(1);
    await expect(asUser(peer.id, insertOpen)).rejects.toThrow(RLS);
  });

  it('deadline reminders: whoever may see the deadline; written by the deadline job only', async () => {
    const reminders = (m: EntityManager) => count(m, 'deadline_reminders', 'id = $1', [reminderId]);
    expect(await asSystem(SystemContext.Deadlines, reminders)).toBe(1);
    for (const who of [r.teamOfficer, r.setter]) expect(await asUser(who.id, reminders)).toBe(1);
    for (const who of [officer, outsider, auditor, peer]) expect(await asUser(who.id, reminders)).toBe(0);
    expect(await asSystem(SystemContext.Statistics, reminders)).toBe(0);

    const send = (m: EntityManager) => m.query(`INSERT INTO deadline_reminders (deadline_id, kind, sent_at) VALUES ($1, 'missed', now())`, [deadlineId]);
    await expect(asUser(r.teamOfficer.id, send)).rejects.toThrow(RLS);
    await expect(asSystem(SystemContext.Deadlines, send)).resolves.toBeDefined();
    const recount = (m: EntityManager) => changed(m, `UPDATE deadline_reminders SET notifications = 7 WHERE id = $1`, [reminderId]);
    expect(await asUser(r.teamOfficer.id, recount)).toBe(0);
    expect(await asSystem(SystemContext.Deadlines, recount)).toBe(1);
  });

  it('notifications: their own user only; written for others only through ch_notify, by the deadline job or a user who may read the case', async () => {
    const mine = (id: string) => (m: EntityManager) => count(m, 'notifications', 'id = $1', [id]);
    expect(await asUser(r.teamOfficer.id, mine(teamNotification))).toBe(1);
    expect(await asUser(officer.id, mine(officerNotification))).toBe(1);
    for (const who of [r.setter, officer, glass, auditor]) expect(await asUser(who.id, mine(teamNotification))).toBe(0);
    expect(await asUser(r.teamOfficer.id, mine(officerNotification))).toBe(0);
    for (const context of Object.values(SystemContext)) expect(await asSystem(context, mine(teamNotification))).toBe(0);

    const markRead = (id: string) => (m: EntityManager) => changed(m, `UPDATE notifications SET read_at = now() WHERE id = $1`, [id]);
    expect(await asUser(officer.id, markRead(teamNotification))).toBe(0);
    expect(await asUser(r.teamOfficer.id, markRead(teamNotification))).toBe(1);
    await expect(asUser(officer.id, (m) => m.query(
      `INSERT INTO notifications (user_id, kind, title, body, dedupe_key) VALUES ($1, 'welcome', 'x', 'x', $2)`, [officer.id, `rls:${randomUUID()}`]))).rejects.toThrow(RLS);

    const notify = (caseId: string | null) => (m: EntityManager) => m.query(
      `SELECT (ch_notify(ARRAY[$1::uuid], 'escalation', 'Escalation', 'A deadline was missed', $2, $3::uuid, NULL) ->> 'created')::int AS created`,
      [r.teamOfficer.id, `rls:${randomUUID()}`, caseId]);
    // About a case one may not read: refused.
    await expect(asUser(officer.id, notify(r.id))).rejects.toThrow(RLS);
    await expect(asUser(outsider.id, notify(r.id))).rejects.toThrow(RLS);
    await expect(asSystem(SystemContext.Statistics, notify(r.id))).rejects.toThrow(RLS);
    // Allowed, and the writer still cannot read what it wrote into someone else's inbox.
    expect(await asUser(r.setter.id, async (m) => {
      const [{ created }] = await notify(r.id)(m);
      return [created, await count(m, 'notifications', 'user_id = $1', [r.teamOfficer.id])];
    })).toEqual([1, 0]);
    expect((await asSystem(SystemContext.Deadlines, notify(r.id)))[0].created).toBe(1);
    expect((await asUser(officer.id, notify(null)))[0].created).toBe(1);
  });

  it('idempotency keys: their own user only; the purge sees and deletes expired keys only', async () => {
    const keysOf = (who: Person) => (m: EntityManager) => count(m, 'idempotency_keys', 'user_id = $1', [who.id]);
    expect(await asUser(officer.id, keysOf(officer))).toBe(1);
    expect(await asUser(officer.id, keysOf(r.teamOfficer))).toBe(0);
    expect(await asUser(r.teamOfficer.id, keysOf(officer))).toBe(0);
    const insert = (who: Person, expired: boolean) => (m: EntityManager) => m.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, resource_type, resource_id, created_at, expires_at)
       VALUES ($1, $2, sha256('x'::bytea), 'concern', gen_random_uuid(), now() - interval '2 days', now() + ($3::int * interval '1 day'))`,
      [who.id, `rls-${randomUUID()}`, expired ? -1 : 1]);
    await expect(asUser(officer.id, insert(r.teamOfficer, false))).rejects.toThrow(RLS);
    expect(await asUser(officer.id, (m) => changed(m, `DELETE FROM idempotency_keys WHERE user_id = $1`, [officer.id]))).toBe(0);
    // An expired key written in the same transaction (so no other file's purge can take it first), then the purge's view of it.
    const [seen, purged, left] = await asUser(officer.id, async (m) => {
      await insert(officer, true)(m);
      await actAsSystem(m, SystemContext.Idempotency);
      const visible = await count(m, 'idempotency_keys', 'user_id = ANY ($1::uuid[])', [[officer.id, r.teamOfficer.id]]);
      const deleted = await changed(m, `DELETE FROM idempotency_keys WHERE user_id = ANY ($1::uuid[])`, [[officer.id, r.teamOfficer.id]]);
      await actAsUser(m, officer.id);
      return [visible, deleted, await count(m, 'idempotency_keys', 'user_id = $1', [officer.id])];
    });
    expect([seen, purged, left]).toEqual([1, 1, 1]);
  });
});
