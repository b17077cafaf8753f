import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { freshAuthority } from '../break-glass/fixtures';
import { createTestApp, signedIn, TestApp } from '../support/app';

/**
 * The case list counts only as far as CASE_LIST_COUNT_CAP (here 3) beyond the page: past it the
 * answer says "more than" instead of counting every visible case (bench/README.md, section 5).
 */
describe('case list: the capped count', () => {
  let t: TestApp;
  let officer: Awaited<ReturnType<typeof signedIn>>;
  let authority: string;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ CASE_LIST_COUNT_CAP: 3 });
    officer = await signedIn(t, Role.ClearingHouseOfficer);
    authority = await freshAuthority(t, new Set());
    for (let i = 0; i < 5; i += 1) {
      const res = await request(t.http).post('/concerns').set(officer.auth).send({
        authority, receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance', description: `Count fixture ${i}`,
      });
      expect(res.status).toBe(201);
      ids.push(res.body.case.id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const page = async (query: string, who = officer) => {
    const res = await request(t.http).get(`/cases?authority=${authority}&${query}`).set(who.auth);
    expect(res.status).toBe(200);
    return { n: res.body.items.length as number, total: res.body.total as number, totalIsLowerBound: res.body.totalIsLowerBound as boolean };
  };

  it('stops counting at the cap on a full first page and says so', async () => {
    expect(await page('limit=2')).toEqual({ n: 2, total: 3, totalIsLowerBound: true });
  });

  it('counts to the end of the page asked for when that is past the cap', async () => {
    expect(await page('limit=4')).toEqual({ n: 4, total: 4, totalIsLowerBound: true });
  });

  it('is exact when the page is not full, and past the last page', async () => {
    expect(await page('limit=10')).toEqual({ n: 5, total: 5, totalIsLowerBound: false });
    expect(await page('limit=2&offset=4')).toEqual({ n: 1, total: 5, totalIsLowerBound: false });
    expect(await page('limit=2&offset=10')).toEqual({ n: 0, total: 5, totalIsLowerBound: false });
  });

  it('counts only what the caller may see: a peer not on the teams and a facilitator of another region count nothing', async () => {
    const peer = await signedIn(t, Role.LeadPoliticalPeer);
    expect(await page('limit=2', peer)).toEqual({ n: 0, total: 0, totalIsLowerBound: false });
    const [{ region }] = await t.owner.query(`SELECT region FROM authorities WHERE code = $1`, [authority]);
    const other = (await t.owner.query(`SELECT DISTINCT region FROM authorities WHERE region IS NOT NULL AND region <> $1 ORDER BY region LIMIT 1`, [region]))[0].region;
    const riep = await signedIn(t, Role.RiepFacilitator, { region: other });
    expect(await page('limit=2&offset=10', riep)).toEqual({ n: 0, total: 0, totalIsLowerBound: false });
  });
});
