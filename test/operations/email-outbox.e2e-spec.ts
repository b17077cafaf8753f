import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { EntityManager } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { EmailOutboxService } from '../../src/notifications/email-outbox.service';
import { NotificationKind } from '../../src/notifications/notification.entity';
import { NotificationContent, NotificationsService } from '../../src/notifications/notifications.service';
import { QueueName } from '../../src/notifications/queues';
import { expectApiError } from '../support/api-error';
import { signedIn, signIn, TestApp } from '../support/app';
import { inSystemContext, SystemContext } from '../../src/database/row-security';
import { createMailingApp, eventually, freePort, mailUser, MailingTestApp, NOT_ADMINISTRATORS, SmtpCatcher } from './support';

interface OutboxRow {
  id: string;
  notification_id: string;
  to_address: string;
  subject: string;
  body: string;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
}

async function outboxRowsOf(t: TestApp, userId: string): Promise<OutboxRow[]> {
  // The owner's connection: row-level security shows the service role nobody's notifications outside their own transaction.
  return t.owner.query(
    `SELECT o.* FROM email_outbox o JOIN notifications n ON n.id = o.notification_id WHERE n.user_id = $1 ORDER BY o.created_at`,
    [userId],
  );
}

/** Deadline notices, sent as the deadline job sends them: the database admits ch_notify from its context. */
function inDeadlineJob<T>(t: TestApp, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return inSystemContext(t.ds, SystemContext.Deadlines, work);
}

/** A case with content that must never appear in a notification: its description and the source's name. */
async function caseWithSecrets(t: TestApp): Promise<{ id: string; reference: string; secrets: string[] }> {
  const officer = await signedIn(t, Role.ClearingHouseOfficer);
  const nonce = randomUUID().slice(0, 8);
  const secrets = [`Leader and chief executive no longer speaking ${nonce}`, `Source Person ${nonce}`];
  const res = await request(t.http).post('/concerns').set(officer.auth).send({
    authority: 'E08000025', receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance', description: secrets[0], signals: ['financial_difficulty'],
    source: { name: secrets[1], role: 'Officer', contact: '0123' },
  });
  expect(res.status).toBe(201);
  return { id: res.body.case.id, reference: res.body.case.reference, secrets };
}

function deadlineNotice(c: { id: string; reference: string }, key = randomUUID()): NotificationContent {
  return {
    kind: NotificationKind.DeadlineApproaching,
    title: `Deadline approaching: ${c.reference}`,
    body: `${c.reference}: the triage decision is due on 3 December 2026.`,
    caseId: c.id,
    dedupeKey: `deadline:${key}`,
  };
}

