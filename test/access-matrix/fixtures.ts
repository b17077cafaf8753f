import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { partyIdOf, signedIn, TestApp } from '../support/app';

/*
 * Shared fixtures for the access-matrix tests. Cases are built through the API (the officer
 * logs concerns, the manager assigns the team, moves go through POST /cases/:id/moves); each
 * spec file uses its own authorities so that lists and counts can be asserted exactly even
 * though every file of a run shares one database.
 */

export type Person = Awaited<ReturnType<typeof signedIn>>;

/** Everyone the matrix asks about, by role and relationship. Fresh users per spec file. */
export interface Cast {
  labour: string;
  conservative: string;
  /** Clearing-house officer: named on the named-only items. */
  officer: Person;
  /** Clearing-house officer named on nothing. */
  officer2: Person;
  manager: Person;
  /** West Midlands RIEP facilitator: on some teams, named on the named-only items. */
  riepWM: Person;
  /** West Midlands RIEP facilitator on no team, named on nothing. */
  riepWM2: Person;
  /** North East RIEP facilitator. */
  riepNE: Person;
  /** Labour peer: on the team of the main case, recorder of the Labour party-confidential note. */
  peerLab: Person;
  /** Another Labour peer on the team of the main case. */
  peerLabB: Person;
  /** Conservative peer on the team of the main case. */
  peerCon: Person;
  /** Labour peer on no team at all. */
  peerOut: Person;
  auditor: Person;
  admin: Person;
  /** Board member: the Board's statistics, no case data at all. */
  board: Person;
  /** Government liaison: no case file at all; only a pre-intervention pack they are named for (src/stage-access). */
  liaison: Person;
}

export async function buildCast(t: TestApp): Promise<Cast> {
  const labour = await partyIdOf(t.ds, 'Labour');
  const conservative = await partyIdOf(t.ds, 'Conservative');
  const [officer, officer2, manager, riepWM, riepWM2, riepNE, peerLab, peerLabB, peerCon, peerOut, auditor, admin, board, liaison] = await Promise.all([
    signedIn(t, Role.ClearingHouseOfficer, { name: 'Officer A' }),
    signedIn(t, Role.ClearingHouseOfficer, { name: 'Officer B' }),
    signedIn(t, Role.ClearingHouseManager, { name: 'Manager' }),
    signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands, name: 'RIEP West Midlands A' }),
    signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands, name: 'RIEP West Midlands B' }),
    signedIn(t, Role.RiepFacilitator, { region: Region.NorthEast, name: 'RIEP North East' }),
    signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Peer Labour A' }),
    signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Peer Labour B' }),
    signedIn(t, Role.LeadPoliticalPeer, { partyId: conservative, name: 'Peer Conservative' }),
    signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Peer Labour off-team' }),
    signedIn(t, Role.Auditor, { name: 'Auditor' }),
    signedIn(t, Role.Administrator, { name: 'Administrator' }),
    signedIn(t, Role.BoardMember, { name: 'Board member' }),
    signedIn(t, Role.GovernmentLiaison, { name: 'Government liaison' }),
  ]);
  return { labour, conservative, officer, officer2, manager, riepWM, riepWM2, riepNE, peerLab, peerLabB, peerCon, peerOut, auditor, admin, board, liaison };
}

export const http = (t: TestApp) => request(t.http);

