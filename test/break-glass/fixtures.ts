import request from 'supertest';
import { TeamRole } from '../../src/access-control/handling';
import { Role } from '../../src/access-control/role';
import { signedIn, TestApp } from '../support/app';

export type Person = Awaited<ReturnType<typeof signedIn>>;

export const REASON = 'Cover for the case lead while they are on leave: a council meeting tonight needs a briefing';
export const CONCERN_TEXT = 'The chief executive and the leader no longer speak; budget papers were withheld from members';
export const SOURCE_NAME = 'Alex Whistleblower';

export interface RestrictedCase {
  id: string;
  reference: string;
  authority: string;
  concernId: string;
  setter: Person;
  teamOfficer: Person;
  version: number;
}

/** A current English authority nobody else in this file uses, so list counts can be compared. */
export async function freshAuthority(t: TestApp, used: Set<string>): Promise<string> {
  // No case yet, and picked at random: other test files open cases in parallel on the same database.
  const rows: Array<{ code: string }> = await t.owner.query(
    `SELECT code FROM authorities a WHERE is_current AND region IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.authority_id = a.id) ORDER BY random()`,
  );
  const code = rows.map((r) => r.code).find((c) => !used.has(c) && !c.startsWith('E0600000'))!;
  used.add(code);
  return code;
}

/**
 * A case logged by an officer (with a source), a team of one officer, restricted to its team by
 * a manager (who is not on the team).
 */
export async function restrictedCase(t: TestApp, used: Set<string>, logger: Person, opts: { restrict?: boolean } = {}): Promise<RestrictedCase> {
  const authority = await freshAuthority(t, used);
  const logged = await request(t.http).post('/concerns').set(logger.auth).send({
    authority, receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'leader_chief_executive_relationship', description: CONCERN_TEXT,
    source: { name: SOURCE_NAME, role: 'Officer', contact: 'alex@example.org' },
  });
  expect(logged.status).toBe(201);
  const setter = await signedIn(t, Role.ClearingHouseManager, { name: 'Setter Manager' });
  const teamOfficer = await signedIn(t, Role.ClearingHouseOfficer, { name: 'Team Officer' });
  const added = await request(t.http).post(`/cases/${logged.body.case.id}/team`).set(setter.auth).send({ userId: teamOfficer.id, teamRole: TeamRole.CaseOfficer });
  expect(added.status).toBe(201);
  let version = added.body.version as number;
  if (opts.restrict !== false) {
    const restricted = await request(t.http).put(`/cases/${logged.body.case.id}/restriction`).set(setter.auth).send({ restricted: true, version });
    expect(restricted.status).toBe(200);
    version = restricted.body.version;
  }
  return { id: logged.body.case.id, reference: logged.body.case.reference, authority, concernId: logged.body.concern.id, setter, teamOfficer, version };
}