describe('e-mail through the outbox: delivery to an SMTP server', () => {
  const catcher = new SmtpCatcher();
  let t: MailingTestApp;
  let notifications: NotificationsService;
  beforeAll(async () => {
    const port = await catcher.start();
    t = await createMailingApp({ SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM: 'Clearing house <no-reply@clearing-house.test>', EMAIL_MAX_ATTEMPTS: 5, EMAIL_RETRY_BASE_MS: 300 });
    notifications = t.app.get(NotificationsService);
  });
  afterAll(async () => {
    await t?.close();
    await catcher.stop();
  });

  it('notifies in the caller’s transaction, once per recipient however often it runs, and mails each recipient the reference and what is due, never case content', async () => {
    const c = await caseWithSecrets(t);
    const manager = await mailUser(t, Role.ClearingHouseManager);
    const officer = await mailUser(t, Role.ClearingHouseOfficer);
    const disabled = await mailUser(t, Role.ClearingHouseOfficer);
    await t.ds.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [disabled.id]);
    const notice = deadlineNotice(c);

    const recipients = [manager.id, officer.id, officer.id, disabled.id, randomUUID()];
    expect(await inDeadlineJob(t, (m) => notifications.notify(m, recipients, notice))).toBe(2);
    // The same step again (a retried job, a second instance): nothing new.
    expect(await inDeadlineJob(t, (m) => notifications.notify(m, recipients, notice))).toBe(0);

    for (const user of [manager, officer]) {
      const message = await eventually(`the e-mail to ${user.email}`, async () => catcher.to(user.email)[0]);
      expect(message.subject).toBe(`Deadline approaching: ${c.reference}`);
      expect(message.from).toBe('Clearing house <no-reply@clearing-house.test>');
      expect(message.text).toContain(`${c.reference}: the triage decision is due on 3 December 2026.`);
      expect(message.text).toContain('Sign in to the clearing house to see the details.');
      for (const secret of c.secrets) expect(message.raw).not.toContain(secret);

      const rows = await eventually('the row marked sent', async () => {
        const r = await outboxRowsOf(t, user.id);
        return r.every((x) => x.status === 'sent') ? r : undefined;
      });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ to_address: user.email, subject: notice.title, attempts: 1, last_error: null, sent_at: expect.any(Date) });
      const [n] = await t.owner.query(`SELECT kind, title, body, case_id, dedupe_key FROM notifications WHERE id = $1`, [rows[0].notification_id]);
      expect(n).toEqual({ kind: 'deadline_approaching', title: notice.title, body: notice.body, case_id: c.id, dedupe_key: `${notice.dedupeKey}:${user.id}` });
    }
    // In the inbox too.
    const { accessToken } = await signIn(t.http, officer.email);
    const inbox = await request(t.http).get('/inbox').set({ Authorization: `Bearer ${accessToken}` });
    expect(inbox.body.items.map((i: { kind: string; title: string }) => [i.kind, i.title])).toContainEqual(['deadline_approaching', notice.title]);
    // Nobody else: not the disabled user, once per address.
    expect(await outboxRowsOf(t, disabled.id)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(catcher.to(manager.email)).toHaveLength(1);
    expect(catcher.to(officer.email)).toHaveLength(1);
    expect(catcher.to(disabled.email)).toHaveLength(0);
  });

  it('sends nothing when the caller’s transaction rolls back', async () => {
    const c = await caseWithSecrets(t);
    const user = await mailUser(t, Role.ClearingHouseOfficer);
    await expect(
      inDeadlineJob(t, async (m) => {
        expect(await notifications.notify(m, [user.id], deadlineNotice(c))).toBe(1);
        throw new Error('the caller changed its mind');
      }),
    ).rejects.toThrow('the caller changed its mind');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await t.owner.query(`SELECT id FROM notifications WHERE user_id = $1`, [user.id])).toEqual([]);
    expect(catcher.to(user.email)).toEqual([]);
  });

  it('is idempotent in the worker: a sent row is never sent again, and the sweep delivers rows whose job was lost', async () => {
    const c = await caseWithSecrets(t);
    const user = await mailUser(t, Role.ClearingHouseOfficer);
    await inDeadlineJob(t, (m) => notifications.notify(m, [user.id], deadlineNotice(c)));
    await eventually('the e-mail', async () => catcher.to(user.email)[0]);
    const [row] = await eventually('the row marked sent', async () => {
      const r = await outboxRowsOf(t, user.id);
      return r[0]?.status === 'sent' ? r : undefined;
    });
    const outbox = t.app.get(EmailOutboxService);
    expect(await outbox.deliver(row.id)).toBe('skipped');
    expect(await outbox.deliver(randomUUID())).toBe('skipped');

    // A row written while Redis was unavailable (no job was ever queued for it): the sweep finds it.
    const other = await mailUser(t, Role.ClearingHouseManager);
    const [n] = await t.owner.query(
      `INSERT INTO notifications (user_id, kind, title, body, dedupe_key, case_id) VALUES ($1, 'escalation', $2, $3, $4, $5) RETURNING id`,
      [other.id, `Escalation: ${c.reference}`, `${c.reference} was escalated to a manager.`, `lost:${randomUUID()}`, c.id],
    );
    await t.owner.query(`INSERT INTO email_outbox (notification_id, to_address, subject, body) VALUES ($1, $2, $3, $4)`, [n.id, other.email, `Escalation: ${c.reference}`, 'text']);
    // This sweep or the repeatable one (of this app or another file's, on the same queue) queues it:
    // either way the row reaches the server only through a sweep, since no job was ever added for it.
    await outbox.sweep();
    const message = await eventually('the swept e-mail', async () => catcher.to(other.email)[0]);
    expect(message.subject).toBe(`Escalation: ${c.reference}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(catcher.to(user.email)).toHaveLength(1);
    expect(catcher.to(other.email)).toHaveLength(1);

    // The sweep is scheduled as a repeatable job.
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Email));
    expect((await queue.getRepeatableJobs()).map((j) => j.name)).toContain('sweep');
  });

  it('retries a refused e-mail with back-off until the server takes it, and gives up at once on a permanent refusal', async () => {
    const c = await caseWithSecrets(t);
    const user = await mailUser(t, Role.ClearingHouseOfficer);
    const refused = await mailUser(t, Role.ClearingHouseOfficer, 'refused+reject');
    catcher.mode = 'tempfail';
    try {
      await inDeadlineJob(t, (m) => notifications.notify(m, [user.id, refused.id], deadlineNotice(c)));
      // The permanent refusal (550) is dead after one attempt.
      const [dead] = await eventually('the refused row to be dead', async () => {
        const r = await outboxRowsOf(t, refused.id);
        return r[0]?.status === 'dead' ? r : undefined;
      });
      expect(dead).toMatchObject({ attempts: 1, last_error: 'EENVELOPE 550' });
      // The temporary refusal (451) is retried.
      const [pending] = await eventually('two failed attempts', async () => {
        const r = await outboxRowsOf(t, user.id);
        return r[0]?.attempts >= 2 ? r : undefined;
      });
      expect(pending).toMatchObject({ status: 'pending', last_error: 'EENVELOPE 451' });
    } finally {
      catcher.mode = 'accept';
    }
    await eventually('the retried e-mail', async () => catcher.to(user.email)[0]);
    const [sent] = await eventually('the row marked sent', async () => {
      const r = await outboxRowsOf(t, user.id);
      return r[0]?.status === 'sent' ? r : undefined;
    });
    expect(sent.attempts).toBeGreaterThanOrEqual(3);
    expect(sent.last_error).toBeNull();
  });
});

describe('e-mail through the outbox: the server is down, dead letters, and the administrators’ retry', () => {
  const catcher = new SmtpCatcher();
  let t: MailingTestApp;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    t = await createMailingApp({ SMTP_URL: `smtp://127.0.0.1:${port}`, EMAIL_MAX_ATTEMPTS: 3, EMAIL_RETRY_BASE_MS: 100 });
  });
  afterAll(async () => {
    await t?.close();
    await catcher.stop();
  });

  it('retries, then marks the e-mail dead; lists it for administrators only; a retry sends it once the server is up', async () => {
    const c = await caseWithSecrets(t);
    const user = await mailUser(t, Role.ClearingHouseManager);
    const admin = await signedIn(t, Role.Administrator);
    const before = (await request(t.http).get('/metrics').set(admin.auth)).body.emailOutbox;

    await inDeadlineJob(t, (m) => t.app.get(NotificationsService).notify(m, [user.id], deadlineNotice(c)));
    const [row] = await eventually('the row to be dead', async () => {
      const r = await outboxRowsOf(t, user.id);
      return r[0]?.status === 'dead' ? r : undefined;
    });
    expect(row).toMatchObject({ attempts: 3, last_error: 'ESOCKET/ECONNREFUSED', sent_at: null });

    // The dead-letter view: addresses and subjects, no body; reading it is audited.
    const dead = await request(t.http).get('/admin/email/dead?limit=500').set(admin.auth);
    expect(dead.status).toBe(200);
    expect(dead.body.total).toBeGreaterThanOrEqual(1);
    const item = dead.body.items.find((i: { id: string }) => i.id === row.id);
    expect(item).toEqual({
      id: row.id, notificationId: row.notification_id, toAddress: user.email, subject: `Deadline approaching: ${c.reference}`, attempts: 3, lastError: 'ESOCKET/ECONNREFUSED', createdAt: expect.any(String),
    });
    expect(await t.ds.query(`SELECT action, resource_type, outcome FROM audit_events WHERE actor_id = $1 AND action = 'list'`, [admin.id])).toEqual([
      { action: 'list', resource_type: 'email', outcome: 'allowed' },
    ]);
    // Metrics count it.
    const metrics = (await request(t.http).get('/metrics').set(admin.auth)).body.emailOutbox;
    expect(metrics.dead).toBeGreaterThanOrEqual(before.dead + 1);

    // Administrators only.
    for (const role of NOT_ADMINISTRATORS) {
      const other = await signedIn(t, role);
      expectApiError(await request(t.http).get('/admin/email/dead').set(other.auth), 403, 'FORBIDDEN');
      expectApiError(await request(t.http).post(`/admin/email/${row.id}/retry`).set(other.auth), 403, 'FORBIDDEN');
    }
    expectApiError(await request(t.http).get('/admin/email/dead'), 401, 'UNAUTHENTICATED');
    expectApiError(await request(t.http).post(`/admin/email/${row.id}/retry`), 401, 'UNAUTHENTICATED');
    expect((await outboxRowsOf(t, user.id))[0].status).toBe('dead');

    // The server comes up; the administrator retries; it is delivered once.
    await catcher.start(port);
    const retried = await request(t.http).post(`/admin/email/${row.id}/retry`).set(admin.auth);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ id: row.id, status: 'pending', attempts: 0 });
    const message = await eventually('the retried e-mail', async () => catcher.to(user.email)[0]);
    expect(message.subject).toBe(`Deadline approaching: ${c.reference}`);
    for (const secret of c.secrets) expect(message.raw).not.toContain(secret);
    const [sent] = await eventually('the row marked sent', async () => {
      const r = await outboxRowsOf(t, user.id);
      return r[0]?.status === 'sent' ? r : undefined;
    });
    expect(sent).toMatchObject({ attempts: 1, last_error: null });
    expect(await t.ds.query(`SELECT actor_id, action, resource_type, resource_id, outcome FROM audit_events WHERE action = 'retry_email' AND resource_id = $1`, [row.id])).toEqual([
      { actor_id: admin.id, action: 'retry_email', resource_type: 'email', resource_id: row.id, outcome: 'allowed' },
    ]);
    expect((await request(t.http).get('/admin/email/dead?limit=500').set(admin.auth)).body.items.map((i: { id: string }) => i.id)).not.toContain(row.id);

    // Only a dead e-mail can be retried.
    const again = expectApiError(await request(t.http).post(`/admin/email/${row.id}/retry`).set(admin.auth), 409, 'CONFLICT');
    expect(again.details).toEqual({ status: 'sent' });
    expectApiError(await request(t.http).post(`/admin/email/${randomUUID()}/retry`).set(admin.auth), 404, 'NOT_FOUND');
    expectApiError(await request(t.http).post('/admin/email/not-an-id/retry').set(admin.auth), 400, 'VALIDATION_FAILED');
    expectApiError(await request(t.http).get('/admin/email/dead?limit=0').set(admin.auth), 400, 'VALIDATION_FAILED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(catcher.to(user.email)).toHaveLength(1);
  });
});

