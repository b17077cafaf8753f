import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { AuditVerificationService } from '../../src/audit/audit-verification.service';
import { AuditSealer, SEALER_LOCK_KEY } from '../../src/audit/sealer';
import { DEADLINES_QUEUE, DeadlineJob, ReminderKind } from '../../src/deadlines/deadline.types';
import { DataSource } from 'typeorm';
import { createUser, ownerDataSource, signIn } from '../support/app';
import { createDeadlinesApp, DeadlinesTestApp, deadlinesOf, deleteKeys, eventually, notificationsAbout, ours, remindersOf, TestClock } from '../deadlines/support';

/*
 * Two instances of the service (two real Nest applications in this process, each with its own
 * HTTP server, connection pool and Bull workers) sharing PostgreSQL and one Redis key prefix, as
 * two processes behind a load balancer would. Cases are on Bradford, Sheffield, Kirklees and
 * Plymouth, which no other test file uses; these applications remind about nothing else.
 */
jest.setTimeout(60_000);

const AUTHORITIES = ['BRD', 'SHF', 'KIR', 'PLY'];

describe('two instances sharing PostgreSQL and Redis', () => {
  const clock = new TestClock();
  const prefix = `${process.env.QUEUE_PREFIX}_two_${randomUUID().slice(0, 8)}`;
  let a: DeadlinesTestApp;
  let b: DeadlinesTestApp;
  // Assertions read the tables as the owner (row-level security scopes the service's own reads to a request's caller).
  let owner: DataSource;

  beforeAll(async () => {
    // One prefix for both: they share every queue, the repeatable sealer and sweeps included.
    owner = await ownerDataSource();
    [a, b] = await Promise.all([createDeadlinesApp(clock, AUTHORITIES, { QUEUE_PREFIX: prefix }), createDeadlinesApp(clock, AUTHORITIES, { QUEUE_PREFIX: prefix })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), owner?.destroy()]);
    await deleteKeys(a.redisUrl, prefix);
  });

  it('accepts a session started on one instance on the other, and a sign-out on one ends it on both', async () => {
    const officer = await createUser(owner, Role.ClearingHouseOfficer, ours('Two Officer'));
    const { accessToken } = await signIn(a.http, officer.email);
    const auth = { Authorization: `Bearer ${accessToken}` };
    expect((await request(b.http).get('/auth/me').set(auth)).status).toBe(200);
    expect((await request(a.http).get('/auth/me').set(auth)).status).toBe(200);
    // A manager's second factor, enrolled through A, completes a sign-in through B.
    const manager = await createUser(owner, Role.ClearingHouseManager, ours('Two Manager'));
    await signIn(a.http, manager.email);
    const viaB = await signIn(b.http, manager.email);
    expect((await request(a.http).get('/cases').set({ Authorization: `Bearer ${viaB.accessToken}` })).status).toBe(200);

    expect((await request(b.http).post('/auth/sign-out').set(auth)).status).toBeLessThan(300);
    expect((await request(a.http).get('/auth/me').set(auth)).status).toBe(401);
    expect((await request(b.http).get('/auth/me').set(auth)).status).toBe(401);
  });

  it('splits concurrent concern creates between the instances without a duplicate case reference', async () => {
    const officer = await createUser(owner, Role.ClearingHouseOfficer, ours('Split Officer'));
    const { accessToken } = await signIn(a.http, officer.email);
    const auth = { Authorization: `Bearer ${accessToken}` };
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        request((i % 2 === 0 ? a : b).http).post('/concerns').set(auth).send({
          authority: AUTHORITIES[i % AUTHORITIES.length], receivedOn: '2026-10-01', channel: 'peer', area: 'finance', description: `split load ${i}`,
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(201));
    const references = results.map((r) => r.body.case.reference as string);
    expect(new Set(references).size).toBe(24);
    const [dup] = await owner.query(`SELECT count(*)::int AS n FROM (SELECT reference FROM cases GROUP BY reference HAVING count(*) > 1) d`);
    expect(dup.n).toBe(0);
    // Each instance reads what the other wrote.
    const id = results[1].body.case.id;
    expect((await request(a.http).get(`/cases/${id}`).set(auth)).status).toBe(200);
  });

  it('runs one sealer at a time, and both extend one audit tree that verifies', async () => {
    const sealerA = a.app.get(AuditSealer);
    const sealerB = b.app.get(AuditSealer);
    // While A holds the sealer's lock, B's pass stands aside.
    const held = a.ds.createQueryRunner();
    await held.connect();
    try {
      await held.startTransaction();
      await held.query(`SELECT pg_advisory_xact_lock($1)`, [SEALER_LOCK_KEY]);
      expect(await sealerB.sealOnce()).toMatchObject({ skipped: 'locked', sealed: 0 });
      await held.commitTransaction();
    } finally {
      await held.release();
    }
    // Both seal at once, several times over: every pass either seals or stands aside.
    const officer = await createUser(owner, Role.ClearingHouseOfficer, ours('Seal Officer'));
    const { accessToken } = await signIn(b.http, officer.email);
    for (let round = 0; round < 3; round++) {
      await request(a.http).get('/cases').set({ Authorization: `Bearer ${accessToken}` });
      await request(b.http).get('/cases').set({ Authorization: `Bearer ${accessToken}` });
      await Promise.all([sealerA.sealAll(), sealerB.sealAll(), sealerA.sealOnce(), sealerB.sealOnce()]);
    }
    // One tree: gapless sequence numbers, one chain of checkpoints (no fork), each extending the last.
    const [seals] = await owner.query(`SELECT count(*)::int AS n, coalesce(max(seq), 0)::int AS max, count(DISTINCT event_id)::int AS events FROM audit_seals`);
    expect(seals.max).toBe(seals.n);
    expect(seals.events).toBe(seals.n);
    const [chain] = await owner.query(`
      SELECT count(*)::int AS checkpoints, count(DISTINCT tree_size)::int AS sizes,
             count(*) FILTER (WHERE previous_hash IS NULL)::int AS roots,
             count(DISTINCT previous_hash)::int AS parents
        FROM audit_checkpoints`);
    expect(chain.sizes).toBe(chain.checkpoints);
    expect(chain.roots).toBe(1);
    expect(chain.parents).toBe(chain.checkpoints - 1);
    const report = await b.app.get(AuditVerificationService).verify({});
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('sends a due reminder once, however many instances sweep and run it', async () => {
    clock.set(new Date());
    const officer = await createUser(owner, Role.ClearingHouseOfficer, ours('Reminder Officer'));
    await createUser(owner, Role.ClearingHouseManager, ours('Reminder Manager'));
    const { accessToken } = await signIn(a.http, officer.email);
    // Received long ago: the triage deadline is missed, its reminder and escalation due now.
    const logged = await request(a.http).post('/concerns').set({ Authorization: `Bearer ${accessToken}` }).send({
      authority: 'PLY', receivedOn: '2026-09-01', channel: 'peer', area: 'finance', description: 'overdue triage',
    });
    expect(logged.status).toBe(201);
    const caseId = logged.body.case.id;
    const [deadline] = await deadlinesOf(owner, caseId);

    // Both sweep at once, twice, and both run the reminder directly too (a duplicate job).
    await Promise.all([a.scheduler.sweep(), b.scheduler.sweep(), a.scheduler.sweep(), b.scheduler.sweep()]);
    const direct = await Promise.all([a.reminders.run(deadline.id, ReminderKind.Missed), b.reminders.run(deadline.id, ReminderKind.Missed)]);
    expect(direct.filter((d) => d === 'already_sent').length).toBeGreaterThanOrEqual(1);
    const queue = a.app.get<Queue>(getQueueToken(DEADLINES_QUEUE));
    await eventually('the reminder jobs to run', async () => {
      const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'paused']);
      return jobs.every((j) => !j || j.name !== DeadlineJob.Remind) ? true : undefined;
    });

    expect((await remindersOf(owner, [deadline.id])).map((r) => r.kind)).toEqual([ReminderKind.Missed]);
    const notes = await notificationsAbout(owner, caseId);
    // One to the officer (the case's only team member) and one escalation to each of this file's managers.
    const perUserAndKind = new Map<string, number>();
    for (const n of notes) perUserAndKind.set(`${n.user_id}:${n.dedupe_key}`, (perUserAndKind.get(`${n.user_id}:${n.dedupe_key}`) ?? 0) + 1);
    expect([...perUserAndKind.values()].every((n) => n === 1)).toBe(true);
    expect(notes.filter((n) => n.user_id === officer.id)).toHaveLength(1);
    const [outbox] = await owner.query(
      `SELECT count(*)::int AS n, count(DISTINCT o.notification_id)::int AS distinct_notifications
         FROM email_outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.case_id = $1`,
      [caseId],
    );
    expect(outbox.n).toBe(notes.length);
    expect(outbox.distinct_notifications).toBe(notes.length);
  });
});
