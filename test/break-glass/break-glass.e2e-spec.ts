import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { inSystemContext, SystemContext } from '../../src/database/row-security';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, mfaOf, nextTotp, ownerDataSource, signedIn, TestApp } from '../support/app';
import { auditOf, wrongTotp } from '../mfa/mfa-helpers';
import { CONCERN_TEXT, Person, REASON, restrictedCase, SOURCE_NAME } from './fixtures';

describe('break-glass access to a restricted case', () => {
  let t: TestApp;
  let logger: Person;
  let auditors: Person[];
  const used = new Set<string>();
  beforeAll(async () => {
    t = await createTestApp();
    logger = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Logging officer' });
    auditors = [await signedIn(t, Role.Auditor, { name: 'Auditor One' }), await signedIn(t, Role.Auditor, { name: 'Auditor Two' })];
  });
  afterAll(async () => {
    await t.close();
  });

  /** A manager with a confirmed second factor (enrolled by the helpers), not on any team. */
  const newManager = () => signedIn(t, Role.ClearingHouseManager, { name: `Manager ${randomUUID().slice(0, 4)}` });
  const breakGlass = (who: Person, caseRef: string, body: Record<string, unknown>) => request(t.http).post(`/cases/${caseRef}/break-glass`).set(who.auth).send(body);
  const get = (path: string, who: Person) => request(t.http).get(path).set(who.auth);
  const failuresOf = async (email: string) => (await t.ds.query(`SELECT failures FROM sign_in_locks WHERE email_key = $1`, [email]))[0]?.failures ?? 0;

  it('needs a reason of at least 20 characters and a six-digit code', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const short = await breakGlass(manager, c.id, { reason: 'too short a reason', code: '123456' });
    expectApiError(short, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(short)).toEqual(['reason']);
    const blank = await breakGlass(manager, c.id, { reason: `   ${'x'.repeat(10)}          `, code: '123456' });
    expect(fieldsOf(blank)).toEqual(['reason']);
    expect(fieldsOf(await breakGlass(manager, c.id, { reason: REASON }))).toEqual(['code']);
    expect(fieldsOf(await breakGlass(manager, c.id, { reason: REASON, code: '12345a' }))).toEqual(['code']);
    expectApiError(await get(`/cases/${c.id}`, manager), 404, 'NOT_FOUND');
    expect(await t.owner.query(`SELECT 1 FROM break_glass_grants WHERE case_id = $1`, [c.id])).toEqual([]);
  });

  it('refuses a wrong code with 403, audited with the reason, counted towards the lock-out; the case stays hidden', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const res = await breakGlass(manager, c.id, { reason: REASON, code: wrongTotp(mfaOf(manager.email)!.secret) });
    expectApiError(res, 403, 'FORBIDDEN');
    expect(await failuresOf(manager.email)).toBe(1);
    expect(await auditOf(t, { actorId: manager.id, caseId: c.id })).toContainEqual(
      expect.objectContaining({ action: 'break_glass', outcome: 'denied', rule: 'break_glass:wrong_code', justification: REASON, resource_type: 'case' }),
    );
    expectApiError(await get(`/cases/${c.id}`, manager), 404, 'NOT_FOUND');
    expect(await t.owner.query(`SELECT 1 FROM break_glass_grants WHERE case_id = $1`, [c.id])).toEqual([]);
  });

  it('grants a manager read access for BREAK_GLASS_MINUTES, never the source, every use and read audited under rule break_glass', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const granted = await breakGlass(manager, c.reference, { reason: REASON, code: nextTotp(manager.email) });
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({ id: expect.any(String), caseId: c.id, caseReference: c.reference, reason: REASON, grantedAt: expect.any(String), expiresAt: expect.any(String) });
    const minutes = (new Date(granted.body.expiresAt).getTime() - new Date(granted.body.grantedAt).getTime()) / 60_000;
    expect(minutes).toBe(60);
    const [stored] = await t.owner.query(`SELECT case_id, user_id, reason, reviewed_at FROM break_glass_grants WHERE id = $1`, [granted.body.id]);
    expect(stored).toEqual({ case_id: c.id, user_id: manager.id, reason: REASON, reviewed_at: null });

    // The case, its history, the concern and the list: readable, without the source.
    const kase = await get(`/cases/${c.id}`, manager);
    expect(kase.status).toBe(200);
    expect(kase.body).toMatchObject({ id: c.id, readViaBreakGlass: true, availableMoves: [] });
    expect(kase.body.concerns).toHaveLength(1);
    expect(kase.body.concerns[0]).toMatchObject({ description: CONCERN_TEXT, hasSource: true });
    expect(kase.body.concerns[0]).not.toHaveProperty('source');
    expect(JSON.stringify(kase.body)).not.toContain(SOURCE_NAME);
    const concern = await get(`/concerns/${c.concernId}`, manager);
    expect(concern.status).toBe(200);
    expect(concern.body).not.toHaveProperty('source');
    expect((await get(`/cases/${c.id}/history`, manager)).status).toBe(200);
    const list = await get(`/cases?authority=${c.authority}`, manager);
    expect(list.body).toMatchObject({ total: 1, items: [expect.objectContaining({ id: c.id })] });

    const trail = await auditOf(t, { actorId: manager.id, caseId: c.id });
    expect(trail).toContainEqual(
      expect.objectContaining({ action: 'break_glass', outcome: 'allowed', rule: 'break_glass', justification: REASON, resource_type: 'case', resource_id: c.id }),
    );
    const reads = trail.filter((a) => a.outcome === 'allowed' && a.action !== 'break_glass');
    expect(reads.map((a) => `${a.action}:${a.resource_type}`).sort()).toEqual(['list:case', 'read:case', 'read:concern', 'read:history'].sort());
    expect(new Set(reads.map((a) => a.rule))).toEqual(new Set(['break_glass']));
    // The source was never disclosed, so never recorded as read.
    expect(trail.filter((a) => a.resource_type === 'concern_source')).toEqual([]);
    // Nor can it be asked for: a reveal with a reason, or a read under a release, is refused under break-glass (403, audited).
    for (const res of [
      await request(t.http).post(`/concerns/${c.concernId}/source-identity/reveal`).set(manager.auth).send({ reason: REASON }),
      await get(`/concerns/${c.concernId}/source-identity`, manager),
    ]) {
      expectApiError(res, 403, 'FORBIDDEN');
      expect(JSON.stringify(res.body)).not.toContain(SOURCE_NAME);
    }
    expect((await auditOf(t, { actorId: manager.id, caseId: c.id })).filter((a) => a.resource_type === 'concern_source')).toEqual([
      expect.objectContaining({ action: 'source_identity_reveal', outcome: 'denied', rule: 'source_not_under_break_glass', justification: REASON }),
      expect.objectContaining({ action: 'read', outcome: 'denied', rule: 'source_not_under_break_glass' }),
    ]);
  });

  it('reads only: changes under a grant are forbidden', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    expect((await breakGlass(manager, c.id, { reason: REASON, code: nextTotp(manager.email) })).status).toBe(201);
    const version = (await get(`/cases/${c.id}`, manager)).body.version;
    const attempts = [
      request(t.http).post(`/cases/${c.id}/moves`).set(manager.auth).send({ move: 'start_triage', version }),
      request(t.http).put(`/cases/${c.id}/restriction`).set(manager.auth).send({ restricted: false, version }),
      request(t.http).post(`/cases/${c.id}/team`).set(manager.auth).send({ userId: manager.id, teamRole: 'case_lead' }),
      request(t.http).post(`/cases/${c.id}/conversations`).set(manager.auth).send({
        kind: 'call', heldOn: '2026-11-02', summary: 'A call', handling: 'normal',
      }),
    ];
    for (const attempt of attempts) expectApiError(await attempt, 403, 'FORBIDDEN');
    const refused = (await auditOf(t, { actorId: manager.id, caseId: c.id })).filter((a) => a.outcome === 'denied').map((a) => a.rule);
    expect(refused).toEqual(['break_glass_read_only', 'break_glass_read_only', 'break_glass_read_only', 'break_glass_read_only']);
    expect((await get(`/cases/${c.id}`, c.setter)).body).toMatchObject({ state: 'concern_raised', restriction: { restrictedToTeam: true } });
  });

  it('refuses a replayed code (403, audited), even on another case', async () => {
    const first = await restrictedCase(t, used, logger);
    const second = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const code = nextTotp(manager.email)!;
    expect((await breakGlass(manager, first.id, { reason: REASON, code })).status).toBe(201);
    expectApiError(await breakGlass(manager, second.id, { reason: REASON, code }), 403, 'FORBIDDEN');
    expect(await auditOf(t, { actorId: manager.id, caseId: second.id })).toContainEqual(
      expect.objectContaining({ action: 'break_glass', outcome: 'denied', rule: 'break_glass:replayed_code' }),
    );
    expectApiError(await get(`/cases/${second.id}`, manager), 404, 'NOT_FOUND');
  });

  it('answers 404 again once the grant has expired', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const granted = await breakGlass(manager, c.id, { reason: REASON, code: nextTotp(manager.email) });
    expect((await get(`/cases/${c.id}`, manager)).status).toBe(200);
    const owner = await ownerDataSource();
    try {
      await owner.query(`UPDATE break_glass_grants SET expires_at = now() - interval '1 second' WHERE id = $1`, [granted.body.id]);
    } finally {
      await owner.destroy();
    }
    expectApiError(await get(`/cases/${c.id}`, manager), 404, 'NOT_FOUND');
    expectApiError(await get(`/concerns/${c.concernId}`, manager), 404, 'NOT_FOUND');
    expect((await get(`/cases?authority=${c.authority}`, manager)).body.total).toBe(0);
    expect((await auditOf(t, { actorId: manager.id, caseId: c.id })).at(-1)).toMatchObject({ outcome: 'denied', rule: 'restricted_to_team' });
  });

  it('is for managers only, for restricted cases they cannot otherwise see, once at a time', async () => {
    const c = await restrictedCase(t, used, logger);
    // An officer: 403, audited.
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    expectApiError(await breakGlass(officer, c.id, { reason: REASON, code: '123456' }), 403, 'FORBIDDEN');
    expect(await auditOf(t, { actorId: officer.id, caseId: c.id })).toContainEqual(expect.objectContaining({ action: 'break_glass', rule: 'break_glass:managers_only' }));
    // An auditor or administrator never reads case content.
    expectApiError(await breakGlass(auditors[0], c.id, { reason: REASON, code: '123456' }), 403, 'FORBIDDEN');
    // The manager who restricted it already sees it.
    const notNeeded = await breakGlass(c.setter, c.id, { reason: REASON, code: nextTotp(c.setter.email) });
    expectApiError(notNeeded, 422, 'PRECONDITION_FAILED');
    expect(notNeeded.body.details).toEqual({ precondition: 'case_hidden_from_you' });
    // A case that is not restricted.
    const open = await restrictedCase(t, used, logger, { restrict: false });
    const manager = await newManager();
    expectApiError(await breakGlass(manager, open.id, { reason: REASON, code: nextTotp(manager.email) }), 422, 'PRECONDITION_FAILED');
    // No such case (with a valid code).
    const another = await newManager();
    expectApiError(await breakGlass(another, 'CH-2099-9999', { reason: REASON, code: nextTotp(another.email) }), 404, 'NOT_FOUND');
    // A grant already held.
    const holder = await newManager();
    await t.owner.query(`INSERT INTO break_glass_grants (case_id, user_id, reason, expires_at) VALUES ($1, $2, $3, now() + interval '10 minutes')`, [c.id, holder.id, REASON]);
    const again = await breakGlass(holder, c.id, { reason: REASON, code: nextTotp(holder.email) });
    expectApiError(again, 409, 'CONFLICT');
    expect(again.body.details).toEqual({ expiresAt: expect.any(String) });
  });

  it('tells every auditor in their inbox, naming the case reference and never its content or the reason', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const granted = await breakGlass(manager, c.id, { reason: REASON, code: nextTotp(manager.email) });
    expect(granted.status).toBe(201);
    for (const auditor of auditors) {
      const inbox = await get('/inbox', auditor);
      const item = inbox.body.items.find((i: { kind: string; title: string }) => i.kind === 'break_glass' && i.title.includes(c.reference));
      expect(item).toMatchObject({ title: `Break-glass access to ${c.reference}`, readAt: null });
      expect(item.body).toContain(c.reference);
      for (const secret of [REASON, CONCERN_TEXT, SOURCE_NAME]) expect(JSON.stringify(item)).not.toContain(secret);
    }
    // Nobody else is told.
    const managerInbox = await get('/inbox', manager);
    expect(managerInbox.body.items.filter((i: { kind: string }) => i.kind === 'break_glass')).toEqual([]);
  });

  it('the grant rules hold in the database too: no deleting, no extending, no re-purposing', async () => {
    const c = await restrictedCase(t, used, logger);
    const manager = await newManager();
    const { id } = (await breakGlass(manager, c.id, { reason: REASON, code: nextTotp(manager.email) })).body;
    await expect(t.ds.query(`DELETE FROM break_glass_grants WHERE id = $1`, [id])).rejects.toThrow(/permission denied/);
    await expect(t.ds.query(`UPDATE break_glass_grants SET reason = 'a different reason of enough length' WHERE id = $1`, [id])).rejects.toThrow(/permission denied/);
    // In the auditors' review context, the only one row-level security lets change a grant.
    await expect(inSystemContext(t.ds, SystemContext.BreakGlassReview, (m) => m.query(`UPDATE break_glass_grants SET expires_at = expires_at + interval '1 day' WHERE id = $1`, [id])))
      .rejects.toThrow(/cannot be extended/);
    const owner = await ownerDataSource();
    try {
      await expect(owner.query(`DELETE FROM break_glass_grants WHERE id = $1`, [id])).rejects.toThrow(/immutable/);
      await expect(owner.query(`UPDATE break_glass_grants SET user_id = $2 WHERE id = $1`, [id, c.setter.id])).rejects.toThrow(/re-purposed/);
    } finally {
      await owner.destroy();
    }
  });
});

