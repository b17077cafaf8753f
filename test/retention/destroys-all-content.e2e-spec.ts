import { Response } from 'supertest';
import { Role } from '../../src/access-control/role';
import { AuditSealer } from '../../src/audit/sealer';
import { createTestApp, nextTotp, partyIdOf, signedIn, TestApp } from '../support/app';
import {
  addToTeam, createSupport, expectStatus, http, logConcern, moveOk, Person, recordConversation, toSensitiveConversation, versionOf,
} from '../access-matrix/fixtures';
import { freshAuthority } from '../break-glass/fixtures';

jest.setTimeout(180_000);

const DESTROYED = '[destroyed under the retention schedule]';
const SECRET = /SECRET-/;

/*
 * Retention destroys all of a case's content (issue 6 point 4, issue 8 point 6): a case built
 * through the HTTP API with every kind of content the case file holds (concern and source,
 * conversations, an agreed conversation with its correction, external agreement and addendum,
 * a compartment record, support and progress notes, a meeting, a recusal, a source identity
 * release, a break-glass grant, a liaison naming and a pack summary), closed, aged, listed and
 * approved for destruction. Every text marked SECRET- is then gone from every table tied to the
 * case; the skeleton and the audit trail remain; the deletion certificate counts what went; a
 * legal hold still stops it; and verifying the agreed record answers that its content was
 * destroyed under retention, not that its seal is broken.
 */
