import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { signedIn, TestApp } from '../support/app';
import { freshAuthority } from '../break-glass/fixtures';

export type Person = Awaited<ReturnType<typeof signedIn>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A case logged by `officer` on an authority nobody else in this file uses. */
export async function logCase(t: TestApp, used: Set<string>, officer: Person): Promise<{ id: string; reference: string; concernId: string }> {
  const authority = await freshAuthority(t, used);
  const logged = await request(t.http).post('/concerns').set(officer.auth).send({
    authority, receivedOn: '2026-11-01', channel: 'sector_intelligence', area: 'finance', description: `WORKBENCH-SECRET ${randomUUID()}`,
  });
  expect(logged.status).toBe(201);
  return { id: logged.body.case.id, reference: logged.body.case.reference, concernId: logged.body.concern.id };
}

/**
 * Waits until every audit record of these people is sealed (the sealer's horizon is
 * server-wide: another test's open transaction delays it), sealing as it goes.
 */
export async function waitSealed(t: TestApp, actorIds: string[], caseIds: string[] = []): Promise<void> {
  const { AuditSealer } = await import('../../src/audit/sealer');
  const sealer = t.app.get(AuditSealer);
  const deadline = Date.now() + 480_000;
  for (;;) {
    await sealer.sealAll();
    const [{ pending }] = await t.ds.query(
      `SELECT count(*)::int AS pending FROM audit_events e
        WHERE (e.actor_id = ANY($1::uuid[]) OR e.case_id = ANY($2::uuid[]))
          AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id AND s.event_occurred_at = e.occurred_at)`,
      [actorIds, caseIds],
    );
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error('audit records were never sealed');
    await sleep(200);
  }
}

/** Sequence numbers of the sealed records matching a condition on `e` (audit_events). */
export async function seqsOf(t: TestApp, where: string, params: unknown[]): Promise<number[]> {
  const rows: Array<{ seq: number }> = await t.ds.query(
    `SELECT s.seq::int AS seq FROM audit_events e JOIN audit_seals s ON s.event_id = e.id AND s.event_occurred_at = e.occurred_at WHERE ${where} ORDER BY s.seq`,
    params,
  );
  return rows.map((r) => r.seq);
}
