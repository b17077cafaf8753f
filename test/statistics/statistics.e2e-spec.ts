import request from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { createTestApp, ownerDataSource, signedIn, TestApp } from '../support/app';

/** Cases placed in 2031 (as the owner) so that other test files' cases fall outside the range. */
async function placeCases(owner: DataSource, officerId: string, spec: Array<{ authority: string; quarterMonth: string; state: string }>): Promise<void> {
  for (const [i, c] of spec.entries()) {
    const [a] = await owner.query(`SELECT id FROM authorities WHERE code = $1`, [c.authority]);
    const closed = c.state === 'closed';
    await owner.query(
      `INSERT INTO cases (reference, authority_id, state, handling, opened_by, opened_at, outcome, outcome_reason, closed_at)
       VALUES ($1, $2, $3, 'official', $4, $5::timestamptz, $6, $7, $8)`,
      [`CH-2031-${String(9000 + i).padStart(5, '0')}`, a.id, c.state, officerId, `${c.quarterMonth}-15T10:00:00Z`,
        closed ? 'no_further_action' : null, closed ? 'test' : null, closed ? `${c.quarterMonth}-20T10:00:00Z` : null],
    );
  }
}

describe('Board statistics', () => {
  let t: TestApp;
  let owner: DataSource;
  beforeAll(async () => {
    t = await createTestApp();
    owner = await ownerDataSource();
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    // London: 12 cases in Q1; South West: 7 in Q1; North East: exactly one case, in Q2.
    await placeCases(owner, officer.id, [
      ...Array.from({ length: 12 }, () => ({ authority: 'CMD', quarterMonth: '2031-02', state: 'triage' })),
      ...Array.from({ length: 7 }, () => ({ authority: 'BST', quarterMonth: '2031-01', state: 'triage' })),
      { authority: 'NET', quarterMonth: '2031-05', state: 'closed' },
    ]);
  });
  afterAll(async () => {
    await owner.destroy();
    await t.close();
  });

  it('counts cases by region and quarter, hiding the single North East case so that it cannot be worked out', async () => {
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const res = await request(t.http).get('/statistics/cases').query({ dimension: 'region', from: '2031-01-01', to: '2031-12-31' }).set(manager.auth);
    expect(res.status).toBe(200);
    expect(res.body.columns).toEqual(['2031-Q1', '2031-Q2']);
    const row = (name: string) => res.body.rows.indexOf(name);
    expect(res.body.cells[row('London')]).toEqual([12, 0]);
    expect(res.body.cells[row('North East')]).toEqual([0, '<5']);
    expect(res.body.rowTotals[row('North East')]).toBe('<5');
    // Every line through the lone case has at least one other hidden entry, so it cannot be
    // worked out by subtraction: its row, its column, and the column of row totals.
    const hidden = (xs: unknown[]) => xs.filter((x) => typeof x === 'string').length;
    expect(hidden([...res.body.cells[row('North East')], res.body.rowTotals[row('North East')]])).toBeGreaterThanOrEqual(2);
    expect(hidden([...res.body.cells.map((r: unknown[]) => r[1]), res.body.columnTotals[1]])).toBeGreaterThanOrEqual(2);
    expect(hidden([...res.body.rowTotals, res.body.total])).toBeGreaterThanOrEqual(2);
    // Shown numbers are true: the grand total, London's 12.
    expect(res.body.total).toBe(20);
    // Nothing in the body names a case.
    expect(JSON.stringify(res.body)).not.toMatch(/CH-2031/);
  });

  it('exports the same table as CSV', async () => {
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const res = await request(t.http).get('/statistics/cases').query({ dimension: 'state', period: 'year', from: '2031-01-01', to: '2031-12-31', format: 'csv' }).set(manager.auth);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('"state","2031","total"');
    expect(lines).toContain('"closed","<5","<5"');
    // 20 cases in all: with the one closed case hidden, the 19 in triage must be hidden too,
    // or 20 - 19 would give it away.
    expect(lines).toContain('"triage","[c]","[c]"');
    expect(lines[lines.length - 1]).toBe('"total","20","20"');
  });

  it('reports stage durations with small stages suppressed', async () => {
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const res = await request(t.http).get('/statistics/stage-durations').set(manager.auth);
    expect(res.status).toBe(200);
    expect(res.body.map((s: { stage: string }) => s.stage)).toContain('triage');
  });

  it('is for Board members too: the table, its CSV export and the stage durations, each read audited', async () => {
    const board = await signedIn(t, Role.BoardMember);
    const table = await request(t.http).get('/statistics/cases').query({ dimension: 'region', from: '2031-01-01', to: '2031-12-31' }).set(board.auth);
    expect(table.status).toBe(200);
    expect(table.body.total).toBe(20);
    expect(JSON.stringify(table.body)).not.toMatch(/CH-2031/);
    const csv = await request(t.http).get('/statistics/cases').query({ dimension: 'state', period: 'year', from: '2031-01-01', to: '2031-12-31', format: 'csv' }).set(board.auth);
    expect(csv.status).toBe(200);
    expect(csv.text.trim().split('\n')).toContain('"closed","<5","<5"');
    expect((await request(t.http).get('/statistics/stage-durations').set(board.auth)).status).toBe(200);
    expect(await t.ds.query(`SELECT action, resource_type, outcome FROM audit_events WHERE actor_id = $1 AND resource_type = 'statistics' ORDER BY occurred_at`, [board.id])).toEqual([
      { action: 'read', resource_type: 'statistics', outcome: 'allowed' },
      { action: 'export', resource_type: 'statistics', outcome: 'allowed' },
      { action: 'read', resource_type: 'statistics', outcome: 'allowed' },
    ]);
    // And nothing of a case: the register, a case, the early-warning register.
    for (const path of ['/cases', '/early-warning/flags', '/retention/reviews']) {
      expect({ path, status: (await request(t.http).get(path).set(board.auth)).status }).toEqual({ path, status: 403 });
    }
  });

  it.each([Role.ClearingHouseOfficer, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.Administrator])('refuses %s', async (role) => {
    const user = await signedIn(t, role);
    const res = await request(t.http).get('/statistics/cases').query({ dimension: 'state' }).set(user.auth);
    expect(res.status).toBe(403);
  });

  it('names a bad dimension', async () => {
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const res = await request(t.http).get('/statistics/cases').query({ dimension: 'source' }).set(manager.auth);
    expect(res.status).toBe(400);
    expect(res.body.fieldErrors[0].field).toBe('dimension');
  });
});
