import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { inSystemContext, SystemContext } from '../../src/database/row-security';
import { NotificationKind } from '../../src/notifications/notification.entity';
import { NotificationsService } from '../../src/notifications/notifications.service';
import { createTestApp, partyIdOf, signedIn, TestApp } from '../support/app';

/** Issue 6: users see only notifications about cases they may still see. */
describe('the inbox follows access to the case', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('a peer sees a notification about their case while on the team, and neither sees nor marks it once removed; one about no case stays', async () => {
    const officer = await signedIn(t, Role.ClearingHouseOfficer);
    const manager = await signedIn(t, Role.ClearingHouseManager);
    const peer = await signedIn(t, Role.LeadPoliticalPeer, { partyId: await partyIdOf(t.ds, 'Labour') });
    const logged = await request(t.http).post('/concerns').set(officer.auth).send({
      authority: 'E08000025', receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance', description: 'Inbox fixture',
    });
    expect(logged.status).toBe(201);
    const caseId = logged.body.case.id as string;
    expect((await request(t.http).post(`/cases/${caseId}/team`).set(manager.auth).send({ userId: peer.id, teamRole: 'lead_political_peer' })).status).toBe(201);
    const notifications = t.app.get(NotificationsService);
    const tell = (c: string | null, key: string) => inSystemContext(t.ds, SystemContext.Deadlines, (m) =>
      notifications.notify(m, [peer.id], { kind: NotificationKind.DeadlineApproaching, title: `Due soon: ${logged.body.case.reference}`, body: 'A deadline is near.', caseId: c, dedupeKey: key }));
    await tell(caseId, `inbox-access:${caseId}`);
    await tell(null, `inbox-access:none:${caseId}`);
    const inbox = async () => (await request(t.http).get('/inbox').set(peer.auth)).body as { items: Array<{ id: string; title: string }>; total: number; unread: number };

    const before = await inbox();
    const about = before.items.find((i) => i.title.startsWith('Due soon'))!;
    expect(about).toBeDefined();
    expect(before.items.filter((i) => i.title === 'Due soon: ' + logged.body.case.reference)).toHaveLength(2);

    expect((await request(t.http).delete(`/cases/${caseId}/team/${peer.id}`).set(manager.auth)).status).toBe(200);
    const after = await inbox();
    expect(after.total).toBe(before.total - 1);
    expect(after.unread).toBe(before.unread - 1);
    expect(after.items.filter((i) => i.title === 'Due soon: ' + logged.body.case.reference)).toHaveLength(1);
    const [hidden] = await t.owner.query(`SELECT id FROM notifications WHERE user_id = $1 AND case_id = $2`, [peer.id, caseId]);
    expect(after.items.map((i) => i.id)).not.toContain(hidden.id);
    expect((await request(t.http).post(`/inbox/${hidden.id}/read`).set(peer.auth)).status).toBe(404);
    // Added back, it is there again, still unread.
    expect((await request(t.http).post(`/cases/${caseId}/team`).set(manager.auth).send({ userId: peer.id, teamRole: 'lead_political_peer' })).status).toBe(201);
    expect((await inbox()).items.map((i) => i.id)).toContain(hidden.id);
  });
});
