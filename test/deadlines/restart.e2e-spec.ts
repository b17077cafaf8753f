import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { ReminderDecision } from '../../src/deadlines/deadline-rules';
import { DEADLINES_QUEUE, DeadlineJob, DeadlineKind, ReminderKind } from '../../src/deadlines/deadline.types';
import { addCalendarDays, londonDateOf, londonStartOf, WorkingCalendar } from '../../src/deadlines/working-calendar';
import { expectStatus } from '../access-matrix/fixtures';
import { createUser, signedIn } from '../support/app';
import { createDeadlinesApp, deadlinesOf, DeadlinesTestApp, eventually, notificationsAbout, ours, PrivateRedis, remindersOf, TestClock } from './support';

/*
 * Nothing depends on Redis keeping state. This file runs its own Redis (never the shared one),
 * kills it while reminder jobs wait in it, and restarts it empty; the application is closed and
 * a new one started, as a deploy or a crash would. The deadlines in PostgreSQL are the truth:
 * the new worker re-derives the jobs at start-up, and every reminder goes exactly once.
 */
jest.setTimeout(120_000);

const calendar = new WorkingCalendar();
/** Oxford, Winchester, Canterbury: this file's alone (see createDeadlinesApp). */
const AUTHORITIES = ['OXO', 'WIN', 'CAT'];
const after = (date: string, ms = 3_600_000) => new Date(londonStartOf(date).getTime() + ms);

describe('reminders across a restart of the worker and of Redis', () => {
  const redis = new PrivateRedis();
  const clock = new TestClock();
  const prefix = `${process.env.QUEUE_PREFIX}_dlr_${randomUUID().slice(0, 8)}`;
  let t: DeadlinesTestApp | undefined;

  const start = async () => createDeadlinesApp(clock, AUTHORITIES, { REDIS_URL: redis.url, QUEUE_PREFIX: prefix });
  const queueOf = (app: DeadlinesTestApp) => app.app.get<Queue>(getQueueToken(DEADLINES_QUEUE));

  beforeAll(async () => {
    await redis.start();
  });
  afterAll(async () => {
    await t?.close();
    await redis.kill();
  });

  it('restarts the worker and Redis mid-schedule and finds every reminder sent exactly once', async () => {
    t = await start();
    const officer = await signedIn(t, Role.ClearingHouseOfficer, ours('Restart officer'));
    const managers = [await createUser(t.ds, Role.ClearingHouseManager, ours('Restart manager A')), await createUser(t.ds, Role.ClearingHouseManager, ours('Restart manager B'))];

    // Three cases whose triage deadlines fall on consecutive working days: at any moment some
    // reminders are sent, some due, some still to come.
    const today = londonDateOf(new Date());
    // The last working day up to today (a concern received at a weekend counts from Monday).
    const base = calendar.isWorkingDay(today) ? today : calendar.addWorkingDays(today, -1);
    const cases: Array<{ id: string; reference: string; deadline: { id: string; due_on: string; warn_on: string } }> = [];
    for (const [i, authority] of AUTHORITIES.entries()) {
      clock.set(new Date());
      const res = expectStatus(
        await request(t.http).post('/concerns').set(officer.auth).send({
          authority, receivedOn: calendar.addWorkingDays(base, i - 2), channel: 'sector_intelligence', area: 'finance', description: 'SECRET-RESTART concern text',
        }),
        201,
      );
      const [deadline] = (await deadlinesOf(t.owner, res.body.case.id)).filter((d) => d.kind === DeadlineKind.Triage);
      cases.push({ id: res.body.case.id, reference: res.body.case.reference, deadline });
    }
    const [d1, d2, d3] = cases.map((c) => c.deadline);
    const ids = cases.map((c) => c.deadline.id);
    expect(d2.due_on).toBe(calendar.addWorkingDays(d1.due_on, 1));
    expect(d3.due_on).toBe(calendar.addWorkingDays(d2.due_on, 1));

    // 1. The first warning is due: the worker sends it.
    clock.set(after(d1.warn_on));
    await t.scheduler.sweep();
    await eventually('the first warning', async () => ((await remindersOf(t!.owner, ids)).length === 1 ? true : undefined));
    expect(await remindersOf(t.owner, ids)).toEqual([{ deadline_id: d1.id, kind: 'approaching', notifications: 1 }]);

    // 2. Two more warnings are due and queued in Redis, but the worker is held back: mid-schedule.
    clock.set(after(d3.warn_on));
    const queueA = queueOf(t);
    await queueA.pause(true);
    expect(await t.scheduler.sweep()).toBe(2);
    const waiting = (await queueA.getJobs(['waiting', 'paused'])).filter((j) => j?.name === DeadlineJob.Remind).map((j) => j.id).sort();
    expect(waiting).toEqual([`remind:${d2.id}:approaching`, `remind:${d3.id}:approaching`].sort());
    expect((await redis.keys(`${prefix}:${DEADLINES_QUEUE}:remind:*`)).length).toBeGreaterThanOrEqual(2);

    // 3. The worker stops and Redis dies: its jobs, and the schedule, are gone.
    await t.close();
    t = undefined;
    await redis.kill();
    await redis.start();
    expect(await redis.keys('*')).toEqual([]);

    // 4. A day later a new worker starts on the empty Redis: at start-up it finds, in PostgreSQL,
    //    the two lost warnings and the first deadline, now missed.
    clock.set(after(addCalendarDays(d1.due_on, 1), 60_000));
    t = await start();
    await eventually('the lost warnings and the first miss', async () => ((await remindersOf(t!.owner, ids)).length === 4 ? true : undefined));

    // 5. Everything else falls due; the sweep runs more than once, and jobs run again by hand.
    clock.set(after(addCalendarDays(d3.due_on, 3)));
    await t.scheduler.sweep();
    await t.scheduler.sweep();
    await eventually('every reminder', async () => ((await remindersOf(t!.owner, ids)).length === 6 ? true : undefined));
    for (const id of ids) {
      for (const kind of [ReminderKind.Approaching, ReminderKind.Missed]) expect(await t.reminders.run(id, kind)).not.toBe(ReminderDecision.Send);
    }
    await t.scheduler.sweep();
    const queue = queueOf(t);
    await eventually('the queue to drain', async () => {
      const jobs = await queue.getJobs(['waiting', 'active', 'delayed']);
      return jobs.every((j) => !j || j.name !== DeadlineJob.Remind) ? true : undefined;
    });

    // Exactly once each: one warning and one miss per deadline; one notification (and one e-mail) per person and reminder.
    expect((await remindersOf(t.owner, ids)).map((r) => [r.deadline_id, r.kind, r.notifications])).toEqual(
      ids.flatMap((id) => [[id, 'approaching', 1], [id, 'missed', 1 + managers.length]]).sort((a, b) => `${a[0]}${a[1]}`.localeCompare(`${b[0]}${b[1]}`)),
    );
    for (const c of cases) {
      const sent = await notificationsAbout(t.owner, c.id);
      expect(sent.map((n) => `${n.kind} ${n.user_id}`).sort()).toEqual(
        [`deadline_approaching ${officer.id}`, `deadline_missed ${officer.id}`, ...managers.map((m) => `escalation ${m.id}`)].sort(),
      );
      const [{ n }] = await t.owner.query(`SELECT count(*)::int AS n FROM email_outbox o JOIN notifications x ON x.id = o.notification_id WHERE x.case_id = $1`, [c.id]);
      expect(n).toBe(sent.length);
      for (const text of sent.flatMap((s) => [s.title, s.body])) expect(text).not.toContain('SECRET-RESTART');
    }
  });
});
