import request from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { createTestApp, partyIdOf, signedIn, TestApp } from '../support/app';

/** The whole journey through the API: concern, triage, sensitive conversation, RIEP, support, pre-intervention meeting, close, reopen. */
describe('a case from concern to pre-intervention meeting to close', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('follows the workflow, refusing moves whose preconditions are missing', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const labour = await partyIdOf(t.ds, 'Labour');
    const peer = await signedIn(t, Role.LeadPoliticalPeer, { partyId: labour });
    const riep = await signedIn(t, Role.RiepFacilitator, { region: Region.WestMidlands });

    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'BIR', receivedOn: '2026-10-01', channel: 'sector_intelligence', area: 'leader_chief_executive_relationship',
      description: 'Relationship between leader and chief executive has broken down', signals: ['poor_member_officer_relations'],
    });
    expect(logged.status).toBe(201);
    expect(logged.body.openedNewCase).toBe(true);
    expect(logged.body.case.reference).toMatch(/^CH-\d{4}-\d{4}$/);
    const id = logged.body.case.id;
    let version = logged.body.case.version;
    const move = async (who: { auth: Record<string, string> }, body: object) => request(t.http).post(`/cases/${id}/moves`).set(who.auth).send({ version, ...body });

    // A second concern on the same authority warns that an open case exists.
    const second = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'BIR', receivedOn: '2026-10-02', channel: 'peer', area: 'finance', description: 'Another matter',
    });
    expect(second.body.warnings[0]).toMatchObject({ code: 'OPEN_CASE_EXISTS', caseReferences: expect.arrayContaining([logged.body.case.reference]) });
    // ...and one attached to the case joins it.
    const attached = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'BIR', caseId: logged.body.case.reference, receivedOn: '2026-10-03', channel: 'riep', area: 'finance', description: 'Budget gap',
    });
    expect(attached.status).toBe(201);
    expect(attached.body.openedNewCase).toBe(false);
    version = attached.body.case.version;

    let r = await move(officer, { move: 'start_triage' });
    expect(r.status).toBe(200);
    version = r.body.version;
    r = await move(officer, { move: 'follow_up' });
    expect(r.body.state).toBe('sensitive_conversation');
    version = r.body.version;

    r = await move(officer, { move: 'refer_to_riep' });
    expect(r.status).toBe(422);
    expect(r.body.details.precondition).toBe('sensitive_conversation_recorded');

    expect((await request(t.http).post(`/cases/${id}/team`).set(manager.auth).send({ userId: peer.id, teamRole: 'lead_political_peer' })).status).toBe(201);
    const conv = await request(t.http).post(`/cases/${id}/conversations`).set(peer.auth).send({
      kind: 'sensitive_conversation', heldOn: '2026-10-10', summary: 'Spoke with the leader', handling: 'party_confidential',
      externalParticipants: [{ name: 'Cllr L', role: 'Leader of the council' }], agreedActions: [{ description: 'Meet CEX', owner: 'Leader', dueOn: '2026-10-30' }],
    });
    expect(conv.status).toBe(201);
    expect(conv.body.partyId).toBe(labour);
    version = (await request(t.http).get(`/cases/${id}`).set(officer.auth)).body.version;

    r = await move(officer, { move: 'refer_to_riep' });
    expect(r.status).toBe(200);
    expect(r.body.referredToRiepAt).toEqual(expect.any(String));
    version = r.body.version;
    // Referral opens the case to the region's RIEP facilitator.
    expect((await request(t.http).get(`/cases/${id}`).set(riep.auth)).status).toBe(200);

    r = await move(riep, { move: 'start_support' });
    expect(r.status).toBe(422);
    expect(r.body.details.precondition).toBe('agreed_way_forward_recorded');
    const support = await request(t.http).post(`/cases/${id}/support`).set(riep.auth).send({
      kind: 'mentoring', description: 'Mentoring for the leader', status: 'agreed', providers: [{ kind: 'peer', name: 'Cllr M' }], reviewDates: ['2027-01-15'],
    });
    expect(support.status).toBe(201);
    version = (await request(t.http).get(`/cases/${id}`).set(officer.auth)).body.version;
    r = await move(riep, { move: 'start_support' });
    expect(r.status).toBe(200);
    version = r.body.version;

    r = await move(officer, { move: 'call_pre_intervention_meeting' });
    expect(r.status).toBe(422);
    expect(r.body.details.precondition).toBe('government_trigger_recorded');
    r = await request(t.http).put(`/cases/${id}/government-trigger`).set(officer.auth).send({ department: 'Department for Education', power: 'improvement_notice', version });
    expect(r.status).toBe(200);
    version = r.body.version;
    r = await move(officer, { move: 'call_pre_intervention_meeting' });
    expect(r.body.state).toBe('pre_intervention');
    version = r.body.version;

    const meeting = await request(t.http).post(`/cases/${id}/pre-intervention-meetings`).set(officer.auth).send({
      meetingOn: '2026-11-20', interventionContemplated: 'improvement_notice',
      attendees: [{ organisationType: 'authority', organisation: 'Birmingham City Council', role: 'Leader' }, { organisationType: 'government_department', organisation: 'DfE' }],
    });
    expect(meeting.status).toBe(201);
    const outcome = await request(t.http).post(`/pre-intervention-meetings/${meeting.body.id}/outcome`).set(officer.auth).send({ outcome: 'sector_led_alternative_agreed', version: meeting.body.version });
    expect(outcome.status).toBe(200);
    let c = await request(t.http).get(`/cases/${id}`).set(officer.auth);
    expect(c.body.state).toBe('improvement_support');
    version = c.body.version;

    r = await move(officer, { move: 'close', outcome: 'improvement_achieved', reason: 'Plan delivered' });
    expect(r.status).toBe(403);
    r = await move(manager, { move: 'close', outcome: 'improvement_achieved' });
    expect(r.status).toBe(422);
    expect(r.body.details.precondition).toBe('reason_given');
    r = await move(manager, { move: 'close', outcome: 'government_intervention', reason: 'x' });
    expect(r.status).toBe(422);
    r = await move(manager, { move: 'close', outcome: 'improvement_achieved', reason: 'Plan delivered' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'closed', outcome: 'improvement_achieved', outcomeReason: 'Plan delivered' });
    version = r.body.version;

    r = await move(officer, { move: 'reopen', reason: 'New concern' });
    expect(r.status).toBe(403);
    r = await move(manager, { move: 'reopen', reason: 'New concern' });
    expect(r.body.state).toBe('triage');

    const history = await request(t.http).get(`/cases/${id}/history`).set(officer.auth);
    expect(history.body.map((h: { move: string }) => h.move)).toEqual([
      'open', 'start_triage', 'follow_up', 'refer_to_riep', 'start_support', 'call_pre_intervention_meeting', 'return_to_sector_led_support', 'close', 'reopen',
    ]);
    expect(history.body[7]).toMatchObject({ from: 'improvement_support', to: 'closed', reason: 'Plan delivered', actorId: manager.id });
    c = await request(t.http).get(`/cases/${id}`).set(officer.auth);
    expect(c.body.outcome).toBeNull();
  });

  it('lets exactly one of two concurrent moves succeed; the other gets 409', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'LDS', receivedOn: '2026-10-01', channel: 'peer', area: 'finance', description: 'x',
    });
    const { id, version } = logged.body.case;
    const results = await Promise.all([
      request(t.http).post(`/cases/${id}/moves`).set(officer.auth).send({ move: 'start_triage', version }),
      request(t.http).post(`/cases/${id}/moves`).set(officer.auth).send({ move: 'start_triage', version }),
    ]);
    expect(results.map((x) => x.status).sort()).toEqual([200, 409]);
    const history = await request(t.http).get(`/cases/${id}/history`).set(officer.auth);
    expect(history.body).toHaveLength(2);
  });
});