describe('retention destroys all of a case’s content', () => {
  let t: TestApp;
  let officer: Person, officer2: Person, officer3: Person, colleague: Person;
  let manager: Person, manager2: Person, manager3: Person;
  let peer: Person, liaison: Person, auditor: Person;
  const used = new Set<string>();

  beforeAll(async () => {
    t = await createTestApp();
    const labour = await partyIdOf(t.ds, 'Labour');
    [officer, officer2, officer3, colleague, manager, manager2, manager3, peer, liaison, auditor] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Retention officer' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Retention officer 2' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Retention officer 3' }),
      signedIn(t, Role.ClearingHouseOfficer, { name: 'Retention colleague' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Retention manager' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Retention manager 2' }),
      signedIn(t, Role.ClearingHouseManager, { name: 'Retention manager 3' }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour, name: 'Retention peer' }),
      signedIn(t, Role.GovernmentLiaison, { name: 'Retention liaison' }),
      signedIn(t, Role.Auditor, { name: 'Retention auditor' }),
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (who: Person, path: string, body: Record<string, unknown> = {}) => http(t).post(path).set(who.auth).send(body);
  const get = (who: Person, path: string) => http(t).get(path).set(who.auth);
  const ok = (res: Response, status = 200) => expectStatus(res, status);

  /** Seals until the agreement's audit record is in the tree (the sealer's horizon is server-wide: a wait for a condition, not a time). */
  async function sealAgreementOf(recordId: string): Promise<void> {
    const sealer = t.app.get(AuditSealer);
    for (let i = 0; i < 2_400; i++) {
      await sealer.sealAll();
      const [{ n }] = await t.owner.query(
        `SELECT count(*)::int AS n FROM record_agreements a JOIN audit_events e ON e.resource_type = 'agreed_record' AND e.resource_id = a.id::text
           JOIN audit_seals s ON s.event_id = e.id WHERE a.record_type = 'conversation' AND a.record_id = $1`, [recordId]);
      if (n === 1) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error('the agreement was never sealed');
  }

  /** Closed `years` ago, as far as retention can tell (the owner's connection, as the other retention tests do). */
  const age = (caseId: string, years: number) =>
    t.owner.query(`UPDATE cases SET closed_at = now() - make_interval(years => $2), opened_at = now() - make_interval(years => $2 + 1) WHERE id = $1`, [caseId, years]);

  /** Lists what is due and returns the pending review of this case, if any. */
  async function pendingReviewOf(caseId: string): Promise<{ id: string } | undefined> {
    ok(await post(manager, '/retention/run'));
    const pending = ok(await get(manager, '/retention/reviews'));
    return pending.body.find((r: { caseId: string }) => r.caseId === caseId);
  }

  /** Every table with a case_id (found in the catalogue, so a table added later is covered too), except the audit trail, which is kept. */
  async function caseTables(): Promise<string[]> {
    const rows: Array<{ table: string }> = await t.owner.query(`
      SELECT c.relname AS table FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'case_id' AND NOT a.attisdropped
       WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'audit_events'
       ORDER BY c.relname`);
    return rows.map((r) => r.table);
  }

  /** Each row tied to the case, as JSON text, per table: what a database administrator's SELECT shows. */
  async function dumpOf(caseId: string): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    const rowsOf = async (sql: string) => ((await t.owner.query(sql, [caseId])) as Array<{ j: string }>).map((r) => r.j);
    for (const table of await caseTables()) out[table] = await rowsOf(`SELECT row_to_json(x)::text AS j FROM ${table} x WHERE case_id = $1`);
    out.cases = await rowsOf(`SELECT row_to_json(x)::text AS j FROM cases x WHERE id = $1`);
    out.concern_sources = await rowsOf(`SELECT row_to_json(x)::text AS j FROM concern_sources x JOIN concerns c ON c.id = x.concern_id WHERE c.case_id = $1`);
    out.support_progress_notes = await rowsOf(
      `SELECT row_to_json(x)::text AS j FROM support_progress_notes x JOIN improvement_support s ON s.id = x.support_id WHERE s.case_id = $1`);
    return out;
  }
  const rowCounts = (dump: Record<string, string[]>) => Object.fromEntries(Object.entries(dump).map(([table, rows]) => [table, rows.length]));

  describe('a case with every kind of content', () => {
    let caseId: string, reference: string, authorityId: string;
    let agreedRecordId: string;
    let before: Record<string, string[]>;
    let skeletonBefore: Record<string, unknown>;
    let auditBefore: number;
    let agreementHash: string;
    let certificate: { id: string; certificateHash: string; certificate: { destroyed: Array<{ table: string; rows: number; how: string }> } };

    beforeAll(async () => {
      const logged = await logConcern(t, officer, {
        authority: await freshAuthority(t, used), description: 'SECRET-CONCERN the budget papers were withheld',
        source: { name: 'SECRET-SOURCE Alex', role: 'Officer', contact: 'alex@example.org' },
      });
      caseId = logged.id;
      reference = logged.reference;
      await addToTeam(t, manager, caseId, officer, 'case_lead');
      await addToTeam(t, manager, caseId, peer, 'lead_political_peer');
      await toSensitiveConversation(t, officer, caseId);

      // A conversation, corrected, agreed with the authority and attested (sealed), then an addendum.
      agreedRecordId = await recordConversation(t, officer, caseId, {
        summary: 'SECRET-SUMMARY spoke with the leader', internalParticipantIds: [officer.id],
        externalParticipants: [{ name: 'SECRET-EXTERNAL Leader', role: 'Leader', organisation: 'The council' }],
        agreedActions: [{ description: 'SECRET-ACTION write to members', owner: 'Chief executive' }],
      });
      ok(await post(officer, `/conversations/${agreedRecordId}/corrections`, {
        version: 1, kind: 'sensitive_conversation', heldOn: '2026-01-20', summary: 'SECRET-SUMMARY spoke with the leader and the deputy',
        internalParticipantIds: [officer.id], correctionReason: 'SECRET-CORRECTION the deputy was present',
      }), 201);
      ok(await post(officer, `/conversations/${agreedRecordId}/external-agreements`, {
        counterparty: 'authority', organisation: 'SECRET-ORGANISATION council', agreedByRole: 'SECRET-ROLE chief executive', agreedOn: '2026-01-22', method: 'in_writing',
      }), 201);
      ok(await post(officer, `/conversations/${agreedRecordId}/attestations`, { version: 2 }), 201);
      ok(await post(officer, `/conversations/${agreedRecordId}/addenda`, { text: 'SECRET-ADDENDUM the deputy left early' }), 201);

      // A record in the peer's compartment.
      const compartment = ok(await post(peer, `/cases/${caseId}/compartments`, { staffIds: [officer.id] }), 201);
      await recordConversation(t, peer, caseId, { summary: 'SECRET-COMPARTMENT only the peer and the officer', compartmentId: compartment.body.id });

      // Support and a progress note.
      const support = await createSupport(t, officer, caseId, { status: 'agreed', description: 'SECRET-SUPPORT mentoring for the leader' });
      ok(await post(officer, `/support/${support.id}/progress-notes`, { note: 'SECRET-NOTE first session held' }), 201);

      // A source identity release: asked, approved by a second manager, revoked.
      const release = ok(await post(manager, `/concerns/${logged.concernId}/source-identity/releases`, {
        releasedToUserId: colleague.id, reason: 'SECRET-RELEASE-REASON the colleague must interview the source',
      }), 201);
      ok(await post(manager3, `/source-identity/releases/${release.body.id}/approve`, { note: 'SECRET-DECISION-NOTE agreed for the interview' }));
      ok(await post(manager, `/source-identity/releases/${release.body.id}/revoke`, { reason: 'SECRET-REVOKE-REASON interview cancelled' }));

      // Two recusals with reasons, one withdrawn with a reason.
      ok(await post(officer2, `/cases/${caseId}/recusal`, { reason: 'SECRET-RECUSAL my sister works there' }), 201);
      ok(await post(manager, `/cases/${caseId}/recusals/withdraw`, { userId: officer2.id, reason: 'SECRET-WITHDRAW-REASON the sister left the council last year' }));
      ok(await post(officer3, `/cases/${caseId}/recusal`, { reason: 'SECRET-RECUSAL-2 I advised the council last year' }), 201);

      // Break-glass into the restricted case, reviewed by an auditor; then the restriction is lifted.
      ok(await http(t).put(`/cases/${caseId}/restriction`).set(manager.auth).send({ restricted: true, version: await versionOf(t, caseId) }));
      const grant = ok(await post(manager2, `/cases/${caseId}/break-glass`, {
        reason: 'SECRET-BREAK-GLASS the case lead is away and the council meets tonight', code: nextTotp(manager2.email),
      }), 201);
      ok(await post(auditor, `/audit/break-glass/${grant.body.id}/review`, { note: 'SECRET-REVIEW-NOTE justified' }));
      ok(await http(t).put(`/cases/${caseId}/restriction`).set(manager.auth).send({ restricted: false, version: await versionOf(t, caseId) }));

      // The pre-intervention stage: a meeting, a liaison named, a pack summary and the meeting released.
      ok(await http(t).put(`/cases/${caseId}/government-trigger`).set(officer.auth)
        .send({ department: 'Department for Education', power: 'improvement_notice', version: await versionOf(t, caseId) }));
      await moveOk(t, officer, caseId, 'call_pre_intervention_meeting');
      const meeting = ok(await post(officer, `/cases/${caseId}/pre-intervention-meetings`, {
        meetingOn: '2026-02-10', interventionContemplated: 'improvement_notice', agenda: 'SECRET-AGENDA the sector-led alternative',
        attendees: [{ organisationType: 'authority', organisation: 'SECRET-ATTENDEE council', role: 'Leader' }],
      }), 201);
      ok(await post(manager, `/cases/${caseId}/liaisons`, { userId: liaison.id, reason: 'SECRET-LIAISON-REASON named by the department' }), 201);
      ok(await post(officer, `/cases/${caseId}/pack/items`, { kind: 'summary', title: 'SECRET-PACK-TITLE', summary: 'SECRET-PACK-SUMMARY where things stand' }), 201);
      ok(await post(officer, `/cases/${caseId}/pack/items`, { kind: 'meeting', meetingId: meeting.body.id }), 201);

      // The meeting decides that intervention proceeds: the case closes (a manager's move).
      ok(await post(manager, `/pre-intervention-meetings/${meeting.body.id}/outcome`, {
        outcome: 'intervention_proceeds', version: meeting.body.version, notes: 'SECRET-OUTCOME-NOTES the minister was briefed', closeReason: 'SECRET-CLOSE-REASON intervention',
      }));
      await sealAgreementOf(agreedRecordId);
      await age(caseId, 7);

      before = await dumpOf(caseId);
      [skeletonBefore] = await t.owner.query(
        `SELECT reference, authority_id, state, outcome, handling, government_department, government_power, opened_at, opened_by, closed_at FROM cases WHERE id = $1`, [caseId]);
      authorityId = skeletonBefore.authority_id as string;
      [{ n: auditBefore }] = await t.owner.query(`SELECT count(*)::int AS n FROM audit_events WHERE case_id = $1`, [caseId]);
      [{ content_hash: agreementHash }] = await t.owner.query(`SELECT content_hash FROM record_agreements WHERE record_id = $1`, [agreedRecordId]);
    });

    it('holds every kind of content before (the fixture is complete), and the agreed record verifies as intact', async () => {
      for (const table of [
        'cases', 'case_transitions', 'conversation_records', 'pre_intervention_meetings', 'improvement_support', 'support_progress_notes',
        'record_addenda', 'record_external_agreements', 'case_recusals', 'source_identity_releases', 'break_glass_grants', 'stage_liaisons', 'stage_pack_items',
      ]) {
        expect({ table, secret: before[table].some((row) => SECRET.test(row)) }).toEqual({ table, secret: true });
      }
      expect(before.concern_sources).toHaveLength(1);
      expect(before.compartment_records).toHaveLength(1);
      const [{ n }] = await t.owner.query(`SELECT count(*)::int AS n FROM record_agreements WHERE case_id = $1 AND field_hashes <> '{}'`, [caseId]);
      expect(n).toBe(1);
      const v = ok(await get(officer, `/conversations/${agreedRecordId}/agreement/verification`)).body;
      expect(v).toMatchObject({ state: 'intact', valid: true, destruction: null, problems: [], storedHash: agreementHash, recomputedHash: agreementHash });
    });

    describe('once a manager approves its destruction', () => {
      beforeAll(async () => {
        const review = await pendingReviewOf(caseId);
        expect(review).toBeDefined();
        ok(await post(manager, `/retention/reviews/${review!.id}/approve`, { reason: 'Six years passed; no hold applies' }));
        const list = ok(await get(auditor, `/audit/deletion-certificates?caseId=${caseId}`));
        expect(list.body).toHaveLength(1);
        certificate = list.body[0];
      });

      it('leaves no content in any table tied to the case: a database administrator’s SELECT finds none of it', async () => {
        const after = await dumpOf(caseId);
        for (const [table, rows] of Object.entries(after)) {
          expect({ table, leaked: rows.filter((row) => SECRET.test(row)) }).toEqual({ table, leaked: [] });
        }
        // Encrypted content: gone, and its keys destroyed (crypto-shredding); the source's identity deleted.
        expect(after.concern_sources).toEqual([]);
        expect(await t.owner.query(`SELECT description FROM concerns WHERE case_id = $1`, [caseId])).toEqual([{ description: null }]);
        expect((await t.owner.query(`SELECT DISTINCT summary FROM conversation_records WHERE case_id = $1`, [caseId]))).toEqual([{ summary: null }]);
        expect((await t.owner.query(`SELECT DISTINCT state FROM data_keys WHERE case_id = $1`, [caseId]))).toEqual([{ state: 'destroyed' }]);
      });

      it('blanks each content column of session 2 explicitly', async () => {
        const q = (sql: string) => t.owner.query(sql, [caseId]);
        expect(await q(`SELECT text FROM record_addenda WHERE case_id = $1`)).toEqual([{ text: DESTROYED }]);
        expect(await q(`SELECT organisation, agreed_by_role, counterparty, method FROM record_external_agreements WHERE case_id = $1`))
          .toEqual([{ organisation: DESTROYED, agreed_by_role: null, counterparty: 'authority', method: 'in_writing' }]);
        expect(await q(`SELECT content_hash, field_hashes FROM record_agreements WHERE case_id = $1`)).toEqual([{ content_hash: agreementHash, field_hashes: {} }]);
        expect(await t.owner.query(`SELECT version, correction_reason FROM conversation_records WHERE record_id = $1 ORDER BY version`, [agreedRecordId]))
          .toEqual([{ version: 1, correction_reason: null }, { version: 2, correction_reason: DESTROYED }]);
        expect(await q(`SELECT user_id, reason, withdraw_reason, withdrawn_by FROM case_recusals WHERE case_id = $1 ORDER BY recused_at`)).toEqual([
          { user_id: officer2.id, reason: DESTROYED, withdraw_reason: DESTROYED, withdrawn_by: manager.id },
          { user_id: officer3.id, reason: DESTROYED, withdraw_reason: null, withdrawn_by: null },
        ]);
        expect(await q(`SELECT reason, decision_note, revoke_reason, state, approved_by, released_to FROM source_identity_releases WHERE case_id = $1`)).toEqual([
          { reason: DESTROYED, decision_note: DESTROYED, revoke_reason: DESTROYED, state: 'revoked', approved_by: manager3.id, released_to: colleague.id },
        ]);
        expect(await q(`SELECT user_id, reason, review_note FROM break_glass_grants WHERE case_id = $1`)).toEqual([{ user_id: manager2.id, reason: DESTROYED, review_note: DESTROYED }]);
        expect(await q(`SELECT user_id, reason FROM stage_liaisons WHERE case_id = $1`)).toEqual([{ user_id: liaison.id, reason: DESTROYED }]);
        expect(await q(`SELECT kind, title, summary FROM stage_pack_items WHERE case_id = $1 ORDER BY kind DESC`)).toEqual([
          { kind: 'summary', title: null, summary: DESTROYED }, { kind: 'meeting', title: null, summary: null },
        ]);
      });

      it('keeps the skeleton: every row, the reference, authority, dates, states and outcome', async () => {
        // Nothing but the source's identity is deleted. (Left out: tables other work writes to while the
        // suite runs: the auditors' flags, inboxes, and retention's own review and certificate.)
        const caseFile = (dump: Record<string, string[]>) => {
          const { audit_flags: _f, notifications: _n, retention_reviews: _r, deletion_certificates: _d, ...rest } = rowCounts(dump);
          return rest;
        };
        expect(caseFile(await dumpOf(caseId))).toEqual({ ...caseFile(before), concern_sources: 0 });
        const [skeleton] = await t.owner.query(
          `SELECT reference, authority_id, state, outcome, handling, government_department, government_power, opened_at, opened_by, closed_at FROM cases WHERE id = $1`, [caseId]);
        expect(skeleton).toEqual(skeletonBefore);
        expect(skeleton).toMatchObject({ reference, authority_id: authorityId, state: 'closed', outcome: 'government_intervention' });
        const c = ok(await get(manager, `/cases/${caseId}`)).body;
        expect(c).toMatchObject({ reference, state: 'closed', outcome: 'government_intervention' });
        expect(c.concerns).toHaveLength(1);
        // Reads through the API show none of it either.
        const reads = await Promise.all([
          `/cases/${caseId}`, `/cases/${caseId}/conversations`, `/cases/${caseId}/history`, `/cases/${caseId}/support`, `/cases/${caseId}/pre-intervention-meetings`,
          `/cases/${caseId}/recusals`, `/cases/${caseId}/liaisons`, `/conversations/${agreedRecordId}/agreement`,
        ].map(async (path) => ({ path, body: JSON.stringify(ok(await get(manager, path)).body) })));
        for (const { path, body } of reads) expect({ path, leaked: SECRET.test(body) }).toEqual({ path, leaked: false });
      });

      it('keeps the audit trail, its justifications included (by design), and records the destruction', async () => {
        const trail: Array<{ action: string; justification: string | null }> = await t.owner.query(
          `SELECT action, justification FROM audit_events WHERE case_id = $1 ORDER BY occurred_at, id`, [caseId]);
        expect(trail.length).toBeGreaterThan(auditBefore);
        expect(trail).toEqual(expect.arrayContaining([
          expect.objectContaining({ action: 'destroy_content', justification: 'Six years passed; no hold applies' }),
          expect.objectContaining({ action: 'issue_deletion_certificate', justification: `sha256:${certificate.certificateHash}` }),
          expect.objectContaining({ action: 'break_glass', justification: expect.stringMatching(/^SECRET-BREAK-GLASS/) }),
          expect.objectContaining({ action: 'recuse', justification: expect.stringMatching(/^SECRET-RECUSAL/) }),
          expect.objectContaining({ action: 'agree_record', justification: `sha256:${agreementHash}` }),
        ]));
      });

      it('counts what went in the deletion certificate, table by table, the tables of session 2 included', async () => {
        expect(certificate.certificate.destroyed).toEqual(expect.arrayContaining([
          { table: 'concern_sources', rows: 1, how: 'deleted' },
          { table: 'conversation_records', rows: 3, how: 'redacted' },
          { table: 'record_addenda', rows: 1, how: 'redacted' },
          { table: 'record_external_agreements', rows: 1, how: 'redacted' },
          { table: 'record_agreements', rows: 1, how: 'redacted' },
          { table: 'case_recusals', rows: 2, how: 'redacted' },
          { table: 'source_identity_releases', rows: 1, how: 'redacted' },
          { table: 'break_glass_grants', rows: 1, how: 'redacted' },
          { table: 'stage_liaisons', rows: 1, how: 'redacted' },
          { table: 'stage_pack_items', rows: 1, how: 'redacted' },
          { table: 'data_keys', rows: 1, how: 'keys_destroyed' },
        ]));
        expect(JSON.stringify(certificate)).not.toMatch(SECRET);
      });

      it('verifying the agreed record answers content_destroyed with the certificate, not a broken seal; audited as such', async () => {
        const res = ok(await get(officer, `/conversations/${agreedRecordId}/agreement/verification`));
        expect(res.body).toMatchObject({
          recordType: 'conversation', recordId: agreedRecordId, state: 'content_destroyed', valid: false, storedHash: agreementHash, recomputedHash: null,
          destruction: { destroyedAt: expect.any(String), deletionCertificateId: certificate.id, deletionCertificateHash: certificate.certificateHash },
          problems: [],
        });
        // The agreement's audit record is still sealed under a signed checkpoint.
        expect(res.body.auditSeq).toBeGreaterThan(0);
        expect(res.body.checkpointTreeSize).toBeGreaterThanOrEqual(res.body.auditSeq);
        const [{ rule }] = await t.ds.query(`SELECT rule FROM audit_events WHERE action = 'verify' AND request_id = $1`, [res.headers['x-request-id']]);
        expect(rule).toBe('content_destroyed');
      });

      it('a seal that no longer matches its audit record is still reported as broken after destruction', async () => {
        // What a database administrator could do: rewrite the hash stored with the agreement (the audit trail, shared by every test file, is left alone).
        const rewrite = (hash: string) => t.owner.transaction(async (m) => {
          await m.query(`SET LOCAL session_replication_role = replica`);
          await m.query(`UPDATE record_agreements SET content_hash = $2 WHERE record_id = $1`, [agreedRecordId, hash]);
        });
        await rewrite('0'.repeat(64));
        try {
          const v = ok(await get(officer, `/conversations/${agreedRecordId}/agreement/verification`)).body;
          expect(v).toMatchObject({ state: 'broken', valid: false, destruction: { deletionCertificateId: certificate.id } });
          expect(v.problems.map((p: { code: string }) => p.code)).toEqual(['audit_hash_mismatch']);
        } finally {
          await rewrite(agreementHash);
        }
      });
    });
  });

  describe('what still refuses', () => {
    let caseId: string;
    let otherCaseId: string;

    /** A closed, aged case with a source, a conversation and a recusal with a reason. */
    async function closedCase(): Promise<string> {
      const logged = await logConcern(t, officer, {
        authority: await freshAuthority(t, used), description: 'SECRET-HELD concern', source: { name: 'SECRET-HELD source' },
      });
      await toSensitiveConversation(t, officer, logged.id);
      await recordConversation(t, officer, logged.id, { summary: 'SECRET-HELD summary' });
      ok(await post(officer2, `/cases/${logged.id}/recusal`, { reason: 'SECRET-HELD recusal reason' }), 201);
      await moveOk(t, manager, logged.id, 'close', { outcome: 'resolved_by_authority', reason: 'SECRET-HELD resolved' });
      await age(logged.id, 8);
      return logged.id;
    }

    beforeAll(async () => {
      caseId = await closedCase();
      otherCaseId = await closedCase();
    });

    it('a legal hold cancels the pending review: approval refused, nothing destroyed, no certificate; the function itself refuses too', async () => {
      const review = await pendingReviewOf(caseId);
      expect(review).toBeDefined();
      ok(await http(t).put(`/cases/${caseId}/legal-hold`).set(manager.auth).send({ hold: true, reason: 'Employment tribunal pending', version: await versionOf(t, caseId) }));
      expect((await post(manager, `/retention/reviews/${review!.id}/approve`, { reason: 'Trying to destroy anyway' })).status).toBe(422);
      expect(await pendingReviewOf(caseId)).toBeUndefined();

      const [fresh] = await t.owner.query(`INSERT INTO retention_reviews (case_id, due_on, rule, status) VALUES ($1, current_date, 'test', 'pending') RETURNING id`, [caseId]);
      await expect(t.owner.query(`SELECT destroy_case_content($1, $2, $3)`, [caseId, fresh.id, manager.id])).rejects.toThrow(/legal hold/);
      await t.owner.query(`UPDATE retention_reviews SET status = 'cancelled' WHERE id = $1`, [fresh.id]);

      expect(await t.owner.query(`SELECT reason FROM case_recusals WHERE case_id = $1`, [caseId])).toEqual([{ reason: 'SECRET-HELD recusal reason' }]);
      const [{ destroyed, description }] = await t.owner.query(`SELECT content_destroyed_at AS destroyed, description IS NOT NULL AS description FROM cases c JOIN concerns k ON k.case_id = c.id WHERE c.id = $1`, [caseId]);
      expect({ destroyed, description }).toEqual({ destroyed: null, description: true });
      expect(ok(await get(auditor, `/audit/deletion-certificates?caseId=${caseId}`)).body).toEqual([]);
    });

    it('the service role cannot change the new content columns itself, even imitating the destruction function', async () => {
      for (const sql of [
        `UPDATE case_recusals SET reason = 'x' WHERE case_id = $1`,
        `UPDATE source_identity_releases SET reason = 'x' WHERE case_id = $1`,
        `UPDATE record_addenda SET text = 'x' WHERE case_id = $1`,
        `UPDATE stage_pack_items SET summary = 'x' WHERE case_id = $1`,
      ]) {
        await expect(t.ds.transaction(async (m) => {
          await m.query(`SELECT set_config('app.destroying_case', $1, true)`, [otherCaseId]);
          await m.query(sql, [otherCaseId]);
        })).rejects.toThrow(/immutable|permission denied/);
      }
    });

    it('the guards admit the destruction only for the case being destroyed, and only of content columns', async () => {
      const attempt = (setting: string | null, sql: string) => t.owner.transaction(async (m) => {
        if (setting) await m.query(`SELECT set_config('app.destroying_case', $1, true)`, [setting]);
        await m.query(sql, [otherCaseId]);
      });
      const reason = `UPDATE case_recusals SET reason = 'x' WHERE case_id = $1`;
      // Outside the function, as another case's destruction, or changing more than content: refused, even to the owner.
      await expect(attempt(null, reason)).rejects.toThrow(/only the withdrawal/);
      await expect(attempt(caseId, reason)).rejects.toThrow(/only the withdrawal/);
      await expect(attempt(otherCaseId, `UPDATE case_recusals SET reason = 'x', recused_at = now() WHERE case_id = $1`)).rejects.toThrow(/only the withdrawal/);
      expect(await t.owner.query(`SELECT reason FROM case_recusals WHERE case_id = $1`, [otherCaseId])).toEqual([{ reason: 'SECRET-HELD recusal reason' }]);
    });
  });
});
