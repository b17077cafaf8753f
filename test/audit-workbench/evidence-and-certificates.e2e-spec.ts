import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { certificateHash } from '../../src/audit-workbench/deletion-certificate';
import { EvidencePack, EvidenceProblemKind, verifyEvidencePack } from '../../src/audit-workbench/evidence-pack';
import { freshAuthority } from '../break-glass/fixtures';
import { expectApiError } from '../support/api-error';
import { createTestApp, ownerDataSource, signedIn, TestApp } from '../support/app';
import { agedClosedCase } from '../support/staffed-app';
import { buildCli, Run } from './cli';
import { logCase, Person, waitSealed } from './support';

/*
 * Evidence packs (exported through the API, verified offline by the command line) and deletion
 * certificates (issued with a retention destruction, shown and verified for auditors). Who may
 * use the routes: test/audit-workbench/flags.e2e-spec.ts.
 */
describe("auditor's workbench: evidence packs and deletion certificates", () => {
  let t: TestApp;
  let owner: DataSource;
  let auditor: Person;
  let officer: Person;
  let manager: Person;
  let dir: string;
  let cli: (...args: string[]) => Promise<Run>;
  const used = new Set<string>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ch-evidence-'));
    const building = buildCli(join(dir, 'cli'));
    t = await createTestApp();
    owner = await ownerDataSource();
    auditor = await signedIn(t, Role.Auditor);
    officer = await signedIn(t, Role.ClearingHouseOfficer);
    manager = await signedIn(t, Role.ClearingHouseManager);
    cli = await building;
  }, 300_000);
  afterAll(async () => {
    await owner.destroy();
    await t.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const evidence = (query: Record<string, string>) => request(t.http).get('/audit/evidence').query(query).set(auditor.auth);

  describe('evidence packs', () => {
    let caseId: string;
    let pack: EvidencePack;
    let packFile: string;

    beforeAll(async () => {
      const c = await logCase(t, used, officer);
      caseId = c.id;
      expect((await request(t.http).get(`/cases/${c.id}`).set(officer.auth)).status).toBe(200);
      expect((await request(t.http).get(`/concerns/${c.concernId}`).set(officer.auth)).status).toBe(200);
      const peer = await signedIn(t, Role.LeadPoliticalPeer);
      expect((await request(t.http).get(`/cases/${c.id}`).set(peer.auth)).status).toBe(404);
      await waitSealed(t, [officer.id, peer.id], [c.id]);
      const res = await evidence({ caseId });
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="evidence-case-${caseId}.json"`);
      pack = JSON.parse(res.text);
      packFile = join(dir, 'case.json');
      await writeFile(packFile, res.text);
    });

    it("holds the case's sealed trail with a proof for each record, the signed checkpoint, the public key and a summary; never content", async () => {
      const sealed: Array<{ seq: number }> = await t.ds.query(
        `SELECT s.seq::int AS seq FROM audit_events e JOIN audit_seals s ON s.event_id = e.id AND s.event_occurred_at = e.occurred_at
          WHERE e.case_id = $1 AND s.seq <= $2 ORDER BY s.seq`, [caseId, pack.checkpoint.treeSize]);
      expect(pack.records.map((r) => r.seq)).toEqual(sealed.map((r) => r.seq));
      expect(pack).toMatchObject({ format: 'ch-evidence-pack-v1', subject: { type: 'case', id: caseId }, keyId: expect.stringMatching(/^ed25519:/) });
      expect(pack.summary.byOutcome).toMatchObject({ allowed: expect.any(Number), denied: 1 });
      expect(pack.summary.byAction).toMatchObject({ create: 2, read: 3 });
      expect(pack.summary.byActor[officer.id]).toBeGreaterThanOrEqual(4);
      expect(pack.records.every((r) => r.record.caseId === caseId && r.proof.every((h) => /^[0-9a-f]{64}$/.test(h)))).toBe(true);
      expect(JSON.stringify(pack)).not.toContain('WORKBENCH-SECRET');
      expect(verifyEvidencePack(pack)).toMatchObject({ ok: true, recordsChecked: pack.records.length, problems: [] });
      const audited = await t.ds.query(`SELECT action, resource_type, rule FROM audit_events WHERE actor_id = $1 AND resource_id = $2`, [auditor.id, caseId]);
      expect(audited).toContainEqual({ action: 'export', resource_type: 'evidence_pack', rule: 'case' });
    });

    it('is verified offline by `audit:verify --evidence`: OK untouched; one record changed in the file fails, naming it', async () => {
      const ok = await cli('audit:verify', '--evidence', packFile);
      expect(ok.stdout).toContain(`OK: ${pack.records.length} records of case ${caseId} are in the signed trail`);
      expect(ok.code).toBe(0);

      const tampered: EvidencePack = JSON.parse(JSON.stringify(pack));
      const victim = tampered.records[1];
      victim.record.outcome = victim.record.outcome === 'allowed' ? 'denied' : 'allowed';
      const tamperedFile = join(dir, 'tampered.json');
      await writeFile(tamperedFile, JSON.stringify(tampered));
      const bad = await cli('audit:verify', '--evidence', tamperedFile);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain('FAILED');
      expect(bad.stdout).toContain(`record ${victim.seq} (${victim.record.id}) does not match the leaf hash sealed for it`);
      const report = JSON.parse(bad.stdout.slice(0, bad.stdout.lastIndexOf('}') + 1));
      expect(report).toMatchObject({ ok: false, firstBadSeq: victim.seq });
      expect(report.problems.map((p: { kind: string }) => p.kind)).toEqual(expect.arrayContaining([EvidenceProblemKind.RecordAltered, EvidenceProblemKind.SummaryMismatch]));

      // Against another trusted key, even the untouched pack fails.
      const other = await cli('audit:verify', '--evidence', packFile, '--public-key', Buffer.alloc(32, 1).toString('base64'));
      expect(other.code).toBe(1);
      expect((await cli('audit:verify', '--evidence', join(dir, 'missing.json'))).code).toBe(1);
    });

    it("exports one user's trail too, and wants exactly one of caseId and userId", async () => {
      const res = await evidence({ userId: officer.id });
      expect(res.status).toBe(200);
      const mine: EvidencePack = JSON.parse(res.text);
      expect(mine.records.length).toBeGreaterThanOrEqual(4);
      expect(mine.records.every((r) => r.record.actorId === officer.id)).toBe(true);
      expect(verifyEvidencePack(mine).ok).toBe(true);
      expectApiError(await evidence({}), 400, 'VALIDATION_FAILED');
      expectApiError(await evidence({ caseId, userId: officer.id }), 400, 'VALIDATION_FAILED');
      expectApiError(await evidence({ caseId: 'CH-2026-0001' }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('deletion certificates', () => {
    /** A case with content marked SECRET-, closed seven years ago, and its pending retention review. */
    async function closedCase() {
      const { id, reference, version } = await agedClosedCase(t, officer, manager, { authority: await freshAuthority(t, used), yearsAgo: 7 });
      expect((await request(t.http).post('/retention/run').set(manager.auth)).status).toBe(200);
      const pending = await request(t.http).get('/retention/reviews').set(manager.auth);
      const review = pending.body.find((r: { caseId: string }) => r.caseId === id);
      expect(review).toBeDefined();
      return { id, reference, reviewId: review.id as string, version };
    }

    it('writes a certificate with the destruction: what (tables, row counts), when, which rule, approved by whom, which review; never content', async () => {
      const c = await closedCase();
      const reason = 'Six years passed; no hold applies';
      expect((await request(t.http).post(`/retention/reviews/${c.reviewId}/approve`).set(manager.auth).send({ reason })).status).toBe(200);

      const list = await request(t.http).get('/audit/deletion-certificates').query({ caseId: c.id }).set(auditor.auth);
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(1);
      const cert = list.body[0];
      const [{ destroyed_at }] = await owner.query(`SELECT to_char(content_destroyed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS destroyed_at FROM cases WHERE id = $1`, [c.id]);
      expect(cert.certificate).toEqual({
        format: 'ch-deletion-certificate-v1', certificateId: cert.id, caseId: c.id, caseReference: c.reference, retentionReviewId: c.reviewId,
        retentionRule: 'resolved_by_authority: 6 years after closure', dueOn: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), destroyedAt: destroyed_at,
        approvedBy: { userId: manager.id, role: 'clearing_house_manager' }, approvalReason: reason,
        destroyed: expect.arrayContaining([
          { table: 'concern_sources', rows: 1, how: 'deleted' }, { table: 'concerns', rows: 1, how: 'redacted' },
          { table: 'conversation_records', rows: 1, how: 'redacted' }, { table: 'cases', rows: 1, how: 'redacted' },
        ]),
      });
      expect(cert.certificateHash).toBe(certificateHash(cert.certificateText));
      expect(JSON.stringify(list.body)).not.toMatch(/SECRET-/);

      // Its audit record carries the hash, in a field the sealed leaf covers.
      const records = await t.ds.query(
        `SELECT action, resource_id, case_id, justification, rule FROM audit_events WHERE resource_type = 'deletion_certificate' AND case_id = $1 AND action = 'issue_deletion_certificate'`, [c.id]);
      expect(records).toEqual([{ action: 'issue_deletion_certificate', resource_id: cert.id, case_id: c.id, justification: `sha256:${cert.certificateHash}`, rule: 'resolved_by_authority: 6 years after closure' }]);

      const shown = await request(t.http).get(`/audit/deletion-certificates/${cert.id}`).set(auditor.auth);
      expect(shown.body).toMatchObject({ id: cert.id, reviewId: c.reviewId, certificateHash: cert.certificateHash });
      expectApiError(await request(t.http).get(`/audit/deletion-certificates/${randomUUID()}`).set(auditor.auth), 404, 'NOT_FOUND');

      await waitSealed(t, [manager.id], [c.id]);
      const verified = await request(t.http).get(`/audit/deletion-certificates/${cert.id}/verify`).set(auditor.auth);
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ ok: true, hashMatches: true, auditRecordMatches: true, sealed: true, included: true, seq: expect.any(Number), problems: [] });
      const audited = await t.ds.query(`SELECT action, rule FROM audit_events WHERE actor_id = $1 AND resource_id = $2 ORDER BY occurred_at`, [auditor.id, cert.id]);
      expect(audited).toEqual([{ action: 'read', rule: null }, { action: 'verify', rule: 'ok' }]);
    });

    it('is append-only, and a certificate changed behind the database\'s back (hash recomputed too) fails verification', async () => {
      const c = await closedCase();
      expect((await request(t.http).post(`/retention/reviews/${c.reviewId}/approve`).set(manager.auth).send({ reason: 'Due under the schedule' })).status).toBe(200);
      const [cert] = (await request(t.http).get('/audit/deletion-certificates').query({ caseId: c.id }).set(auditor.auth)).body;
      await expect(t.ds.query(`UPDATE deletion_certificates SET issued_at = now() WHERE id = $1`, [cert.id])).rejects.toThrow();
      await expect(t.ds.query(`DELETE FROM deletion_certificates WHERE id = $1`, [cert.id])).rejects.toThrow();
      await expect(owner.query(`UPDATE deletion_certificates SET issued_at = now() WHERE id = $1`, [cert.id])).rejects.toThrow(/immutable|not allowed|forbid/i);

      // An owner who disables the trigger can rewrite the row, even with a matching hash: the sealed audit record still has the old one.
      const forged = cert.certificateText.replace('"rows":1,"table":"concern_sources"', '"rows":0,"table":"concern_sources"');
      expect(forged).not.toBe(cert.certificateText);
      await owner.query(`ALTER TABLE deletion_certificates DISABLE TRIGGER deletion_certificates_append_only`);
      try {
        await owner.query(`UPDATE deletion_certificates SET certificate = $2, certificate_hash = $3 WHERE id = $1`, [cert.id, forged, Buffer.from(certificateHash(forged), 'hex')]);
      } finally {
        await owner.query(`ALTER TABLE deletion_certificates ENABLE TRIGGER deletion_certificates_append_only`);
      }
      await waitSealed(t, [manager.id], [c.id]);
      const verified = await request(t.http).get(`/audit/deletion-certificates/${cert.id}/verify`).set(auditor.auth);
      expect(verified.body).toMatchObject({ ok: false, hashMatches: true, auditRecordMatches: false, sealed: true });
      expect(verified.body.problems).toContain('the audit record does not carry the certificate hash');
    });

    it('writes no certificate when nothing is destroyed (legal hold)', async () => {
      const c = await closedCase();
      const hold = await request(t.http).put(`/cases/${c.id}/legal-hold`).set(manager.auth).send({ hold: true, reason: 'Employment tribunal pending', version: c.version + 0 });
      expect(hold.status).toBe(200);
      expectApiError(await request(t.http).post(`/retention/reviews/${c.reviewId}/approve`).set(manager.auth).send({ reason: 'Six years passed; no hold' }), 422, 'PRECONDITION_FAILED');
      expect((await request(t.http).get('/audit/deletion-certificates').query({ caseId: c.id }).set(auditor.auth)).body).toEqual([]);
      expect(await owner.query(`SELECT 1 FROM deletion_certificates WHERE case_id = $1`, [c.id])).toEqual([]);
    });
  });
});
