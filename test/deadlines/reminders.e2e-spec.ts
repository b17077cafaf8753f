import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import request from 'supertest';
import { Region, Role } from '../../src/access-control/role';
import { ReminderDecision } from '../../src/deadlines/deadline-rules';
import { DEADLINES_QUEUE, DeadlineJob, DeadlineKind, ReminderKind } from '../../src/deadlines/deadline.types';
import { addCalendarDays, londonDateOf, londonStartOf, WorkingCalendar } from '../../src/deadlines/working-calendar';
import { addToTeam, expectStatus, moveOk, Person, versionOf } from '../access-matrix/fixtures';
import { createUser, signedIn } from '../support/app';
import { createDeadlinesApp, DEADLINE_DOMAIN, deadlinesOf, ours, DeadlinesTestApp, deleteKeys, eventually, notificationsAbout, remindersOf, TestClock } from './support';

/*
 * Deadlines and their reminders, through the real application on PostgreSQL and Redis, with a
 * clock the test moves (days pass in a statement). Cases are on Exeter, Cambridge, Ipswich,
 * Norwich and Lincoln, which no other test file uses; this file's application reminds about nothing else.
 */
jest.setTimeout(60_000);

const SECRETS = {
  description: 'SECRET-CONCERN the finance director hid a 40m gap',
  source: 'SECRET-SOURCE Pat Whistle',
  summary: 'SECRET-SUMMARY the leader admitted the gap',
  action: 'SECRET-ACTION publish the recovery plan',
};
const calendar = new WorkingCalendar();
/** This file's authorities (see createDeadlinesApp). */
const AUTHORITIES = ['EXE', 'CAB', 'IPS', 'NOW', 'LIC'];
const today = () => londonDateOf(new Date());

