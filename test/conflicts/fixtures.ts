import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { signedIn, TestApp } from '../support/app';

export type Person = Awaited<ReturnType<typeof signedIn>>;

export const OVERRIDE_REASON = 'The tie is to a neighbouring service, not to anyone involved in this difficulty';
export const RECUSAL_REASON = 'My sister is the chief executive of this council';
export const WITHDRAW_REASON = 'The chief executive left the council last month; no tie remains';

/** A current English authority in a region, chosen at random among those this file has not used yet (other files may run at the same time). */
export async function freshAuthority(t: TestApp, used: Set<string>): Promise<{ code: string; id: string; region: string }> {
  const rows: Array<{ code: string; id: string; region: string }> = await t.owner.query(
    `SELECT code, id, region FROM authorities WHERE is_current AND region IS NOT NULL ORDER BY code`);
  const free = rows.filter((r) => !used.has(r.code));
  const pick = free[Math.floor(Math.random() * free.length)];
  used.add(pick.code);
  return pick;
}

export interface TestCase {
  id: string;
  reference: string;
  authority: { code: string; id: string; region: string };
  concernId: string;
}

/** A case logged through the API by `logger` (an officer) on a fresh authority. */
export async function newCase(t: TestApp, used: Set<string>, logger: Person): Promise<TestCase> {
  const authority = await freshAuthority(t, used);
  const logged = await request(t.http).post('/concerns').set(logger.auth).send({
    authority: authority.code, receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance',
    description: 'Budget papers were withheld from members for the second year running',
  });
  expect(logged.status).toBe(201);
  return { id: logged.body.case.id, reference: logged.body.case.reference, authority, concernId: logged.body.concern.id };
}

export const newPerson = (t: TestApp, role: Role, opts: Parameters<typeof signedIn>[2] = {}) => signedIn(t, role, opts);