describe('e-mail delivery disabled (no SMTP_URL: the default in development and test)', () => {
  let t: MailingTestApp;
  beforeAll(async () => {
    t = await createMailingApp({ SMTP_URL: undefined });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps e-mails pending in the outbox, and refuses a notification whose text could break a header', async () => {
    const c = await caseWithSecrets(t);
    const user = await mailUser(t, Role.ClearingHouseOfficer);
    const notifications = t.app.get(NotificationsService);
    expect(await inDeadlineJob(t, (m) => notifications.notify(m, [user.id], deadlineNotice(c)))).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await outboxRowsOf(t, user.id)).map((r) => [r.status, r.attempts])).toEqual([['pending', 0]]);
    const outbox = t.app.get(EmailOutboxService);
    expect(await outbox.sweep()).toBe(0);
    expect(await outbox.deliver((await outboxRowsOf(t, user.id))[0].id)).toBe('disabled');

    await expect(inDeadlineJob(t, (m) => notifications.notify(m, [user.id], { ...deadlineNotice(c), title: 'Deadline\r\nBcc: someone@example.org' }))).rejects.toThrow(/title/);
    await expect(inDeadlineJob(t, (m) => notifications.notify(m, ['not-a-user-id'], deadlineNotice(c)))).rejects.toThrow(/recipients/);
    expect(await inDeadlineJob(t, (m) => notifications.notify(m, [], deadlineNotice(c)))).toBe(0);
  });
});