describe('break-glass with BREAK_GLASS_MINUTES set', () => {
  let t: TestApp;
  const used = new Set<string>();
  beforeAll(async () => {
    t = await createTestApp({ BREAK_GLASS_MINUTES: 5 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('grants access for the configured time', async () => {
    const logger = await signedIn(t, Role.ClearingHouseOfficer);
    const c = await restrictedCase(t, used, logger);
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const granted = await request(t.http).post(`/cases/${c.id}/break-glass`).set(manager.auth).send({ reason: REASON, code: nextTotp(manager.email) });
    expect(granted.status).toBe(201);
    expect((new Date(granted.body.expiresAt).getTime() - new Date(granted.body.grantedAt).getTime()) / 60_000).toBe(5);
    const [row] = await t.owner.query(`SELECT extract(epoch FROM expires_at - granted_at)::int AS seconds FROM break_glass_grants WHERE id = $1`, [granted.body.id]);
    expect(row.seconds).toBe(300);
  });
});

describe("the auditors' break-glass review queue", () => {
  let t: TestApp;
  let auditor: Person;
  const used = new Set<string>();
  beforeAll(async () => {
    t = await createTestApp();
    auditor = await signedIn(t, Role.Auditor);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists grants, unreviewed first, with who, which case, why, until when and the reads under each; a review is recorded once and audited', async () => {
    const queueOf = async (query = '') => {
      const res = await request(t.http).get(`/audit/break-glass?limit=200${query}`).set(auditor.auth);
      expect(res.status).toBe(200);
      return res.body as { items: Array<{ id: string; reviewedAt: string | null }>; total: number; unreviewed: number };
    };
    const before = await queueOf();
    const reviewedBefore = (await queueOf('&reviewed=true')).total;
    const logger = await signedIn(t, Role.ClearingHouseOfficer);
    const grants: Array<{ id: string; reference: string; manager: Person }> = [];
    for (let i = 0; i < 3; i++) {
      const c = await restrictedCase(t, used, logger);
      const manager = await signedIn(t, Role.ClearingHouseManager, { name: `Queue manager ${i}` });
      const res = await request(t.http).post(`/cases/${c.id}/break-glass`).set(manager.auth).send({ reason: `${REASON} (${i})`, code: nextTotp(manager.email) });
      expect(res.status).toBe(201);
      if (i === 0) {
        expect((await request(t.http).get(`/cases/${c.id}`).set(manager.auth)).status).toBe(200);
        expect((await request(t.http).get(`/cases/${c.id}/history`).set(manager.auth)).status).toBe(200);
      }
      grants.push({ id: res.body.id, reference: c.reference, manager });
    }
    const ours = (items: Array<{ id: string }>) => items.map((i) => i.id).filter((id) => grants.some((g) => g.id === id));

    const queue = await queueOf();
    expect(queue).toMatchObject({ total: before.total + 3, unreviewed: before.unreviewed + 3 });
    // Newest first among the unreviewed, and the unreviewed before any reviewed one.
    expect(queue.items.slice(0, 3).map((i) => i.id)).toEqual(grants.map((g) => g.id).reverse());
    const first = queue.items.find((i) => i.id === grants[0].id);
    expect(first).toEqual({
      id: grants[0].id, caseId: expect.any(String), caseReference: grants[0].reference, userId: grants[0].manager.id, userName: 'Queue manager 0',
      reason: `${REASON} (0)`, grantedAt: expect.any(String), expiresAt: expect.any(String), active: true, readsUnderGrant: 2,
      reviewedBy: null, reviewedByName: null, reviewedAt: null, reviewNote: null,
    });

    // Review the newest: it goes below every unreviewed one.
    const reviewed = await request(t.http).post(`/audit/break-glass/${grants[2].id}/review`).set(auditor.auth).send({ note: 'Confirmed with the case lead: justified.' });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body).toMatchObject({ id: grants[2].id, reviewedBy: auditor.id, reviewedAt: expect.any(String), reviewNote: 'Confirmed with the case lead: justified.' });
    const after = await queueOf();
    expect(after).toMatchObject({ total: before.total + 3, unreviewed: before.unreviewed + 2 });
    expect(ours(after.items)).toEqual([grants[1].id, grants[0].id, grants[2].id]);
    const firstReviewed = after.items.findIndex((i) => i.reviewedAt !== null);
    expect(after.items.slice(firstReviewed).every((i) => i.reviewedAt !== null)).toBe(true);
    expect(ours((await queueOf('&reviewed=false')).items)).toEqual([grants[1].id, grants[0].id]);
    expect((await queueOf('&reviewed=true')).total).toBe(reviewedBefore + 1);

    expectApiError(await request(t.http).post(`/audit/break-glass/${grants[2].id}/review`).set(auditor.auth).send({ note: 'Again' }), 409, 'CONFLICT');
    expectApiError(await request(t.http).post(`/audit/break-glass/${randomUUID()}/review`).set(auditor.auth).send({ note: 'Nothing' }), 404, 'NOT_FOUND');
    expectApiError(await request(t.http).post(`/audit/break-glass/${grants[1].id}/review`).set(auditor.auth).send({ note: '' }), 400, 'VALIDATION_FAILED');
    expect(await auditOf(t, { actorId: auditor.id, resourceId: grants[2].id })).toContainEqual(
      expect.objectContaining({ action: 'break_glass_review', outcome: 'allowed', resource_type: 'break_glass_grant' }),
    );
    expect(await auditOf(t, { actorId: auditor.id })).toContainEqual(expect.objectContaining({ action: 'search', resource_type: 'break_glass_grant' }));
  });

  it('is for auditors only', async () => {
    for (const role of [Role.ClearingHouseManager, Role.ClearingHouseOfficer, Role.Administrator]) {
      const who = await signedIn(t, role);
      expectApiError(await request(t.http).get('/audit/break-glass').set(who.auth), 403, 'FORBIDDEN');
      expectApiError(await request(t.http).post(`/audit/break-glass/${randomUUID()}/review`).set(who.auth).send({ note: 'Mine' }), 403, 'FORBIDDEN');
    }
    expectApiError(await request(t.http).get('/audit/break-glass'), 401, 'UNAUTHENTICATED');
  });
});
