import request from 'supertest';
import { EntityManager } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { actAsSystem, actAsUser, SystemContext } from '../../src/database/row-security';
import { createTestApp, signedIn, TestApp } from '../support/app';
import { logCase, Person, waitSealed } from '../audit-workbench/support';
import { rolledBackIn } from './service-role';

/*
 * Row-level security on the auditors' access reviews (migrations/1764382200000-AccessReviewRowSecurity.ts):
 * which accesses to which cases were sampled, and the auditors' decisions. Seen from the service's
 * own role: nothing without settings, as a user of another role, or in any system context; an
 * auditor sees and changes them (and the API, which runs as the auditor, still works end to end).
 */
jest.setTimeout(60_000);

describe('row-level security on access reviews', () => {
  let t: TestApp;
  let auditor: Person;
  let officer: Person;
  let manager: Person;
  let reviewId: string;
  let itemId: string;
  const used = new Set<string>();

  const rolledBack = <T>(bind: ((m: EntityManager) => Promise<void>) | null, work: (m: EntityManager) => Promise<T>): Promise<T> => rolledBackIn(t.ds, bind, work);
  const seen = async (m: EntityManager) => ({
    reviews: Number((await m.query(`SELECT count(*)::int AS n FROM access_reviews WHERE id = $1`, [reviewId]))[0].n),
    items: Number((await m.query(`SELECT count(*)::int AS n FROM access_review_items WHERE review_id = $1`, [reviewId]))[0].n),
  });
  /** Rows the UPDATE touched (TypeORM answers [rows, count]). */
  const decided = async (m: EntityManager) => (await m.query(`UPDATE access_review_items SET note = 'changed' WHERE id = $1`, [itemId]))[1];
  const opened = (m: EntityManager) => m.query(
    `INSERT INTO access_reviews (period_from, period_to, sample_size, seed, population_tree_size, population_count, created_by)
     VALUES (now() - interval '1 day', now(), 1, repeat('0', 64), 0, 0, $1)`, [auditor.id]);

  beforeAll(async () => {
    t = await createTestApp();
    [auditor, officer, manager] = await Promise.all([signedIn(t, Role.Auditor), signedIn(t, Role.ClearingHouseOfficer), signedIn(t, Role.ClearingHouseManager)]);
    const from = new Date(Date.now() - 1_000).toISOString();
    const c = await logCase(t, used, officer);
    expect((await request(t.http).get(`/cases/${c.id}`).set(officer.auth)).status).toBe(200);
    await waitSealed(t, [officer.id]);
    const created = await request(t.http).post('/audit/access-reviews').set(auditor.auth).send({ from, to: new Date(Date.now() + 1_000).toISOString(), sampleSize: 2 });
    expect(created.status).toBe(201);
    reviewId = created.body.id;
    itemId = created.body.items[0].id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows the service role nothing without settings, and refuses its writes', async () => {
    expect(await rolledBack(null, seen)).toEqual({ reviews: 0, items: 0 });
    expect(await rolledBack(null, decided)).toBe(0);
    await expect(rolledBack(null, opened)).rejects.toThrow(/row-level security/);
  });

  it('shows users of other roles nothing, and refuses their writes', async () => {
    for (const who of [officer, manager]) {
      expect(await rolledBack((m) => actAsUser(m, who.id), seen)).toEqual({ reviews: 0, items: 0 });
      expect(await rolledBack((m) => actAsUser(m, who.id), decided)).toBe(0);
      await expect(rolledBack((m) => actAsUser(m, who.id), opened)).rejects.toThrow(/row-level security/);
    }
  });

  it('shows every system context nothing', async () => {
    for (const context of Object.values(SystemContext)) {
      expect(await rolledBack((m) => actAsSystem(m, context), seen)).toEqual({ reviews: 0, items: 0 });
    }
  });

  it('lets an auditor see and change them, in the database and through the API', async () => {
    expect(await rolledBack((m) => actAsUser(m, auditor.id), seen)).toEqual({ reviews: 1, items: 2 });
    expect(await rolledBack((m) => actAsUser(m, auditor.id), decided)).toBe(1);
    const listed = await request(t.http).get('/audit/access-reviews').set(auditor.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.map((r: { id: string }) => r.id)).toContain(reviewId);
    const read = await request(t.http).get(`/audit/access-reviews/${reviewId}`).set(auditor.auth);
    expect(read.status).toBe(200);
    expect(read.body.items).toHaveLength(2);
  });
});
