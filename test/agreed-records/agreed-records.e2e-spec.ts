import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { Role } from '../../src/access-control/role';
import { AuditSealer } from '../../src/audit/sealer';
import { expectApiError } from '../support/api-error';
import { createTestApp, ownerDataSource, partyIdOf, signedIn, TestApp } from '../support/app';

/*
 * Agreed records (issue 8, point 3) through the HTTP API against the real database: who may
 * attest, when a record is agreed and sealed, what is refused afterwards, addenda, and the
 * verification of a seal (also after a database administrator changes the record).
 * Authorities used only by this file: NFK, SFK, CAM.
 */

type Person = Awaited<ReturnType<typeof signedIn>>;

describe('Agreed records', () => {
  let t: TestApp;
  let owner: DataSource;
  let officer: Person;
  let officer2: Person;
  let manager: Person;
  let peerLab: Person;
  let peerCon: Person;
  let peerOut: Person;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await ownerDataSource();
    const [labour, conservative] = [await partyIdOf(t.ds, 'Labour'), await partyIdOf(t.ds, 'Conservative')];
    [officer, officer2, manager, peerLab, peerCon, peerOut] = await Promise.all([
      signedIn(t, Role.ClearingHouseOfficer),
      signedIn(t, Role.ClearingHouseOfficer),
      signedIn(t, Role.ClearingHouseManager),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: conservative }),
      signedIn(t, Role.LeadPoliticalPeer, { partyId: labour }),
    ]);
  });
  afterAll(async () => {
    await owner?.destroy();
    await t?.close();
  });

  const http = () => request(t.http);
  const ok = (res: Response, status: number): Response => {
    if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
    return res;
  };
  const base = (type: string, id: string) => (type === 'conversation' ? `/conversations/${id}` : `/pre-intervention-meetings/${id}`);
  const attest = (who: Person, type: string, id: string, version: number) => http().post(`${base(type, id)}/attestations`).set(who.auth).send({ version });
  const status = async (who: Person, type: string, id: string) => ok(await http().get(`${base(type, id)}/agreement`).set(who.auth), 200).body;
  const auditOf = (res: Response): Promise<Array<{ action: string; resource_type: string; resource_id: string | null; outcome: string; rule: string | null }>> =>
    t.ds.query(`SELECT action, resource_type, resource_id, outcome, rule FROM audit_events WHERE request_id = $1 ORDER BY occurred_at, id`, [res.headers['x-request-id']]);
  /**
   * Seals until the agreement's audit record is in the tree. The sealer's horizon is server-wide
   * (another open transaction, or the scheduled sealer holding its lock, delays it): a wait for a
   * condition, not for a time.
   */
  async function sealAgreementOf(type: string, id: string): Promise<void> {
    const sealer = t.app.get(AuditSealer);
    for (let i = 0; i < 2_400; i++) {
      await sealer.sealAll();
      const [{ n }] = await owner.query(
        `SELECT count(*)::int AS n FROM record_agreements a JOIN audit_events e ON e.resource_type = 'agreed_record' AND e.resource_id = a.id::text
           JOIN audit_seals s ON s.event_id = e.id WHERE a.record_type = $1 AND a.record_id = $2`, [type, id]);
      if (n === 1) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error('the agreement was never sealed');
  }
  const withoutRequestId = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;

  /** A case on the authority with the Labour and Conservative peers on its team. */
  async function newCase(authority: string): Promise<string> {
    const r = ok(await http().post('/concerns').set(officer.auth).send({
      authority, receivedOn: '2026-10-01', channel: 'sector_intelligence', area: 'finance', description: 'Budget gap', source: { name: 'A. Source', role: 'Officer' },
    }), 201);
    for (const [who, teamRole] of [[officer, 'case_lead'], [peerLab, 'lead_political_peer'], [peerCon, 'lead_political_peer']] as const) {
      ok(await http().post(`/cases/${r.body.case.id}/team`).set(manager.auth).send({ userId: who.id, teamRole }), 201);
    }
    return r.body.case.id;
  }
  async function conversation(who: Person, caseId: string, body: Record<string, unknown> = {}): Promise<string> {
    const r = await http().post(`/cases/${caseId}/conversations`).set(who.auth)
      .send({ kind: 'sensitive_conversation', heldOn: '2026-11-20', summary: 'Spoke with the leader', handling: 'normal', ...body });
    return ok(r, 201).body.recordId;
  }
  const correct = (who: Person, recordId: string, version: number, extra: Record<string, unknown> = {}) =>
    http().post(`/conversations/${recordId}/corrections`).set(who.auth).send({
      version, kind: 'sensitive_conversation', heldOn: '2026-11-20', summary: 'Spoke with the leader and the deputy', correctionReason: 'Deputy was present', ...extra,
    });

  describe('who may attest', () => {
    let caseId: string;
    beforeAll(async () => {
      caseId = await newCase('NFK');
    });

    it('a participant named on the record: yes, once per version; anyone else: refused and audited', async () => {
      const recordId = await conversation(officer, caseId, { internalParticipantIds: [officer.id, peerLab.id] });

      const stranger = await attest(officer2, 'conversation', recordId, 1);
      expectApiError(stranger, 403, 'FORBIDDEN');
      expect(await auditOf(stranger)).toContainEqual(expect.objectContaining({
        action: 'attest_record', resource_type: 'conversation', resource_id: recordId, outcome: 'denied', rule: 'attest_not_named_participant',
      }));
      // Not even the manager, who may read and correct everything.
      expectApiError(await attest(manager, 'conversation', recordId, 1), 403, 'FORBIDDEN');

      const first = ok(await attest(officer, 'conversation', recordId, 1), 201);
      expect(first.body).toMatchObject({ recordType: 'conversation', recordId, version: 1, userId: officer.id });
      expect(await auditOf(first)).toContainEqual(expect.objectContaining({ action: 'attest_record', outcome: 'allowed', rule: 'version:1' }));

      const twice = await attest(officer, 'conversation', recordId, 1);
      expect(expectApiError(twice, 409, 'CONFLICT').details).toEqual({ rule: 'attest_once_per_version' });
      expect(await auditOf(twice)).toContainEqual(expect.objectContaining({ outcome: 'denied', rule: 'attest_once_per_version' }));

      expectApiError(await attest(peerLab, 'conversation', recordId, 2), 409, 'VERSION_CONFLICT');
      expect(await status(officer, 'conversation', recordId)).toMatchObject({
        state: 'draft', version: 1, participantIds: [officer.id, peerLab.id], pendingParticipantIds: [peerLab.id], agreement: null, addenda: [],
      });
    });

    it('a named participant who cannot see the record gets the same 404 as for a record that does not exist', async () => {
      // Party-confidential to Labour: the Conservative peer on the team may not read it; the Labour peer off the team may not see the case.
      const recordId = await conversation(peerLab, caseId, { handling: 'party_confidential', internalParticipantIds: [peerLab.id, peerCon.id, peerOut.id] });
      const missing = expectApiError(await attest(peerCon, 'conversation', randomUUID(), 1), 404, 'NOT_FOUND');
      for (const who of [peerCon, peerOut]) {
        const hidden = await attest(who, 'conversation', recordId, 1);
        expect(withoutRequestId(expectApiError(hidden, 404, 'NOT_FOUND'))).toEqual(withoutRequestId(missing));
        expect(await auditOf(hidden)).toContainEqual(expect.objectContaining({ action: 'attest_record', outcome: 'denied' }));
        expectApiError(await http().get(`${base('conversation', recordId)}/agreement`).set(who.auth), 404, 'NOT_FOUND');
      }
      // Who may see it attests; the record stays a draft while a named participant has not.
      ok(await attest(peerLab, 'conversation', recordId, 1), 201);
      expect((await status(peerLab, 'conversation', recordId)).pendingParticipantIds).toEqual([peerCon.id, peerOut.id]);
    });

    it('a record that names no user as a participant cannot be attested (422)', async () => {
      const recordId = await conversation(officer, caseId);
      expect(expectApiError(await attest(officer, 'conversation', recordId, 1), 422, 'PRECONDITION_FAILED').details).toEqual({ precondition: 'attest_needs_named_participants' });
    });

    it('refuses a malformed id or body', async () => {
      expectApiError(await http().post(`/conversations/not-a-uuid/attestations`).set(officer.auth).send({ version: 1 }), 400, 'VALIDATION_FAILED');
      expectApiError(await http().post(`/pre-intervention-meetings/${randomUUID()}/attestations`).set(officer.auth).send({ version: 0 }), 400, 'VALIDATION_FAILED');
      expectApiError(await http().post(`/conversations/${randomUUID()}/attestations`).set(officer.auth).send({ version: 1, extra: 1 }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('agreement, sealing and what follows', () => {
    let caseId: string;
    let recordId: string;
    beforeAll(async () => {
      caseId = await newCase('SFK');
      recordId = await conversation(officer, caseId, {
        internalParticipantIds: [officer.id, peerLab.id], agreedActions: [{ description: 'Share the recovery plan', owner: 'Chief executive' }],
      });
    });

    it('a draft is still corrected as before; attestations of an earlier version no longer count', async () => {
      ok(await attest(officer, 'conversation', recordId, 1), 201);
      ok(await correct(officer, recordId, 1, { internalParticipantIds: [officer.id, peerLab.id], agreedActions: [{ description: 'Share the recovery plan', owner: 'Chief executive' }] }), 201);
      const s = await status(officer, 'conversation', recordId);
      expect(s).toMatchObject({ state: 'draft', version: 2, pendingParticipantIds: [officer.id, peerLab.id] });
      expect(s.attestations).toHaveLength(1);
    });

    it('an addendum to a draft is refused (correct the draft instead)', async () => {
      expect(expectApiError(await http().post(`${base('conversation', recordId)}/addenda`).set(officer.auth).send({ text: 'Too early' }), 409, 'CONFLICT').details)
        .toEqual({ rule: 'addendum_only_after_agreement' });
    });

    it('records that the authority agreed it (facts only), while a draft', async () => {
      const r = ok(await http().post(`${base('conversation', recordId)}/external-agreements`).set(officer.auth).send({
        counterparty: 'authority', organisation: 'Suffolk County Council', agreedByRole: 'Chief executive', agreedOn: '2026-11-25', method: 'email',
      }), 201);
      expect(r.body).toMatchObject({ counterparty: 'authority', organisation: 'Suffolk County Council', agreedOn: '2026-11-25', method: 'email', recordedBy: officer.id });
      expectApiError(await http().post(`${base('conversation', recordId)}/external-agreements`).set(peerOut.auth).send({
        counterparty: 'government', organisation: 'DfE', agreedOn: '2026-11-25', method: 'call',
      }), 404, 'NOT_FOUND');
    });

    it('becomes agreed when the last named participant attests: sealed, its hash in the audit record of the agreement', async () => {
      ok(await attest(officer, 'conversation', recordId, 2), 201);
      const last = ok(await attest(peerLab, 'conversation', recordId, 2), 201);
      const s = await status(peerLab, 'conversation', recordId);
      expect(s).toMatchObject({ state: 'agreed', version: 2, pendingParticipantIds: [], agreement: { version: 2, hashFormat: 'ch-agreed-record-v1' } });
      expect(s.agreement.contentHash).toMatch(/^[0-9a-f]{64}$/);
      expect(s.externalAgreements).toHaveLength(1);
      const [event] = await t.ds.query(`SELECT action, resource_id, case_id, rule, justification, request_id FROM audit_events WHERE resource_type = 'agreed_record' AND resource_id = $1`, [s.agreement.id]);
      expect(event).toEqual({
        action: 'agree_record', resource_id: s.agreement.id, case_id: caseId, rule: `conversation:${recordId}:v2`, justification: `sha256:${s.agreement.contentHash}`,
        request_id: last.headers['x-request-id'],
      });
    });

    it('after agreement: corrections, attestations and external agreements are refused (409 naming the rule), and audited', async () => {
      const correction = await correct(officer, recordId, 2);
      expect(expectApiError(correction, 409, 'CONFLICT').details).toMatchObject({ rule: 'agreed_record_sealed' });
      expect(await auditOf(correction)).toContainEqual(expect.objectContaining({ action: 'correct', resource_id: recordId, outcome: 'denied', rule: 'agreed_record_sealed' }));
      expect((await owner.query(`SELECT count(*)::int AS n FROM conversation_records WHERE record_id = $1`, [recordId]))[0].n).toBe(2);
      // A manager may correct any draft, but not an agreed record.
      expectApiError(await correct(manager, recordId, 2), 409, 'CONFLICT');
      expect(expectApiError(await attest(officer, 'conversation', recordId, 2), 409, 'CONFLICT').details).toEqual({ rule: 'agreed_record_sealed' });
      expect(expectApiError(await http().post(`${base('conversation', recordId)}/external-agreements`).set(officer.auth).send({
        counterparty: 'government', organisation: 'Department for Education', agreedOn: '2026-11-26', method: 'in_writing',
      }), 409, 'CONFLICT').details).toEqual({ rule: 'agreed_record_sealed' });
    });

    it('later corrections are addenda linked to the agreement and listed with it; someone who cannot see the record gets 404', async () => {
      const { agreement } = await status(officer, 'conversation', recordId);
      const r = ok(await http().post(`${base('conversation', recordId)}/addenda`).set(peerLab.auth).send({ text: 'The deputy leader left before the actions were agreed' }), 201);
      expect(r.body).toMatchObject({ agreementId: agreement.id, recordType: 'conversation', recordId, recordedBy: peerLab.id });
      expect(await auditOf(r)).toContainEqual(expect.objectContaining({ action: 'create', resource_type: 'record_addendum', resource_id: r.body.id, outcome: 'allowed' }));
      expect((await status(officer, 'conversation', recordId)).addenda).toEqual([r.body]);

      const missing = expectApiError(await http().post(`${base('conversation', randomUUID())}/addenda`).set(peerOut.auth).send({ text: 'x' }), 404, 'NOT_FOUND');
      const hidden = await http().post(`${base('conversation', recordId)}/addenda`).set(peerOut.auth).send({ text: 'x' });
      expect(withoutRequestId(expectApiError(hidden, 404, 'NOT_FOUND'))).toEqual(withoutRequestId(missing));
      expect(await auditOf(hidden)).toContainEqual(expect.objectContaining({ outcome: 'denied' }));
      expect((await owner.query(`SELECT count(*)::int AS n FROM record_addenda WHERE record_id = $1`, [recordId]))[0].n).toBe(1);
    });

    it('an addendum with an Idempotency-Key is created once; a retry replays it', async () => {
      const key = randomUUID();
      const post = () => http().post(`${base('conversation', recordId)}/addenda`).set(officer.auth).set('Idempotency-Key', key).send({ text: 'Date of the next review confirmed' });
      const first = ok(await post(), 201);
      const retry = ok(await post(), 201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect((await owner.query(`SELECT count(*)::int AS n FROM record_addenda WHERE record_id = $1 AND text = 'Date of the next review confirmed'`, [recordId]))[0].n).toBe(1);
    });

    it('verifies: the record hashes to its agreement, whose audit record is sealed in the tree', async () => {
      await sealAgreementOf('conversation', recordId);
      const v = ok(await http().get(`${base('conversation', recordId)}/agreement/verification`).set(officer.auth), 200).body;
      expect(v).toMatchObject({ recordType: 'conversation', recordId, valid: true, problems: [] });
      expect(v.recomputedHash).toBe(v.storedHash);
      expect(v.auditSeq).toBeGreaterThan(0);
      expect(v.checkpointTreeSize).toBeGreaterThanOrEqual(v.auditSeq);
      // The summary is sealed as plaintext: the stored column is not what was hashed.
      const [{ summary }] = await owner.query(`SELECT summary::text AS summary FROM conversation_records WHERE record_id = $1 AND version = 2`, [recordId]);
      expect(summary).not.toContain('Spoke with the leader');
      expectApiError(await http().get(`${base('conversation', recordId)}/agreement/verification`).set(peerOut.auth), 404, 'NOT_FOUND');
    });

    it('fails, naming the record and the field, after a database administrator changes the record', async () => {
      // What a DBA can do: bypass the immutability trigger as the owner.
      await owner.transaction(async (m) => {
        await m.query(`SET LOCAL session_replication_role = replica`);
        await m.query(`UPDATE conversation_records SET agreed_actions = '[{"description":"Nothing was agreed","owner":"Nobody"}]' WHERE record_id = $1 AND version = 2`, [recordId]);
      });
      const v = ok(await http().get(`${base('conversation', recordId)}/agreement/verification`).set(officer.auth), 200).body;
      expect(v.valid).toBe(false);
      expect(v.recomputedHash).not.toBe(v.storedHash);
      expect(v.problems).toEqual([expect.objectContaining({ code: 'content_hash_mismatch', fields: ['agreedActions'] })]);
      expect(v.problems[0].message).toContain(recordId);
      const [{ rule }] = await t.ds.query(`SELECT rule FROM audit_events WHERE action = 'verify' AND resource_id = $1 ORDER BY occurred_at DESC LIMIT 1`, [v.agreementId]);
      expect(rule).toBe('seal_broken');
    });

    it('row-level security: the service role sees the agreement rows only as a user who may see the record', async () => {
      const countAs = (userId: string | null) => t.ds.transaction(async (m) => {
        if (userId) await m.query(`SELECT set_config('clearing_house.user_id', $1, true)`, [userId]);
        const counts = await m.query(
          `SELECT (SELECT count(*)::int FROM record_attestations WHERE record_id = $1) AS a, (SELECT count(*)::int FROM record_agreements WHERE record_id = $1) AS g,
                  (SELECT count(*)::int FROM record_external_agreements WHERE record_id = $1) AS e, (SELECT count(*)::int FROM record_addenda WHERE record_id = $1) AS d`,
          [recordId]);
        return counts[0];
      });
      expect(await countAs(peerLab.id)).toEqual({ a: 3, g: 1, e: 1, d: 2 });
      expect(await countAs(peerOut.id)).toEqual({ a: 0, g: 0, e: 0, d: 0 });
      expect(await countAs(null)).toEqual({ a: 0, g: 0, e: 0, d: 0 });
      // And it may not write one in someone else's name.
      await expect(t.ds.transaction(async (m) => {
        await m.query(`SELECT set_config('clearing_house.user_id', $1, true)`, [peerLab.id]);
        await m.query(`INSERT INTO record_attestations (record_type, record_id, record_version, case_id, user_id) VALUES ('conversation', $1, 9, $2, $3)`, [recordId, caseId, officer.id]);
      })).rejects.toThrow(/row-level security/);
    });

    it('verification of a draft: 422, nothing to verify', async () => {
      const draft = await conversation(officer, caseId, { internalParticipantIds: [officer.id] });
      expect(expectApiError(await http().get(`${base('conversation', draft)}/agreement/verification`).set(officer.auth), 422, 'PRECONDITION_FAILED').details)
        .toEqual({ precondition: 'record_agreed' });
    });
  });

  it('documents the Idempotency-Key header on every create endpoint of agreed records', async () => {
    const doc = ok(await http().get('/api/docs/openapi.json'), 200).body;
    for (const prefix of ['/conversations/{recordId}', '/pre-intervention-meetings/{id}']) {
      for (const path of ['attestations', 'external-agreements', 'addenda'].map((p) => `${prefix}/${p}`)) {
        const header = (doc.paths[path]?.post?.parameters ?? []).find((p: { in: string; name: string }) => p.in === 'header' && p.name === 'Idempotency-Key');
        expect({ path, documented: !!header }).toEqual({ path, documented: true });
      }
    }
  });

  describe('a pre-intervention meeting record', () => {
    it('is attested by the users named as taking part; once agreed its outcome can no longer change; addenda follow', async () => {
      const caseId = await newCase('CAM');
      let version = (await http().get(`/cases/${caseId}`).set(officer.auth)).body.version;
      version = ok(await http().put(`/cases/${caseId}/government-trigger`).set(officer.auth).send({ department: 'Department for Education', power: 'improvement_notice', version }), 200).body.version;
      ok(await http().post(`/cases/${caseId}/moves`).set(officer.auth).send({ version, move: 'call_pre_intervention_meeting' }), 200);
      const meeting = ok(await http().post(`/cases/${caseId}/pre-intervention-meetings`).set(officer.auth).send({
        meetingOn: '2026-12-01', interventionContemplated: 'improvement_notice', participantUserIds: [officer.id, manager.id],
        attendees: [{ organisationType: 'authority', organisation: 'Cambridgeshire County Council' }, { organisationType: 'government_department', organisation: 'Department for Education' }],
      }), 201).body;
      expect(meeting.participantUserIds).toEqual([officer.id, manager.id]);
      const deferred = ok(await http().post(`/pre-intervention-meetings/${meeting.id}/outcome`).set(officer.auth)
        .send({ outcome: 'deferred', version: meeting.version, deferredUntil: '2027-01-15' }), 200).body;

      ok(await http().post(`${base('meeting', meeting.id)}/external-agreements`).set(officer.auth).send({
        counterparty: 'government', organisation: 'Department for Education', agreedOn: '2026-12-02', method: 'in_meeting',
      }), 201);
      expectApiError(await attest(peerLab, 'meeting', meeting.id, deferred.version), 403, 'FORBIDDEN');
      expectApiError(await attest(peerOut, 'meeting', meeting.id, deferred.version), 404, 'NOT_FOUND');
      // An attestation with an Idempotency-Key: a retry (the answer lost) replays it rather than answering 409.
      const key = randomUUID();
      const keyed = () => http().post(`${base('meeting', meeting.id)}/attestations`).set(officer.auth).set('Idempotency-Key', key).send({ version: deferred.version });
      const first = ok(await keyed(), 201);
      const retry = ok(await keyed(), 201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
      ok(await attest(manager, 'meeting', meeting.id, deferred.version), 201);
      expect((await status(officer, 'meeting', meeting.id)).state).toBe('agreed');

      const outcome = await http().post(`/pre-intervention-meetings/${meeting.id}/outcome`).set(officer.auth)
        .send({ outcome: 'deferred', version: deferred.version, deferredUntil: '2027-02-15' });
      expect(expectApiError(outcome, 409, 'CONFLICT').details).toMatchObject({ rule: 'agreed_record_sealed' });
      ok(await http().post(`${base('meeting', meeting.id)}/addenda`).set(officer.auth).send({ text: 'The department asked for the minutes' }), 201);
      expect((await status(manager, 'meeting', meeting.id)).addenda).toHaveLength(1);

      await sealAgreementOf('meeting', meeting.id);
      expect(ok(await http().get(`${base('meeting', meeting.id)}/agreement/verification`).set(manager.auth), 200).body).toMatchObject({ valid: true, problems: [] });
    });

    it('refuses participants who are not users', async () => {
      const caseId = await newCase('CAM');
      let version = (await http().get(`/cases/${caseId}`).set(officer.auth)).body.version;
      version = ok(await http().put(`/cases/${caseId}/government-trigger`).set(officer.auth).send({ department: 'DfE', power: 'improvement_notice', version }), 200).body.version;
      ok(await http().post(`/cases/${caseId}/moves`).set(officer.auth).send({ version, move: 'call_pre_intervention_meeting' }), 200);
      const r = await http().post(`/cases/${caseId}/pre-intervention-meetings`).set(officer.auth).send({
        meetingOn: '2026-12-01', interventionContemplated: 'improvement_notice', participantUserIds: [randomUUID()],
        attendees: [{ organisationType: 'authority', organisation: 'Cambridgeshire County Council' }],
      });
      expectApiError(r, 400, 'VALIDATION_FAILED');
    });
  });
});
