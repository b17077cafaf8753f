import request from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { importAuthorities } from '../../src/authorities/authorities-import';
import { expectApiError, fieldsOf } from '../support/api-error';
import { TestApp, createTestApp, ownerDataSource, signedIn } from '../support/app';

describe('the register of English authorities', () => {
  let t: TestApp;
  let auth: { Authorization: string };
  beforeAll(async () => {
    t = await createTestApp();
    auth = (await signedIn(t, Role.RiepFacilitator)).auth;
  });
  afterAll(async () => {
    await t.close();
  });

  const search = (query: string) => request(t.http).get(`/authorities?${query}`).set(auth);
  const sqlCount = async (where: string, params: unknown[] = []) => Number((await t.ds.query(`SELECT count(*) AS n FROM authorities WHERE ${where}`, params))[0].n);

  it('holds the 380 English authorities of the register, 332 of them current', async () => {
    expect(await sqlCount('true')).toBe(380);
    expect(await sqlCount('is_current')).toBe(332);
    expect(await sqlCount(`gss_code !~ '^E[0-9]{8}$'`)).toBe(0);
    expect((await search('limit=1')).body.total).toBe(380);
    expect((await search('current=true&limit=1')).body.total).toBe(332);
    expect((await search('current=false&limit=1')).body.total).toBe(48);
  });

  it('finds Birmingham by name, case-insensitively', async () => {
    const res = await search('name=BirMingham');
    expect(res.status).toBe(200);
    const bir = res.body.items.find((a: { code: string }) => a.code === 'BIR');
    expect(bir).toEqual({
      id: expect.any(String),
      code: 'BIR',
      gssCode: 'E08000025',
      officialName: 'Birmingham City Council',
      shortName: 'Birmingham',
      type: 'MD',
      typeName: 'Metropolitan district',
      region: Region.WestMidlands,
      startDate: '1996-07-01',
      endDate: null,
      isCurrent: true,
      replacedBy: [],
    });
    expect(res.body.items.every((a: { officialName: string; shortName: string }) => /birmingham/i.test(a.officialName + a.shortName))).toBe(true);
    expect(res.body.total).toBe(await sqlCount(`lower(official_name) LIKE '%birmingham%' OR lower(short_name) LIKE '%birmingham%'`));
  });

  it('matches the characters % and _ in a name literally', async () => {
    expect((await search('name=%25')).body.total).toBe(0);
    expect((await search('name=_')).body.total).toBe(0);
  });

  it.each([
    ['region=West%20Midlands', `region = 'West Midlands'`],
    ['region=London', `region = 'London'`],
    ['type=MD', `type = 'MD'`],
    ['type=NMD', `type = 'NMD'`],
    ['current=true', 'is_current'],
    ['current=false', 'NOT is_current'],
    ['region=South%20East&type=NMD&current=true', `region = 'South East' AND type = 'NMD' AND is_current`],
    ['region=North%20West&current=false', `region = 'North West' AND NOT is_current`],
    ['name=shire&type=CTY', `(lower(official_name) LIKE '%shire%' OR lower(short_name) LIKE '%shire%') AND type = 'CTY'`],
  ])('filters by %s, agreeing with the table', async (query, where) => {
    const expected = await sqlCount(where);
    expect(expected).toBeGreaterThan(0);
    const res = await search(`${query}&limit=500`);
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(expected);
    expect(res.body.items).toHaveLength(expected);
    const params = new URLSearchParams(query);
    for (const a of res.body.items) {
      if (params.has('region')) expect(a.region).toBe(params.get('region'));
      if (params.has('type')) expect(a.type).toBe(params.get('type'));
      if (params.has('current')) expect(a.isCurrent).toBe(params.get('current') === 'true');
    }
  });

  it('pages the results', async () => {
    const first = await search('region=West%20Midlands&limit=5&offset=0');
    const second = await search('region=West%20Midlands&limit=5&offset=5');
    expect(first.body).toMatchObject({ limit: 5, offset: 0 });
    expect(first.body.items).toHaveLength(5);
    expect(second.body.items).toHaveLength(5);
    const firstCodes = first.body.items.map((a: { code: string }) => a.code);
    expect(second.body.items.some((a: { code: string }) => firstCodes.includes(a.code))).toBe(false);
    // Past the last page: no items, but still the true total.
    const beyond = await search('region=West%20Midlands&limit=5&offset=1000');
    expect(beyond.status).toBe(200);
    expect(beyond.body).toEqual({ items: [], total: await sqlCount(`region = 'West Midlands'`), limit: 5, offset: 1000 });
  });

  it('refuses malformed filters, naming them', async () => {
    const region = await search('region=Narnia');
    expectApiError(region, 400, 'VALIDATION_FAILED');
    expect(fieldsOf(region)).toEqual(['region']);
    const type = await search('type=XX');
    expect(fieldsOf(type)).toEqual(['type']);
    const current = await search('current=yes');
    expect(fieldsOf(current)).toEqual(['current']);
    const limit = await search('limit=501');
    expect(fieldsOf(limit)).toEqual(['limit']);
  });

  it('gets one authority by GSS code or register code', async () => {
    const byGss = await request(t.http).get('/authorities/E08000025').set(auth);
    const byCode = await request(t.http).get('/authorities/BIR').set(auth);
    expect(byGss.status).toBe(200);
    expect(byCode.status).toBe(200);
    expect(byGss.body).toEqual(byCode.body);
    expect(byCode.body).toMatchObject({ code: 'BIR', gssCode: 'E08000025', region: Region.WestMidlands, type: 'MD', isCurrent: true });
  });

  it('answers 404 for an unknown code and 400 for a malformed one', async () => {
    expectApiError(await request(t.http).get('/authorities/ZZZ').set(auth), 404, 'NOT_FOUND');
    expectApiError(await request(t.http).get('/authorities/E99999999').set(auth), 404, 'NOT_FOUND');
    // Scotland's GSS codes are not English authorities' codes.
    expectApiError(await request(t.http).get('/authorities/S12000034').set(auth), 400, 'VALIDATION_FAILED');
    for (const bad of ['bir', 'E0800002', 'BIRMINGHAM', 'B1R']) {
      const res = await request(t.http).get(`/authorities/${bad}`).set(auth);
      expectApiError(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)).toEqual(['code']);
    }
  });

  it('answers 401 without sign-in', async () => {
    expectApiError(await request(t.http).get('/authorities?name=birmingham'), 401, 'UNAUTHENTICATED');
    expectApiError(await request(t.http).get('/authorities/BIR'), 401, 'UNAUTHENTICATED');
  });

  it('is readable by every role', async () => {
    for (const role of [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.LeadPoliticalPeer, Role.Auditor, Role.Administrator, Role.BoardMember]) {
      const user = await signedIn(t, role);
      expect((await request(t.http).get('/authorities/BIR').set(user.auth)).status).toBe(200);
    }
  });

  it('importing the register again (as the owner role) changes nothing', async () => {
    const before = await t.ds.query(`SELECT id, code, gss_code, is_current FROM authorities ORDER BY code`);
    const owner = await ownerDataSource();
    try {
      const result = await importAuthorities(owner);
      expect(result).toEqual({ total: 380, inserted: 0, updated: 0 });
    } finally {
      await owner.destroy();
    }
    expect(await t.ds.query(`SELECT id, code, gss_code, is_current FROM authorities ORDER BY code`)).toEqual(before);
  });

  it('cannot be changed through the service role', async () => {
    await expect(t.ds.query(`UPDATE authorities SET official_name = 'x' WHERE code = 'BIR'`)).rejects.toThrow(/permission denied/);
  });
});
