import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { NotificationJob, QueueName } from '../../src/notifications/queues';
import { expectApiError } from '../support/api-error';
import { createTestApp, createUser, signedIn, TestApp } from '../support/app';
import { eventually, NOT_ADMINISTRATORS } from './support';

const BOARD = '/admin/queues/board';

describe('the queue board (bull-board) for administrators', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 401 without a valid access token and 403 to every role but the administrator', async () => {
    for (const path of [`${BOARD}`, `${BOARD}/`, `${BOARD}/api/queues`, `${BOARD}/static/css/nothing.css`]) {
      expectApiError(await request(t.http).get(path), 401, 'UNAUTHENTICATED');
      expectApiError(await request(t.http).get(path).set('Authorization', 'Bearer not.a.token'), 401, 'UNAUTHENTICATED');
      expectApiError(await request(t.http).get(path).set('Authorization', 'Basic YWRtaW46YWRtaW4='), 401, 'UNAUTHENTICATED');
    }
    expectApiError(await request(t.http).put(`${BOARD}/api/queues/${QueueName.Notifications}/pause`), 401, 'UNAUTHENTICATED');
    for (const role of NOT_ADMINISTRATORS) {
      const user = await signedIn(t, role);
      expectApiError(await request(t.http).get(`${BOARD}/`).set(user.auth), 403, 'FORBIDDEN');
      expectApiError(await request(t.http).get(`${BOARD}/api/queues`).set(user.auth), 403, 'FORBIDDEN');
      expectApiError(await request(t.http).put(`${BOARD}/api/queues/${QueueName.Notifications}/pause`).set(user.auth), 403, 'FORBIDDEN');
    }
    // An administrator's session that has not proved its second factor may only enrol one.
    const unenrolled = await createUser(t.ds, Role.Administrator);
    const signIn = await request(t.http).post('/auth/sign-in').send({ email: unenrolled.email, password: unenrolled.password });
    expect(signIn.body.mfaEnrolmentRequired).toBe(true);
    expectApiError(await request(t.http).get(`${BOARD}/api/queues`).set('Authorization', `Bearer ${signIn.body.accessToken}`), 403, 'MFA_ENROLMENT_REQUIRED');
    // A signed-out session's token is refused.
    const admin = await signedIn(t, Role.Administrator);
    await t.ds.query(`UPDATE sessions SET ended_at = now() WHERE user_id = $1`, [admin.id]);
    expectApiError(await request(t.http).get(`${BOARD}/api/queues`).set(admin.auth), 401, 'UNAUTHENTICATED');
    // Nothing was paused by the refused requests.
    expect(await t.app.get<Queue>(getQueueToken(QueueName.Notifications)).isPaused()).toBe(false);
  });

  it('shows every queue to an administrator, and audits the changes made through it', async () => {
    const admin = await signedIn(t, Role.Administrator);
    const page = await request(t.http).get(`${BOARD}/`).set(admin.auth);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain(`<base href="${BOARD}/"`);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-powered-by']).toBeUndefined();
    expect(page.headers['x-request-id']).toEqual(expect.any(String));
    // Its scripts are served behind the same guard.
    const script = /<script defer src="(static\/js\/[^"]+\.js)"/.exec(page.text)![1];
    expectApiError(await request(t.http).get(`${BOARD}/${script}`), 401, 'UNAUTHENTICATED');
    const asset = await request(t.http).get(`${BOARD}/${script}`).set(admin.auth);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);

    const queues = await request(t.http).get(`${BOARD}/api/queues`).set(admin.auth);
    expect(queues.status).toBe(200);
    expect(queues.body.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining([QueueName.Notifications, QueueName.Email, 'audit']));

    // A job that fails at once, then removed through the board.
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Notifications));
    const job = await queue.add(NotificationJob.Welcome, { userId: 'not-a-user-id' }, { attempts: 1, jobId: `doomed-${randomUUID()}` });
    await eventually('the job to fail', async () => ((await job.isFailed()) ? true : undefined));
    const removed = await request(t.http).put(`${BOARD}/api/queues/${QueueName.Notifications}/${encodeURIComponent(String(job.id))}/clean`).set(admin.auth);
    expect(removed.status).toBe(204);
    expect(await queue.getJob(job.id)).toBeNull();
    expect(await t.ds.query(`SELECT actor_id, actor_role, action, resource_type, resource_id, outcome, rule FROM audit_events WHERE actor_id = $1 AND action = 'queue_operation'`, [admin.id])).toEqual([
      {
        actor_id: admin.id, actor_role: 'administrator', action: 'queue_operation', resource_type: 'queue', resource_id: QueueName.Notifications, outcome: 'allowed',
        rule: `PUT /api/queues/${QueueName.Notifications}/${String(job.id)}/clean`,
      },
    ]);
  });
});

describe('metrics (GET /metrics, administrators)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts jobs per queue and the e-mail outbox, and the failed count rises when a job fails', async () => {
    const admin = await signedIn(t, Role.Administrator);
    const before = await request(t.http).get('/metrics').set(admin.auth);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      queues: expect.objectContaining({
        [QueueName.Notifications]: { waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number) },
        [QueueName.Email]: { waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number) },
        audit: expect.any(Object),
      }),
      emailOutbox: { pending: expect.any(Number), dead: expect.any(Number) },
      collectedAt: expect.any(String),
    });

    const queue = t.app.get<Queue>(getQueueToken(QueueName.Notifications));
    const job = await queue.add(NotificationJob.Welcome, { userId: 'not-a-user-id' }, { attempts: 1, jobId: `doomed-${randomUUID()}` });
    await eventually('the job to fail', async () => ((await job.isFailed()) ? true : undefined));
    const after = await request(t.http).get('/metrics').set(admin.auth);
    expect(after.body.queues[QueueName.Notifications].failed).toBeGreaterThanOrEqual(before.body.queues[QueueName.Notifications].failed + 1);

    const text = await request(t.http).get('/metrics?format=prometheus').set(admin.auth);
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.text).toContain('# TYPE clearing_house_queue_jobs gauge');
    expect(text.text).toMatch(new RegExp(`^clearing_house_queue_jobs\\{queue="${QueueName.Notifications}",state="failed"\\} \\d+$`, 'm'));
    expect(text.text).toMatch(/^clearing_house_email_outbox\{status="pending"\} \d+$/m);
    expect(text.text).toMatch(/^clearing_house_email_outbox\{status="dead"\} \d+$/m);
    expectApiError(await request(t.http).get('/metrics?format=xml').set(admin.auth), 400, 'VALIDATION_FAILED');

    for (const role of NOT_ADMINISTRATORS) {
      const user = await signedIn(t, role);
      expectApiError(await request(t.http).get('/metrics').set(user.auth), 403, 'FORBIDDEN');
    }
    expectApiError(await request(t.http).get('/metrics'), 401, 'UNAUTHENTICATED');
  });
});
