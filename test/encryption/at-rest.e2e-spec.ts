import request from 'supertest';
import { DataSource } from 'typeorm';
import { TestApp } from '../support/app';
import { appWithStaff } from '../support/staffed-app';
import { appearsIn, logConcern, ownerDump, Person, recordConversation, sentinel } from './fixtures';

const REASON = 'Need to call the source back about the budget papers today';

describe('encryption at rest: what the database holds', () => {
  let t: TestApp, owner: DataSource, officer: Person, manager: Person;

  beforeAll(async () => { ({ t, owner, officer, manager } = await appWithStaff()); });
  afterAll(() => t.close());

  /** Changes a stored value as the owner could, bypassing the immutability triggers (a superuser's replica mode). */
  async function tamper(sql: string, params: unknown[]): Promise<void> {
    await owner.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      await m.query(sql, params);
    });
  }

  async function integrityFailures(rowId: string): Promise<Array<{ outcome: string; rule: string }>> {
    return owner.query(`SELECT outcome, rule FROM audit_events WHERE resource_id = $1 AND rule LIKE 'ciphertext_integrity_failure%' ORDER BY occurred_at`, [rowId]);
  }

  it('round-trips through the API, and a dump of the tables holds none of it in the clear', async () => {
    const description = sentinel('DESCRIPTION');
    const name = sentinel('NAME');
    const contact = sentinel('CONTACT');
    const organisation = sentinel('ORG');
    const summary = sentinel('SUMMARY');
    const corrected = sentinel('CORRECTED');
    const { caseId, concernId, body } = await logConcern(t, officer, { description, source: { name, role: 'Finance officer', organisation, contact } });
    expect(body.concern.description).toBe(description);
    const conv = await recordConversation(t, officer, caseId, summary);
    expect(conv.summary).toBe(summary);
    const fix = await request(t.http).post(`/conversations/${conv.recordId}/corrections`).set(officer.auth)
      .send({ kind: 'call', heldOn: '2026-11-03', summary: corrected, version: 1, correctionReason: 'Wrong figure in the first note' });
    expect(fix.status).toBe(201);
    expect(fix.body.summary).toBe(corrected);

    expect((await request(t.http).get(`/cases/${caseId}`).set(officer.auth)).body.concerns[0].description).toBe(description);
    expect((await request(t.http).get(`/concerns/${concernId}`).set(officer.auth)).body.description).toBe(description);
    const record = await request(t.http).get(`/conversations/${conv.recordId}`).set(officer.auth);
    expect(record.body.summary).toBe(corrected);
    expect(record.body.earlierVersions[0].summary).toBe(summary);
    expect((await request(t.http).get(`/cases/${caseId}/conversations`).set(officer.auth)).body[0].summary).toBe(corrected);
    const revealed = await request(t.http).post(`/concerns/${concernId}/source-identity/reveal`).set(manager.auth).send({ reason: REASON });
    expect(revealed.status).toBe(200);
    expect(revealed.body.source).toEqual({ name, role: 'Finance officer', organisation, contact });

    const dump = await ownerDump(owner);
    for (const plaintext of [description, name, contact, organisation, summary, corrected]) expect(appearsIn(dump, plaintext)).toBe(false);
    // The data key is there only wrapped, and is this case's.
    const keys = await owner.query(`SELECT version, state, octet_length(wrapped_key) AS wrapped, master_key_id FROM data_keys WHERE case_id = $1`, [caseId]);
    expect(keys).toEqual([{ version: 1, state: 'active', wrapped: 60, master_key_id: expect.stringMatching(/^[0-9a-f]{16}$/) }]);
    const [stored] = await owner.query(`SELECT get_byte(description, 0) AS format, octet_length(description) AS n FROM concerns WHERE id = $1`, [concernId]);
    expect(stored.format).toBe(1);
  });

  it('each case has its own data key', async () => {
    const a = await logConcern(t, officer, { description: sentinel('A') });
    const b = await logConcern(t, officer, { description: sentinel('B') });
    const keys: Array<{ case_id: string }> = await owner.query(`SELECT case_id FROM data_keys WHERE case_id = ANY ($1::uuid[]) AND state = 'active'`, [[a.caseId, b.caseId]]);
    expect(keys.map((k) => k.case_id).sort()).toEqual([a.caseId, b.caseId].sort());
  });

  it.each([
    ['the key version in the header (wrong key version)', 18],
    ['the IV', 25],
    ['the tag', 40],
    ['the ciphertext', 52],
  ])('refuses a flipped bit in %s: a generic 500 with no content, and an audited integrity failure', async (_what, byte) => {
    const description = sentinel('TAMPER');
    const { caseId, concernId } = await logConcern(t, officer, { description });
    await tamper(`UPDATE concerns SET description = set_byte(description, $2, get_byte(description, $2) # 1) WHERE id = $1`, [concernId, byte]);
    for (const path of [`/concerns/${concernId}`, `/cases/${caseId}`]) {
      const res = await request(t.http).get(path).set(officer.auth);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ statusCode: 500, error: 'INTERNAL_ERROR', message: 'Internal error', requestId: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toContain('SENTINEL');
    }
    const failures = await integrityFailures(concernId);
    expect(failures).toHaveLength(2);
    expect(failures[0]).toEqual({ outcome: 'denied', rule: 'ciphertext_integrity_failure:concerns.description' });
    // Flipped back, it reads again: nothing else was harmed.
    await tamper(`UPDATE concerns SET description = set_byte(description, $2, get_byte(description, $2) # 1) WHERE id = $1`, [concernId, byte]);
    expect((await request(t.http).get(`/concerns/${concernId}`).set(officer.auth)).body.description).toBe(description);
  });

  it('refuses a ciphertext swapped between two rows of the same case (same key), and one relabelled with another key', async () => {
    const first = await logConcern(t, officer, { description: sentinel('FIRST') });
    const second = await logConcern(t, officer, { description: sentinel('SECOND'), caseId: first.caseId });
    await tamper(
      `UPDATE concerns a SET description = b.description FROM concerns b WHERE (a.id, b.id) IN (($1::uuid, $2::uuid), ($2::uuid, $1::uuid))`,
      [first.concernId, second.concernId],
    );
    expect((await request(t.http).get(`/concerns/${first.concernId}`).set(officer.auth)).status).toBe(500);
    expect((await request(t.http).get(`/concerns/${second.concernId}`).set(officer.auth)).status).toBe(500);
    expect(await integrityFailures(first.concernId)).toHaveLength(1);

    // A value moved to another case's row, key and all, does not decrypt either.
    const other = await logConcern(t, officer, { description: sentinel('OTHER') });
    await tamper(`UPDATE concerns SET description = (SELECT description FROM concerns WHERE id = $2) WHERE id = $1`, [other.concernId, first.concernId]);
    expect((await request(t.http).get(`/concerns/${other.concernId}`).set(officer.auth)).status).toBe(500);
  });

  it("refuses a tampered summary and a tampered source identity the same way", async () => {
    const { caseId, concernId } = await logConcern(t, officer, { description: sentinel('D'), source: { name: sentinel('N') } });
    const conv = await recordConversation(t, officer, caseId, sentinel('S'));
    const [row] = await owner.query(`SELECT id FROM conversation_records WHERE record_id = $1`, [conv.recordId]);
    await tamper(`UPDATE conversation_records SET summary = set_byte(summary, 60, get_byte(summary, 60) # 128) WHERE id = $1`, [row.id]);
    expect((await request(t.http).get(`/conversations/${conv.recordId}`).set(officer.auth)).status).toBe(500);
    expect((await request(t.http).get(`/cases/${caseId}/conversations`).set(officer.auth)).status).toBe(500);
    expect((await integrityFailures(row.id))[0].rule).toBe('ciphertext_integrity_failure:conversation_records.summary');

    await tamper(`UPDATE concern_sources SET identity = set_byte(identity, 30, get_byte(identity, 30) # 4) WHERE concern_id = $1`, [concernId]);
    const reveal = await request(t.http).post(`/concerns/${concernId}/source-identity/reveal`).set(manager.auth).send({ reason: REASON });
    expect(reveal.status).toBe(500);
    expect(JSON.stringify(reveal.body)).not.toContain('SENTINEL');
    expect((await integrityFailures(concernId)).map((f) => f.rule)).toContain('ciphertext_integrity_failure:concern_sources.identity');
  });

  it('refuses to store plaintext in the source identity column, and the service role cannot change ciphertext', async () => {
    const { caseId, concernId } = await logConcern(t, officer, { description: sentinel('D') });
    await expect(owner.query(`INSERT INTO concern_sources (concern_id, identity) VALUES ($1, convert_to('Plain Name', 'UTF8'))`, [concernId])).rejects.toThrow(/check constraint/);
    await expect(t.ds.query(`UPDATE concerns SET description = description WHERE id = $1`, [concernId])).rejects.toThrow(/permission denied/);
    await expect(t.ds.query(`UPDATE data_keys SET state = 'retiring' WHERE case_id = $1`, [caseId])).rejects.toThrow(/permission denied/);
    // The re-encryption path moves values only off a retiring key: outside a rotation it changes nothing.
    const [{ description }] = await owner.query(`SELECT description FROM concerns WHERE id = $1`, [concernId]);
    await expect(t.ds.query(`SELECT reencrypt_field('concerns.description', $1, $2, $2)`, [concernId, description]))
      .rejects.toThrow(/only moves values off a retiring key/);
  });

  it('the immutable-record guard admits a re-encryption only of the encrypted column, and only by the owner inside the function', async () => {
    const { caseId } = await logConcern(t, officer, { description: sentinel('D') });
    const conv = await recordConversation(t, officer, caseId, sentinel('S'));
    // The service role, imitating the function's setting: no privilege at all.
    await expect(t.ds.transaction(async (m) => {
      await m.query(`SELECT set_config('app.reencrypting', 'conversation_records.summary', true)`);
      await m.query(`UPDATE conversation_records SET summary = summary WHERE record_id = $1`, [conv.recordId]);
    })).rejects.toThrow(/permission denied/);
    // Even the owner with the setting may not change any other column.
    await expect(owner.transaction(async (m) => {
      await m.query(`SELECT set_config('app.reencrypting', 'conversation_records.summary', true)`);
      await m.query(`UPDATE conversation_records SET held_on = '2026-01-01' WHERE record_id = $1`, [conv.recordId]);
    })).rejects.toThrow(/immutable/);
    // Nor without it.
    await expect(owner.query(`UPDATE conversation_records SET summary = summary WHERE record_id = $1`, [conv.recordId])).rejects.toThrow(/immutable/);
  });

  it("destroying a case's content under retention destroys its data keys (crypto-shredding)", async () => {
    const { caseId } = await logConcern(t, officer, { description: sentinel('RETAINED'), source: { name: sentinel('N') } });
    await recordConversation(t, officer, caseId, sentinel('S'));
    let version = (await request(t.http).get(`/cases/${caseId}`).set(officer.auth)).body.version;
    for (const [who, body] of [[officer, { move: 'start_triage' }], [officer, { move: 'follow_up' }], [manager, { move: 'close', outcome: 'withdrawn', reason: 'Withdrawn by the source' }]] as const) {
      const r = await request(t.http).post(`/cases/${caseId}/moves`).set(who.auth).send({ version, ...body });
      expect(r.status).toBe(200);
      version = r.body.version;
    }
    await owner.query(`UPDATE cases SET closed_at = now() - interval '30 years', opened_at = now() - interval '31 years' WHERE id = $1`, [caseId]);
    await request(t.http).post('/retention/run').set(manager.auth);
    const review = (await request(t.http).get('/retention/reviews').set(manager.auth)).body.find((r: { caseId: string }) => r.caseId === caseId);
    expect((await request(t.http).post(`/retention/reviews/${review.id}/approve`).set(manager.auth).send({ reason: 'Retention period over' })).status).toBe(200);

    const keys = await owner.query(`SELECT state, wrapped_key, master_key_id FROM data_keys WHERE case_id = $1`, [caseId]);
    expect(keys).toEqual([{ state: 'destroyed', wrapped_key: null, master_key_id: null }]);
    const c = await request(t.http).get(`/cases/${caseId}`).set(manager.auth);
    expect(c.body.concerns[0].description).toBe('[destroyed under the retention schedule]');
    expect(JSON.stringify(c.body)).not.toContain('SENTINEL');
    const [{ n }] = await owner.query(`SELECT count(*)::int AS n FROM concerns WHERE case_id = $1 AND description IS NOT NULL`, [caseId]);
    expect(n).toBe(0);
  });
});
