import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { drawSample } from '../../src/audit-workbench/access-review-sample';
import { CASE_CONTENT_RESOURCES } from '../../src/audit-workbench/flag-rules';
import { expectApiError, fieldsOf } from '../support/api-error';
import { createTestApp, signedIn, TestApp } from '../support/app';
import { logCase, Person, waitSealed } from './support';

/* Sampled access reviews through the API (who may use them: test/audit-workbench/flags.e2e-spec.ts). */
describe("auditor's workbench: sampled access reviews", () => {
  let t: TestApp;
  let auditor: Person;
  let officer: Person;
  let from: string;
  let to: string;
  let caseId: string;
  const used = new Set<string>();

  beforeAll(async () => {
    t = await createTestApp();
    auditor = await signedIn(t, Role.Auditor);
    officer = await signedIn(t, Role.ClearingHouseOfficer);
    from = new Date(Date.now() - 1_000).toISOString();
    const c = await logCase(t, used, officer);
    caseId = c.id;
    for (let i = 0; i < 3; i++) expect((await request(t.http).get(`/cases/${c.id}`).set(officer.auth)).status).toBe(200);
    await waitSealed(t, [officer.id]);
    to = new Date(Date.now() + 1_000).toISOString();
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (path: string, body: object) => request(t.http).post(path).set(auditor.auth).send(body);

  it('draws a reproducible random sample of the period\'s case accesses, showing who did what (never content)', async () => {
    const created = await post('/audit/access-reviews', { from, to, sampleSize: 3 });
    expect(created.status).toBe(201);
    const review = created.body;
    expect(review).toMatchObject({ state: 'open', sampleSize: 3, seed: expect.stringMatching(/^[0-9a-f]{64}$/), createdBy: auditor.id, undecided: 3 });
    expect(review.populationCount).toBeGreaterThanOrEqual(5); // the officer's case, concern and three reads
    expect(review.items).toHaveLength(3);
    expect(review.items[0]).toMatchObject({ position: 1, decision: null, seq: expect.any(Number), actorId: expect.any(String), caseId: expect.any(String) });
    expect(JSON.stringify(review)).not.toContain('WORKBENCH-SECRET');

    // Anyone with the seed draws the same sample from the same population (accesses sealed up to populationTreeSize).
    const population: Array<{ id: string }> = await t.ds.query(
      `SELECT e.id FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at
        WHERE s.seq <= $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND e.outcome = 'allowed' AND e.actor_id IS NOT NULL
          AND e.case_id IS NOT NULL AND e.resource_type = ANY($4::text[])`,
      [review.populationTreeSize, from, to, CASE_CONTENT_RESOURCES],
    );
    expect(population).toHaveLength(review.populationCount);
    expect(review.items.map((i: { eventId: string }) => i.eventId)).toEqual(drawSample(review.seed, population.map((p) => p.id), 3));

    const seeded = await post('/audit/access-reviews', { from, to, sampleSize: 2, seed: review.seed });
    expect(seeded.body.seed).toBe(review.seed);
    expect((await request(t.http).get('/audit/access-reviews').set(auditor.auth)).body.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([review.id, seeded.body.id]));
    const audited = await t.ds.query(`SELECT action, resource_id FROM audit_events WHERE actor_id = $1 AND action = 'create_access_review'`, [auditor.id]);
    expect(audited).toContainEqual({ action: 'create_access_review', resource_id: review.id });
  });

  it('refuses sign-off until every item is confirmed or queried (a query needs a note); then signs off once, all audited', async () => {
    const review = (await post('/audit/access-reviews', { from, to, sampleSize: 3 })).body;
    const [first, ...rest] = review.items as Array<{ id: string }>;
    const early = expectApiError(await post(`/audit/access-reviews/${review.id}/sign-off`, {}), 422, 'PRECONDITION_FAILED');
    expect(early.details).toEqual({ precondition: 'all_items_decided', undecided: 3 });

    expect(fieldsOf(await post(`/audit/access-reviews/${review.id}/items/${first.id}`, { decision: 'queried' }))).toEqual(['note']);
    expect(fieldsOf(await post(`/audit/access-reviews/${review.id}/items/${first.id}`, { decision: 'maybe' }))).toEqual(['decision']);
    expectApiError(await post(`/audit/access-reviews/${review.id}/items/${randomUUID()}`, { decision: 'confirmed' }), 404, 'NOT_FOUND');
    const query = 'Why did the officer read this three times in a minute?';
    const queried = await post(`/audit/access-reviews/${review.id}/items/${first.id}`, { decision: 'queried', note: query });
    expect(queried.status).toBe(200);
    expect(queried.body.items[0]).toMatchObject({ id: first.id, decision: 'queried', note: query, decidedBy: auditor.id });
    expect(queried.body.undecided).toBe(2);
    expect(expectApiError(await post(`/audit/access-reviews/${review.id}/sign-off`, {}), 422, 'PRECONDITION_FAILED').details).toEqual({ precondition: 'all_items_decided', undecided: 2 });

    for (const item of rest) expect((await post(`/audit/access-reviews/${review.id}/items/${item.id}`, { decision: 'confirmed' })).status).toBe(200);
    const signed = await post(`/audit/access-reviews/${review.id}/sign-off`, { note: 'One query raised with the officer' });
    expect(signed.status).toBe(200);
    expect(signed.body).toMatchObject({ state: 'signed_off', signedOffBy: auditor.id, undecided: 0, signOffNote: 'One query raised with the officer' });
    expectApiError(await post(`/audit/access-reviews/${review.id}/sign-off`, {}), 409, 'CONFLICT');
    expect(expectApiError(await post(`/audit/access-reviews/${review.id}/items/${first.id}`, { decision: 'confirmed' }), 422, 'PRECONDITION_FAILED').details).toEqual({ precondition: 'review_open' });

    const trail: Array<{ action: string; rule: string | null; justification: string | null }> = await t.ds.query(
      `SELECT action, rule, justification FROM audit_events WHERE actor_id = $1 AND resource_id = $2 ORDER BY occurred_at`, [auditor.id, review.id]);
    expect(trail.map((r) => r.action)).toEqual([
      'create_access_review', 'decide_access_review_item', 'decide_access_review_item', 'decide_access_review_item', 'sign_off_access_review',
    ]);
    expect(trail[1]).toMatchObject({ rule: expect.stringMatching(/^queried:/), justification: query });
    expect(trail[4]).toMatchObject({ rule: 'items:3,queried:1' });
    const shown = await request(t.http).get(`/audit/access-reviews/${review.id}`).set(auditor.auth);
    expect(shown.body).toMatchObject({ id: review.id, state: 'signed_off' });
  });

  it('validates the period, the size and the seed', async () => {
    expect(fieldsOf(await post('/audit/access-reviews', { from: to, to: from }))).toEqual(['to']);
    expect(fieldsOf(await post('/audit/access-reviews', { from, to, sampleSize: 0 }))).toEqual(['sampleSize']);
    expect(fieldsOf(await post('/audit/access-reviews', { from, to, seed: 'XYZ' }))).toEqual(['seed']);
    expect(fieldsOf(await post('/audit/access-reviews', { from: 'yesterday', to }))).toEqual(['from']);
    expect(fieldsOf(await post('/audit/access-reviews', { from: '0001-01-01T00:00:00Z', to }))).toEqual(['from']);
    expectApiError(await request(t.http).get(`/audit/access-reviews/${randomUUID()}`).set(auditor.auth), 404, 'NOT_FOUND');
    expect(caseId).toBeDefined();
  });
});
