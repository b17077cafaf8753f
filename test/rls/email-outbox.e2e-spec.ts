import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { EntityManager } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { actAsSystem, actAsUser, SystemContext } from '../../src/database/row-security';
import { createTestApp, signedIn, TestApp } from '../support/app';
import { rolledBackIn } from './service-role';

/*
 * Row-level security on the e-mail outbox (migrations/1764382100000-EmailOutboxRowSecurity.ts):
 * its rows copy a notification's title (a case reference) and the recipient's address. Seen from
 * the service's own role: nothing without settings, as a user who is not an administrator, or in
 * another system context; the row in the sender's context (`email`) and as an administrator.
 * Rows are written as the owner (as ch_notify does); every assertion goes through the service role.
 */
jest.setTimeout(60_000);

type Person = Awaited<ReturnType<typeof signedIn>>;

describe('row-level security on the e-mail outbox', () => {
  let t: TestApp;
  let officer: Person;
  let admin: Person;
  let outboxId: string;
  let notificationId: string;
  const subject = `Deadline missed: CH-2026-${Math.floor(Math.random() * 9000) + 1000}`;

  const rolledBack = <T>(bind: ((m: EntityManager) => Promise<void>) | null, work: (m: EntityManager) => Promise<T>): Promise<T> => rolledBackIn(t.ds, bind, work);
  const seen = (m: EntityManager) => m.query(`SELECT id, subject, to_address FROM email_outbox WHERE id = $1`, [outboxId]);
  /** Rows the UPDATE touched (TypeORM answers [rows, count]). */
  const retried = async (m: EntityManager) => (await m.query(`UPDATE email_outbox SET attempts = 0 WHERE id = $1`, [outboxId]))[1];

  beforeAll(async () => {
    t = await createTestApp();
    [officer, admin] = await Promise.all([signedIn(t, Role.ClearingHouseOfficer), signedIn(t, Role.Administrator)]);
    const [n] = await t.owner.query(
      `INSERT INTO notifications (user_id, kind, title, body, dedupe_key) VALUES ($1, 'deadline_missed', $2, 'A deadline was missed.', $3) RETURNING id`,
      [officer.id, subject, `rls-outbox:${randomUUID()}`],
    );
    // Dead, so that no sender of this run (or of another file) picks it up and changes it meanwhile.
    const [o] = await t.owner.query(
      `INSERT INTO email_outbox (notification_id, to_address, subject, body, status, attempts) VALUES ($1, $2, $3, 'A deadline was missed.', 'dead', 5) RETURNING id`,
      [n.id, officer.email, subject],
    );
    outboxId = o.id;
    notificationId = n.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('shows the service role nothing without settings, and refuses its writes', async () => {
    expect(await rolledBack(null, seen)).toEqual([]);
    expect(await rolledBack(null, retried)).toBe(0);
    // Only ch_notify (as the owner) writes the outbox: not the service role, in any context.
    for (const bind of [null, (m: EntityManager) => actAsSystem(m, SystemContext.Email), (m: EntityManager) => actAsUser(m, admin.id)]) {
      await expect(rolledBack(bind, (m) => m.query(
        `INSERT INTO email_outbox (notification_id, to_address, subject, body) VALUES ($1, 'x@example.org', 'x', 'x')`, [notificationId],
      ))).rejects.toThrow(/row-level security/);
    }
  });

  it('shows a signed-in user who is not an administrator nothing, not even their own e-mail', async () => {
    expect(await rolledBack((m) => actAsUser(m, officer.id), seen)).toEqual([]);
    expect(await rolledBack((m) => actAsUser(m, officer.id), retried)).toBe(0);
  });

  it('shows the other system contexts nothing', async () => {
    for (const context of Object.values(SystemContext).filter((c) => c !== SystemContext.Email)) {
      expect(await rolledBack((m) => actAsSystem(m, context), seen)).toEqual([]);
    }
  });

  it('shows the sender (the email context) the row, and lets it record the outcome', async () => {
    const rows = await rolledBack((m) => actAsSystem(m, SystemContext.Email), seen);
    expect(rows).toEqual([{ id: outboxId, subject, to_address: officer.email }]);
    expect(await rolledBack((m) => actAsSystem(m, SystemContext.Email), retried)).toBe(1);
  });

  it('shows an administrator the row, in the database and in the dead letters', async () => {
    expect(await rolledBack((m) => actAsUser(m, admin.id), seen)).toHaveLength(1);
    const dead = await request(t.http).get('/admin/email/dead?limit=100').set(admin.auth);
    expect(dead.status).toBe(200);
    expect(dead.body.items.map((i: { id: string }) => i.id)).toContain(outboxId);
    const refused = await request(t.http).get('/admin/email/dead').set(officer.auth);
    expect(refused.status).toBe(403);
  });
});