describe('deadlines, reminders and escalation', () => {
  const clock = new TestClock();
  let t: DeadlinesTestApp;
  let queue: Queue;
  let officer: Person;
  let manager: Person;

  beforeAll(async () => {
    t = await createDeadlinesApp(clock, AUTHORITIES);
    queue = t.app.get<Queue>(getQueueToken(DEADLINES_QUEUE));
    officer = await signedIn(t, Role.ClearingHouseOfficer, ours('Deadline Officer'));
    manager = await signedIn(t, Role.ClearingHouseManager, ours('Deadline Manager'));
  });
  afterAll(async () => {
    await t.close();
    await deleteKeys(t.redisUrl, t.prefix);
  });

  async function logConcern(authority: string, receivedOn = today()): Promise<{ id: string; reference: string }> {
    clock.set(new Date());
    const res = expectStatus(
      await request(t.http).post('/concerns').set(officer.auth).send({
        authority, receivedOn, channel: 'sector_intelligence', area: 'finance', description: SECRETS.description, source: { name: SECRETS.source, contact: '0100 000' },
      }),
      201,
    );
    return { id: res.body.case.id, reference: res.body.case.reference };
  }

  async function openDeadline(caseId: string, kind: DeadlineKind) {
    const rows = (await deadlinesOf(t.owner, caseId)).filter((d) => d.kind === kind && d.state === 'open');
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  /** Waits until the worker has nothing left to do (every job queued by a sweep has run). */
  async function drained(): Promise<void> {
    await eventually('the deadlines queue to drain', async () => {
      // (The repeatable sweep always waits, delayed, for its next turn.)
      const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'paused']);
      return jobs.every((j) => !j || j.name !== DeadlineJob.Remind) ? true : undefined;
    });
  }

  it('counts working days across Easter: received on Maundy Thursday, triage is due eight calendar days later; the warning starts at midnight in England', async () => {
    const c = await logConcern('NOW', '2026-04-02');
    const d = await openDeadline(c.id, DeadlineKind.Triage);
    // 3 and 6 April are bank holidays: 7, 8, 9, 10 and 13 April are the five working days.
    expect(d).toMatchObject({ due_on: '2026-04-13', warn_on: '2026-04-09' });
    // In BST: 9 April begins at 23:00 UTC on the 8th.
    clock.set('2026-04-08T22:59:59Z');
    expect(await t.reminders.run(d.id, ReminderKind.Approaching)).toBe(ReminderDecision.NotYet);
    clock.set('2026-04-08T23:00:00Z');
    expect(await t.reminders.run(d.id, ReminderKind.Approaching)).toBe(ReminderDecision.Send);
    clock.set('2026-04-13T22:59:59Z');
    expect(await t.reminders.run(d.id, ReminderKind.Missed)).toBe(ReminderDecision.NotYet);
    clock.set('2026-04-13T23:00:00Z');
    expect(await t.reminders.run(d.id, ReminderKind.Missed)).toBe(ReminderDecision.Send);
    expect((await remindersOf(t.owner, [d.id])).map((r) => r.kind)).toEqual(['approaching', 'missed']);
  });

  describe('on a case restricted to its team', () => {
    let c: { id: string; reference: string };
    let deadlineId: string;
    let caseLead: Person;
    const users: Record<string, string> = {};

    beforeAll(async () => {
      c = await logConcern('EXE');
      caseLead = await signedIn(t, Role.ClearingHouseManager, ours('Case lead manager'));
      const peer = await createUser(t.ds, Role.LeadPoliticalPeer, ours('Team peer'));
      const disabledOfficer = await createUser(t.ds, Role.ClearingHouseOfficer, ours('Disabled officer'));
      const otherManager = await createUser(t.ds, Role.ClearingHouseManager, ours('Manager not on the team'));
      const disabledManager = await createUser(t.ds, Role.ClearingHouseManager, ours('Disabled manager'));
      const riepElsewhere = await createUser(t.ds, Role.RiepFacilitator, { region: Region.NorthEast, ...ours('RIEP of another region') });
      const outsideOfficer = await createUser(t.ds, Role.ClearingHouseOfficer, ours('Officer not on the team'));
      Object.assign(users, {
        officer: officer.id, manager: manager.id, caseLead: caseLead.id, peer: peer.id, disabledOfficer: disabledOfficer.id, otherManager: otherManager.id,
        disabledManager: disabledManager.id, riepElsewhere: riepElsewhere.id, outsideOfficer: outsideOfficer.id,
      });
      await addToTeam(t, manager, c.id, caseLead, 'case_lead');
      await addToTeam(t, manager, c.id, officer, 'case_officer');
      await addToTeam(t, manager, c.id, peer as unknown as Person, 'lead_political_peer');
      await addToTeam(t, manager, c.id, disabledOfficer as unknown as Person, 'case_officer');
      // The API refuses a facilitator of another region; put one there directly: on the team, yet not allowed to see the case.
      await t.owner.query(`INSERT INTO case_team_members (case_id, user_id, team_role, added_by) VALUES ($1, $2, 'riep_facilitator', $3)`, [c.id, riepElsewhere.id, manager.id]);
      await t.ds.query(`UPDATE users SET disabled_at = now() WHERE id = ANY($1::uuid[])`, [[disabledOfficer.id, disabledManager.id]]);
      // Restricted by a manager who is not on the team: they, and the team, see it; other managers do not.
      expectStatus(await request(t.http).put(`/cases/${c.id}/restriction`).set(manager.auth).send({ restricted: true, version: await versionOf(t, c.id) }), 200);
      deadlineId = (await openDeadline(c.id, DeadlineKind.Triage)).id;
    });

    it('sets the triage deadline five working days after the concern was received, warning two working days before', async () => {
      const d = await openDeadline(c.id, DeadlineKind.Triage);
      const due = calendar.addWorkingDays(today(), 5);
      expect(d).toMatchObject({ due_on: due, warn_on: calendar.addWorkingDays(due, -2) });
    });

    it('sends nothing before the warning day', async () => {
      const d = await openDeadline(c.id, DeadlineKind.Triage);
      clock.set(new Date(londonStartOf(d.warn_on).getTime() - 3 * 3_600_000));
      await t.scheduler.sweep();
      await drained();
      expect(await remindersOf(t.owner, [deadlineId])).toEqual([]);
      expect(await notificationsAbout(t.owner, c.id)).toEqual([]);
    });

    it('warns the case team members who may see the case when the deadline approaches', async () => {
      const d = await openDeadline(c.id, DeadlineKind.Triage);
      clock.set(new Date(londonStartOf(d.warn_on).getTime() + 3_600_000));
      expect(await t.scheduler.sweep()).toBeGreaterThanOrEqual(1);
      await eventually('the approaching reminder', async () => ((await remindersOf(t.owner, [deadlineId])).length === 1 ? true : undefined));
      await drained();
      const sent = await notificationsAbout(t.owner, c.id);
      expect(sent.map((n) => n.kind)).toEqual(['deadline_approaching', 'deadline_approaching', 'deadline_approaching']);
      expect(sent.map((n) => n.user_id).sort()).toEqual([users.officer, users.caseLead, users.peer].sort());
      expect(sent[0].title).toBe(`${c.reference}: triage of the concern is due on ${longDateOf(d.due_on)}`);
    });

    it('when it is missed: tells the team, and escalates to every active manager who may see the case (not the others, not the disabled)', async () => {
      const d = await openDeadline(c.id, DeadlineKind.Triage);
      clock.set(new Date(londonStartOf(addCalendarDays(d.due_on, 1)).getTime() + 60_000));
      await t.scheduler.sweep();
      await eventually('the missed reminder', async () => ((await remindersOf(t.owner, [deadlineId])).length === 2 ? true : undefined));
      await drained();
      const sent = await notificationsAbout(t.owner, c.id);
      const of = (kind: string) => sent.filter((n) => n.kind === kind).map((n) => n.user_id).sort();
      expect(of('deadline_missed')).toEqual([users.officer, users.caseLead, users.peer].sort());
      // The restricting manager (not on the team) and the case lead: the managers who may see it.
      expect(of('escalation')).toEqual([users.manager, users.caseLead].sort());
      for (const who of ['disabledOfficer', 'disabledManager', 'otherManager', 'riepElsewhere', 'outsideOfficer']) {
        expect(sent.map((n) => n.user_id)).not.toContain(users[who]);
      }
      expect(sent.find((n) => n.kind === 'escalation')!.title).toBe(`Escalation: ${c.reference} missed a deadline (triage of the concern, due ${longDateOf(d.due_on)})`);
      expect(await remindersOf(t.owner, [deadlineId])).toEqual([
        { deadline_id: deadlineId, kind: 'approaching', notifications: 3 },
        { deadline_id: deadlineId, kind: 'missed', notifications: 5 },
      ]);
    });

    it('names the case reference and what is due, never case content, in the inbox and in the e-mail', async () => {
      const sent = await notificationsAbout(t.owner, c.id);
      const mail: Array<{ subject: string; body: string }> = await t.owner.query(
        `SELECT o.subject, o.body FROM email_outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.case_id = $1`, [c.id]);
      expect(mail).toHaveLength(sent.length);
      const texts = [...sent.flatMap((n) => [n.title, n.body]), ...mail.flatMap((m) => [m.subject, m.body])];
      for (const text of texts) {
        expect(text).toContain(c.reference);
        for (const secret of [...Object.values(SECRETS), 'Exeter', 'Pat Whistle', 'finance']) expect(text).not.toContain(secret);
      }
      // Through the API: the inbox of a team member shows the same text.
      const inbox = await request(t.http).get('/inbox').set(officer.auth);
      expect(inbox.body.items.map((i: { title: string }) => i.title)).toContain(sent.find((n) => n.user_id === officer.id && n.kind === 'deadline_missed')!.title);
    });

    it('audits the background work like any other access to the case, as the system', async () => {
      const rows = await t.ds.query(
        `SELECT actor_id, actor_role, action, resource_type, resource_id, outcome, rule, user_agent FROM audit_events WHERE case_id = $1 AND action = 'send_reminder' ORDER BY occurred_at`, [c.id]);
      expect(rows).toEqual([
        { actor_id: null, actor_role: 'system', action: 'send_reminder', resource_type: 'deadline', resource_id: deadlineId, outcome: 'allowed', rule: 'triage:approaching', user_agent: 'deadlines-job' },
        { actor_id: null, actor_role: 'system', action: 'send_reminder', resource_type: 'deadline', resource_id: deadlineId, outcome: 'allowed', rule: 'triage:missed', user_agent: 'deadlines-job' },
      ]);
    });

    it('sends each reminder once however often the job runs, at the same time or later', async () => {
      const before = await notificationsAbout(t.owner, c.id);
      const outcomes = await Promise.all([t.reminders.run(deadlineId, ReminderKind.Missed), t.reminders.run(deadlineId, ReminderKind.Missed), t.reminders.run(deadlineId, ReminderKind.Approaching)]);
      expect(outcomes.filter((o) => o === ReminderDecision.Send)).toEqual([]);
      await t.scheduler.sweep();
      await drained();
      expect(await notificationsAbout(t.owner, c.id)).toEqual(before);
      expect(await remindersOf(t.owner, [deadlineId])).toHaveLength(2);
    });
  });

  it('a job for a missed deadline that runs twice at once sends one reminder to each person', async () => {
    const c = await logConcern('CAB');
    const d = await openDeadline(c.id, DeadlineKind.Triage);
    clock.set(new Date(londonStartOf(addCalendarDays(d.due_on, 1)).getTime() + 60_000));
    const outcomes = await Promise.all([1, 2, 3].map(() => t.reminders.run(d.id, ReminderKind.Missed)));
    expect(outcomes.sort()).toEqual(['already_sent', 'already_sent', ReminderDecision.Send].sort());
    // Nobody on the team: the officer who opened the case is told.
    const sent = await notificationsAbout(t.owner, c.id);
    expect(sent.filter((n) => n.kind === 'deadline_missed').map((n) => n.user_id)).toEqual([officer.id]);
    // Every active manager (of this file's: see DEADLINE_DOMAIN), on the team or not.
    const managers: Array<{ id: string }> = await t.ds.query(`SELECT id FROM users WHERE role = 'clearing_house_manager' AND disabled_at IS NULL AND email LIKE $1`, [`%@${DEADLINE_DOMAIN}`]);
    expect(managers.length).toBeGreaterThanOrEqual(3);
    expect(sent.filter((n) => n.kind === 'escalation').map((n) => n.user_id).sort()).toEqual(managers.map((m) => m.id).sort());
    expect(new Set(sent.map((n) => `${n.user_id}:${n.kind}`)).size).toBe(sent.length);
  });

  describe('a case that moved on', () => {
    it('is skipped when its job runs after the move: the move closed the deadline in its own transaction', async () => {
      const c = await logConcern('IPS');
      const d = await openDeadline(c.id, DeadlineKind.Triage);
      await moveOk(t, officer, c.id, 'start_triage');
      clock.set(new Date(londonStartOf(addCalendarDays(d.due_on, 1)).getTime() + 60_000));
      // The reminder is queued while the worker is paused; then the case is triaged (monitored).
      await queue.pause(true);
      try {
        expect(await t.scheduler.sweep()).toBeGreaterThanOrEqual(1);
        clock.set(new Date());
        await moveOk(t, officer, c.id, 'monitor', { reason: 'The authority has a credible plan' });
        expect((await deadlinesOf(t.owner, c.id)).find((x) => x.id === d.id)).toMatchObject({ state: 'met', closed_reason: 'met' });
      } finally {
        await queue.resume(true);
      }
      await drained();
      expect(await remindersOf(t.owner, [d.id])).toEqual([]);
      expect(await notificationsAbout(t.owner, c.id)).toEqual([]);
    });

    it('is skipped, and its deadline closed, when the case left the stage without the deadline being closed', async () => {
      const c = await logConcern('IPS');
      clock.set(new Date());
      await moveOk(t, officer, c.id, 'start_triage');
      await moveOk(t, officer, c.id, 'follow_up');
      const d = await openDeadline(c.id, DeadlineKind.FirstSensitiveConversation);
      expect(d.due_on).toBe(calendar.addWorkingDays(today(), 15));
      // As a case moved by something that does not know about deadlines would be.
      await t.owner.query(`UPDATE cases SET state = 'riep_discussion' WHERE id = $1`, [c.id]);
      clock.set(new Date(londonStartOf(addCalendarDays(d.due_on, 1)).getTime() + 60_000));
      expect(await t.reminders.run(d.id, ReminderKind.Missed)).toBe(ReminderDecision.CaseMovedOn);
      expect((await deadlinesOf(t.owner, c.id)).find((x) => x.id === d.id)).toMatchObject({ state: 'cancelled', closed_reason: 'case_moved_on' });
      expect(await remindersOf(t.owner, [d.id])).toEqual([]);
      expect(await notificationsAbout(t.owner, c.id)).toEqual([]);
      expect(await t.ds.query(`SELECT rule FROM audit_events WHERE case_id = $1 AND action = 'send_reminder'`, [c.id])).toEqual([
        { rule: 'first_sensitive_conversation:missed:skipped_case_moved_on' },
      ]);
      // Nothing more: the sweep no longer sees it.
      await t.scheduler.sweep();
      await drained();
      expect(await notificationsAbout(t.owner, c.id)).toEqual([]);
    });
  });

  it('agreed actions, review dates and the pre-intervention meeting: created, met and cancelled by the commands themselves', async () => {
    const c = await logConcern('LIC');
    clock.set(new Date());
    const now = today();
    await moveOk(t, officer, c.id, 'start_triage');
    await moveOk(t, officer, c.id, 'follow_up');
    expect((await deadlinesOf(t.owner, c.id)).map((d) => [d.kind, d.state])).toEqual([['triage', 'met'], ['first_sensitive_conversation', 'open']]);

    // A sensitive conversation meets the first-conversation deadline; its actions' due dates become deadlines.
    const a1 = addCalendarDays(now, 20);
    const a3 = addCalendarDays(now, 30);
    const record = expectStatus(
      await request(t.http).post(`/cases/${c.id}/conversations`).set(officer.auth).send({
        kind: 'sensitive_conversation', heldOn: now, summary: SECRETS.summary, handling: 'normal',
        agreedActions: [{ description: SECRETS.action, owner: 'Leader', dueOn: a1 }, { description: 'No date', owner: 'Chief executive' }, { description: 'Third', owner: 'Leader', dueOn: a3 }],
      }),
      201,
    ).body;
    let rows = await deadlinesOf(t.owner, c.id);
    expect(rows.find((d) => d.kind === 'first_sensitive_conversation')).toMatchObject({ state: 'met' });
    const actions = rows.filter((d) => d.kind === 'agreed_action');
    expect(actions.map((d) => [d.source_id, d.source_item, d.due_on, d.state])).toEqual([[record.recordId, 0, a1, 'open'], [record.recordId, 2, a3, 'open']]);

    // A correction that moves one date: that deadline is replaced, the unchanged one stays as it was.
    const a3b = addCalendarDays(now, 40);
    expectStatus(
      await request(t.http).post(`/conversations/${record.recordId}/corrections`).set(officer.auth).send({
        version: 1, correctionReason: 'Date agreed later', kind: 'sensitive_conversation', heldOn: now, summary: SECRETS.summary,
        agreedActions: [{ description: SECRETS.action, owner: 'Leader', dueOn: a1 }, { description: 'No date', owner: 'Chief executive' }, { description: 'Third', owner: 'Leader', dueOn: a3b }],
      }),
      201,
    );
    rows = await deadlinesOf(t.owner, c.id);
    expect(rows.filter((d) => d.kind === 'agreed_action').map((d) => [d.id === actions[0].id ? 'same' : 'new', d.source_item, d.due_on, d.state, d.closed_reason])).toEqual([
      ['same', 0, a1, 'open', null],
      ['new', 2, a3, 'cancelled', 'source_changed'],
      ['new', 2, a3b, 'open', null],
    ]);

    // Agreed support: its future review dates are deadlines; a progress note from the warning day on meets the review due.
    await moveOk(t, officer, c.id, 'refer_to_riep');
    const r1 = calendar.addWorkingDays(now, 10);
    const r2 = calendar.addWorkingDays(now, 30);
    const support = expectStatus(
      await request(t.http).post(`/cases/${c.id}/support`).set(officer.auth).send({ kind: 'mentoring', description: 'Mentoring', status: 'agreed', reviewDates: [addCalendarDays(now, -3), r1, r2] }),
      201,
    ).body;
    rows = await deadlinesOf(t.owner, c.id);
    expect(rows.filter((d) => d.kind === 'support_review').map((d) => [d.due_on, d.state])).toEqual([[r1, 'open'], [r2, 'open']]);
    expectStatus(await request(t.http).post(`/support/${support.id}/progress-notes`).set(officer.auth).send({ note: 'Early note' }), 201);
    expect((await deadlinesOf(t.owner, c.id)).filter((d) => d.kind === 'support_review' && d.state === 'open')).toHaveLength(2);
    clock.set(londonStartOf(calendar.addWorkingDays(r1, -2)));
    expectStatus(await request(t.http).post(`/support/${support.id}/progress-notes`).set(officer.auth).send({ note: 'Review held' }), 201);
    expect((await deadlinesOf(t.owner, c.id)).filter((d) => d.kind === 'support_review').map((d) => [d.due_on, d.state])).toEqual([[r1, 'met'], [r2, 'open']]);
    clock.set(new Date());
    expectStatus(await request(t.http).patch(`/support/${support.id}`).set(officer.auth).send({ version: support.version, status: 'withdrawn' }), 200);
    expect((await deadlinesOf(t.owner, c.id)).filter((d) => d.kind === 'support_review').map((d) => [d.due_on, d.state, d.closed_reason])).toEqual([
      [r1, 'met', 'met'], [r2, 'cancelled', 'source_ended'],
    ]);

    // The pre-intervention stage: a target date, replaced by the meeting's date; deferral sets the next.
    expectStatus(await request(t.http).put(`/cases/${c.id}/government-trigger`).set(officer.auth).send({ department: 'Department for Education', power: 'improvement_notice', version: await versionOf(t, c.id) }), 200);
    await moveOk(t, officer, c.id, 'call_pre_intervention_meeting');
    let meetings = (await deadlinesOf(t.owner, c.id)).filter((d) => d.kind === 'pre_intervention_meeting');
    expect(meetings.map((d) => [d.source_id, d.due_on, d.state])).toEqual([[null, calendar.addWorkingDays(now, 10), 'open']]);
    const meetingOn = addCalendarDays(now, 7);
    const meeting = expectStatus(
      await request(t.http).post(`/cases/${c.id}/pre-intervention-meetings`).set(officer.auth).send({
        meetingOn, interventionContemplated: 'improvement_notice', attendees: [{ organisationType: 'authority', organisation: 'The council' }],
      }),
      201,
    ).body;
    const deferredUntil = addCalendarDays(now, 21);
    expectStatus(await request(t.http).post(`/pre-intervention-meetings/${meeting.id}/outcome`).set(officer.auth).send({ outcome: 'deferred', version: meeting.version, deferredUntil }), 200);
    meetings = (await deadlinesOf(t.owner, c.id)).filter((d) => d.kind === 'pre_intervention_meeting');
    expect(meetings.map((d) => [d.source_id, d.due_on, d.state, d.closed_reason])).toEqual([
      [null, calendar.addWorkingDays(now, 10), 'cancelled', 'source_changed'],
      [meeting.id, meetingOn, 'met', 'met'],
      [meeting.id, deferredUntil, 'open', null],
    ]);
    // The agreed actions stand while the case is open, and close with it.
    const open = (await deadlinesOf(t.owner, c.id)).filter((d) => d.state === 'open').map((d) => d.kind).sort();
    expect(open).toEqual(['agreed_action', 'agreed_action', 'pre_intervention_meeting']);
    await moveOk(t, manager, c.id, 'close', { outcome: 'withdrawn', reason: 'The authority withdrew' });
    expect((await deadlinesOf(t.owner, c.id)).filter((d) => d.state === 'open')).toEqual([]);
  });

  it('a refused command leaves no deadline behind', async () => {
    const c = await logConcern('LIC');
    const before = await deadlinesOf(t.owner, c.id);
    const stale = await request(t.http).post(`/cases/${c.id}/moves`).set(officer.auth).send({ move: 'start_triage', version: (await versionOf(t, c.id)) + 5 });
    expect(stale.status).toBe(409);
    expect(await deadlinesOf(t.owner, c.id)).toEqual(before);
  });
});

function longDateOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const weekday = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getUTCDay()];
  const month = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][d.getUTCMonth()];
  return `${weekday} ${d.getUTCDate()} ${month} ${d.getUTCFullYear()}`;
}
