import request from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { EnvironmentVariables } from '../../src/config/environment';
import { createTestApp, signedIn, TestApp } from './app';

export type Staff = Awaited<ReturnType<typeof signedIn>>;

/** The application with a clearing-house officer and manager signed in; `owner` is the app's owner connection (closed with it). */
export async function appWithStaff(overrides: Partial<EnvironmentVariables> = {}): Promise<{ t: TestApp; owner: DataSource; officer: Staff; manager: Staff }> {
  const t = await createTestApp(overrides);
  const officer = await signedIn(t, Role.ClearingHouseOfficer);
  const manager = await signedIn(t, Role.ClearingHouseManager);
  return { t, owner: t.owner, officer, manager };
}

/**
 * A case on `authority` with a source and a conversation (with an agreed action), closed by the
 * manager with `outcome`, then aged as the owner: closed `yearsAgo` years ago, opened a year
 * before that. Its content is marked SECRET- throughout.
 */
export async function agedClosedCase(
  t: TestApp, officer: { auth: Record<string, string> }, manager: { auth: Record<string, string> },
  { authority, yearsAgo, outcome = 'resolved_by_authority' }: { authority: string; yearsAgo: number; outcome?: string },
): Promise<{ id: string; reference: string; recordId: string; version: number }> {
  const logged = await request(t.http).post('/concerns').set(officer.auth).send({
    authority, receivedOn: '2026-01-05', channel: 'peer', area: 'finance', description: 'SECRET-DESCRIPTION budget concerns',
    source: { name: 'SECRET-SOURCE Person', contact: '0700' },
  });
  expect(logged.status).toBe(201);
  const id = logged.body.case.id;
  let version = logged.body.case.version;
  const move = async (who: { auth: Record<string, string> }, body: object) => {
    const r = await request(t.http).post(`/cases/${id}/moves`).set(who.auth).send({ version, ...body });
    version = r.body.version;
    return r;
  };
  await move(officer, { move: 'start_triage' });
  await move(officer, { move: 'follow_up' });
  const conv = await request(t.http).post(`/cases/${id}/conversations`).set(officer.auth).send({
    kind: 'call', heldOn: '2026-01-10', summary: 'SECRET-SUMMARY of the call', handling: 'normal', agreedActions: [{ description: 'SECRET-ACTION', owner: 'CEX' }],
  });
  expect(conv.status).toBe(201);
  version = (await request(t.http).get(`/cases/${id}`).set(officer.auth)).body.version;
  const closed = await move(manager, { move: 'close', outcome, reason: 'SECRET-REASON resolved' });
  expect(closed.status).toBe(200);
  await t.owner.query(`UPDATE cases SET closed_at = now() - make_interval(years => $2), opened_at = now() - make_interval(years => $2 + 1) WHERE id = $1`, [id, yearsAgo]);
  return { id, reference: logged.body.case.reference, recordId: conv.body.recordId, version: closed.body.version };
}
