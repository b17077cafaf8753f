import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Role } from '../../src/access-control/role';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { NotificationJob, QueueName } from '../../src/notifications/queues';
import { expectApiError } from '../support/api-error';
import { createTestApp, signedIn, signIn, TestApp } from '../support/app';

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('background jobs: the welcome notification', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedIn>>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await signedIn(t, Role.Administrator);
  });
  afterAll(async () => {
    await t.close();
  });

  it("delivers a welcome notification to a new user's inbox through the worker, which they can mark read", async () => {
    const email = `welcome.${randomUUID().slice(0, 8)}@test.example`;
    const password = 'a long enough passphrase 99';
    const created = await request(t.http).post('/users').set(admin.auth).send({ email, displayName: 'Wendy Welcome', role: Role.ClearingHouseOfficer, password });
    expect(created.status).toBe(201);
    const { accessToken } = await signIn(t.http, email, password);
    const auth = { Authorization: `Bearer ${accessToken}` };

    const inbox = await eventually('the welcome notification', async () => {
      const res = await request(t.http).get('/inbox').set(auth);
      expect(res.status).toBe(200);
      return res.body.total > 0 ? res.body : undefined;
    });
    expect(inbox).toEqual({
      items: [{ id: expect.any(String), kind: 'welcome', title: 'Welcome to the clearing house', body: expect.stringContaining('Wendy Welcome'), createdAt: expect.any(String), readAt: null }],
      total: 1,
      unread: 1,
    });
    const [item] = inbox.items;
    expect((await request(t.http).get('/inbox?offset=5').set(auth)).body).toEqual({ items: [], total: 1, unread: 1 });
    // Written by the worker, for this user only.
    expect(await t.owner.query(`SELECT user_id, kind FROM notifications WHERE id = $1`, [item.id])).toEqual([{ user_id: created.body.id, kind: 'welcome' }]);

    // Someone else cannot see or mark it: it is "not found" to them.
    const other = await signedIn(t, Role.ClearingHouseManager);
    expectApiError(await request(t.http).post(`/inbox/${item.id}/read`).set(other.auth), 404, 'NOT_FOUND');
    expect((await request(t.http).get('/inbox').set(other.auth)).body.items.map((i: { id: string }) => i.id)).not.toContain(item.id);
    expect((await t.owner.query(`SELECT read_at FROM notifications WHERE id = $1`, [item.id]))[0].read_at).toBeNull();

    expect((await request(t.http).post(`/inbox/${item.id}/read`).set(auth)).status).toBe(204);
    const after = await request(t.http).get('/inbox').set(auth);
    expect(after.body).toMatchObject({ total: 1, unread: 0, items: [{ id: item.id, readAt: expect.any(String) }] });
    const unreadOnly = await request(t.http).get('/inbox?unreadOnly=true').set(auth);
    expect(unreadOnly.body).toEqual({ items: [], total: 0, unread: 0 });
    // Marking it read again is harmless and keeps the first time.
    expect((await request(t.http).post(`/inbox/${item.id}/read`).set(auth)).status).toBe(204);
    expect((await request(t.http).get('/inbox').set(auth)).body.items[0].readAt).toBe(after.body.items[0].readAt);

    expectApiError(await request(t.http).post(`/inbox/${randomUUID()}/read`).set(auth), 404, 'NOT_FOUND');
    expectApiError(await request(t.http).post('/inbox/not-a-uuid/read').set(auth), 400, 'VALIDATION_FAILED');
    expectApiError(await request(t.http).get('/inbox'), 401, 'UNAUTHENTICATED');
  });

  it('delivers one welcome however often the job runs', async () => {
    const created = await request(t.http)
      .post('/users')
      .set(admin.auth)
      .send({ email: `twice.${randomUUID().slice(0, 8)}@test.example`, displayName: 'Twice Over', role: Role.Auditor, password: 'a long enough passphrase 99' });
    expect(created.status).toBe(201);
    const count = async () => Number((await t.owner.query(`SELECT count(*) AS n FROM notifications WHERE user_id = $1`, [created.body.id]))[0].n);
    await eventually('the welcome notification', async () => ((await count()) > 0 ? true : undefined));
    // A second enqueue with the same job id, and a direct second delivery, add nothing.
    const service = t.app.get(NotificationsService);
    await service.enqueueWelcome(created.body.id);
    expect(await service.deliverWelcome(created.body.id)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await count()).toBe(1);
  });
});

describe('failed background jobs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('are listed for administrators only', async () => {
    const admin = await signedIn(t, Role.Administrator);
    // A job the worker cannot do (its user id is not a UUID), with no retries, so that it fails at once.
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Notifications));
    const job = await queue.add(NotificationJob.Welcome, { userId: 'not-a-user-id' }, { attempts: 1, jobId: `doomed:${randomUUID()}` });
    const res = await eventually('the job to fail', async () => {
      const r = await request(t.http).get('/admin/queues/failed?limit=500').set(admin.auth);
      expect(r.status).toBe(200);
      return r.body.some((j: { id: string }) => j.id === String(job.id)) ? r : undefined;
    });
    expect(res.body.find((j: { id: string }) => j.id === String(job.id))).toEqual({
      queue: QueueName.Notifications,
      id: String(job.id),
      name: NotificationJob.Welcome,
      data: { userId: 'not-a-user-id' },
      attemptsMade: 1,
      failedReason: expect.any(String),
      finishedAt: expect.any(String),
    });
    expectApiError(await request(t.http).get('/admin/queues/failed?limit=0').set(admin.auth), 400, 'VALIDATION_FAILED');

    for (const role of [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.BoardMember]) {
      const user = await signedIn(t, role);
      expectApiError(await request(t.http).get('/admin/queues/failed').set(user.auth), 403, 'FORBIDDEN');
    }
    expectApiError(await request(t.http).get('/admin/queues/failed'), 401, 'UNAUTHENTICATED');
  });
});