/** Fails with the response body in the message, so a failing fixture step says why. */
export function expectStatus(res: Response, status: number): Response {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

export interface LoggedCase {
  id: string;
  reference: string;
  concernId: string;
}

export async function logConcern(t: TestApp, who: Person, body: Record<string, unknown>): Promise<LoggedCase & { body: Record<string, unknown> }> {
  const res = expectStatus(
    await http(t).post('/concerns').set(who.auth).send({ receivedOn: '2026-01-15', channel: 'sector_intelligence', area: 'finance', description: 'A budget gap nobody talks about', ...body }),
    201,
  );
  return { id: res.body.case.id, reference: res.body.case.reference, concernId: res.body.concern.id, body: res.body };
}

export async function versionOf(t: TestApp, caseId: string): Promise<number> {
  const [row] = await t.owner.query(`SELECT version FROM cases WHERE id = $1`, [caseId]);
  return row?.version ?? 1;
}

export async function move(t: TestApp, who: Person, caseId: string, move: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return http(t).post(`/cases/${caseId}/moves`).set(who.auth).send({ move, version: await versionOf(t, caseId), ...extra });
}

export async function moveOk(t: TestApp, who: Person, caseId: string, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  expectStatus(await move(t, who, caseId, name, extra), 200);
}

export async function addToTeam(t: TestApp, manager: Person, caseId: string, user: Person, teamRole: string): Promise<void> {
  expectStatus(await http(t).post(`/cases/${caseId}/team`).set(manager.auth).send({ userId: user.id, teamRole }), 201);
}

export async function recordConversation(t: TestApp, who: Person, caseId: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = expectStatus(
    await http(t).post(`/cases/${caseId}/conversations`).set(who.auth).send({ kind: 'sensitive_conversation', heldOn: '2026-01-20', summary: 'Spoke with the leader', handling: 'normal', ...body }),
    201,
  );
  return res.body.recordId;
}

/** concern_raised → triage → sensitive_conversation. */
export async function toSensitiveConversation(t: TestApp, officer: Person, caseId: string): Promise<void> {
  await moveOk(t, officer, caseId, 'start_triage');
  await moveOk(t, officer, caseId, 'follow_up');
}

/** The whole path to the RIEP: triage, follow up, a sensitive conversation, refer_to_riep. */
export async function referToRiep(t: TestApp, officer: Person, caseId: string): Promise<string> {
  await toSensitiveConversation(t, officer, caseId);
  const recordId = await recordConversation(t, officer, caseId, { summary: 'Conversation with the chief executive' });
  await moveOk(t, officer, caseId, 'refer_to_riep');
  return recordId;
}

export async function createSupport(t: TestApp, who: Person, caseId: string, body: Record<string, unknown> = {}): Promise<{ id: string; version: number }> {
  const res = expectStatus(await http(t).post(`/cases/${caseId}/support`).set(who.auth).send({ kind: 'mentoring', description: 'Mentoring for the leader', ...body }), 201);
  return { id: res.body.id, version: res.body.version };
}

/** Records a government trigger and calls the pre-intervention meeting stage, then records a meeting. */
export async function toPreInterventionWithMeeting(t: TestApp, officer: Person, caseId: string): Promise<string> {
  expectStatus(
    await http(t).put(`/cases/${caseId}/government-trigger`).set(officer.auth).send({ department: 'Department for Education', power: 'improvement_notice', version: await versionOf(t, caseId) }),
    200,
  );
  await moveOk(t, officer, caseId, 'call_pre_intervention_meeting');
  const meeting = expectStatus(
    await http(t).post(`/cases/${caseId}/pre-intervention-meetings`).set(officer.auth).send({
      meetingOn: '2026-02-10', interventionContemplated: 'improvement_notice',
      attendees: [{ organisationType: 'authority', organisation: 'The council', role: 'Leader' }],
    }),
    201,
  );
  return meeting.body.id;
}

/** The error body without its request id: what must be identical between "hidden" and "missing". */
export function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _ignored, ...rest } = body;
  return rest;
}

export const MISSING_CASE_ID = randomUUID();
export const MISSING_REFERENCE = 'CH-2099-9999';

/** The audit records written for one request, found by its X-Request-Id. */
export async function auditOf(t: TestApp, res: Response, actorId: string): Promise<Array<{ outcome: string; action: string; resource_type: string; rule: string | null }>> {
  const requestId = res.headers['x-request-id'];
  expect(requestId).toEqual(expect.any(String));
  return t.ds.query(`SELECT outcome, action, resource_type, rule FROM audit_events WHERE request_id = $1 AND actor_id = $2`, [requestId, actorId]);
}

export async function expectAudited(t: TestApp, res: Response, actorId: string, outcome: 'allowed' | 'denied'): Promise<void> {
  const rows = await auditOf(t, res, actorId);
  expect(rows.map((r) => r.outcome)).toContain(outcome);
  if (outcome === 'denied') expect(rows.every((r) => r.outcome === 'denied')).toBe(true);
}

/** What a write could change on a case: a refused write must leave all of it as it was. */
export async function snapshotOf(t: TestApp, caseId: string): Promise<Record<string, unknown>> {
  const [row] = await t.owner.query(
    `SELECT c.version, c.state, c.government_department, c.referred_to_riep_at,
            (SELECT count(*)::int FROM concerns WHERE case_id = c.id) AS concerns,
            (SELECT count(*)::int FROM conversation_records WHERE case_id = c.id) AS conversations,
            (SELECT count(*)::int FROM case_transitions WHERE case_id = c.id) AS transitions,
            (SELECT count(*)::int FROM case_team_members WHERE case_id = c.id) AS team_rows,
            (SELECT count(*)::int FROM case_team_members WHERE case_id = c.id AND removed_at IS NULL) AS team_current,
            (SELECT count(*)::int FROM improvement_support WHERE case_id = c.id) AS support,
            (SELECT coalesce(sum(version), 0)::int FROM improvement_support WHERE case_id = c.id) AS support_versions,
            (SELECT count(*)::int FROM support_progress_notes n JOIN improvement_support s ON s.id = n.support_id WHERE s.case_id = c.id) AS notes,
            (SELECT count(*)::int FROM pre_intervention_meetings WHERE case_id = c.id) AS meetings
       FROM cases c WHERE c.id = $1`,
    [caseId],
  );
  return row;
}

/** Dates around today for the openedFrom/openedTo filters, wide enough for any server time zone. */
export function dayOffset(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
