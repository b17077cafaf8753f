import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../../src/config/environment';
import { RefusedAccess } from '../../src/access-control/case-file-transaction';
import { EncryptedField } from '../../src/encryption/encrypted-field';
import { ENCRYPTION_QUEUE, EncryptionJob } from '../../src/encryption/encryption.processor';
import { FieldCipher } from '../../src/encryption/field-cipher';
import { startDataKeyRotation, rotateMasterKey } from '../../src/encryption/key-rotation';
import { MasterKeyRing } from '../../src/encryption/key-wrapper';
import { ReEncryption, ReEncryptionResult } from '../../src/encryption/reencryption';
import { TestApp } from '../support/app';
import { appWithStaff } from '../support/staffed-app';
import { logConcern, Person, recordConversation, sentinel } from './fixtures';

const OPERATOR = { userId: null, role: 'cli', requestId: null, clientIp: null, userAgent: 'rotation-test' };
const REASON = 'Need to call the source back about the budget papers today';

describe('key rotation', () => {
  let t: TestApp, owner: DataSource, officer: Person, manager: Person;
  const devKey = validateEnvironment({ ...process.env }).ENCRYPTION_MASTER_KEY!;
  const oldKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    // The configuration during a master key rotation: the current key, and the one being replaced.
    ({ t, owner, officer, manager } = await appWithStaff({ ENCRYPTION_MASTER_KEY_PREVIOUS: oldKey }));
  });
  afterAll(() => t.close());

  /** Everything written, as the API should give it back. */
  interface Written { caseId: string; concernId?: string; description?: string; recordId?: string; summary?: string; sourceName?: string }

  async function readsBack(app: TestApp, w: Written): Promise<void> {
    if (w.concernId) {
      const c = await request(app.http).get(`/concerns/${w.concernId}`).set(officer.auth);
      expect({ id: w.concernId, status: c.status, description: c.body.description }).toEqual({ id: w.concernId, status: 200, description: w.description });
    }
    if (w.recordId) {
      const r = await request(app.http).get(`/conversations/${w.recordId}`).set(officer.auth);
      expect({ id: w.recordId, status: r.status, summary: r.body.summary }).toEqual({ id: w.recordId, status: 200, summary: w.summary });
    }
    if (w.sourceName) {
      const s = await request(app.http).post(`/concerns/${w.concernId}/source-identity/reveal`).set(manager.auth).send({ reason: REASON });
      expect({ status: s.status, name: s.body.source?.name }).toEqual({ status: 200, name: w.sourceName });
    }
  }

  it('master key rotation re-wraps the data keys, and everything stays readable (old key no longer needed)', async () => {
    const description = sentinel('MASTER');
    const sourceName = sentinel('MASTER-SOURCE');
    const { caseId, concernId } = await logConcern(t, officer, { description, source: { name: sourceName } });
    const summary = sentinel('MASTER-SUMMARY');
    const { recordId } = await recordConversation(t, officer, caseId, summary);
    const cipher = t.app.get(FieldCipher);
    // Only this test's case: other test files of the run share the database and the development key.
    // Before: the case's key is under an old master key (the service runs with it as ENCRYPTION_MASTER_KEY_PREVIOUS).
    expect(await rotateMasterKey(owner, MasterKeyRing.fromConfig(oldKey, devKey), OPERATOR, { caseIds: [caseId] })).toBe(1);
    cipher.forgetCase(caseId);
    await readsBack(t, { caseId, concernId, description, recordId, summary, sourceName });
    const before: Array<{ wrapped_key: Buffer }> = await owner.query(`SELECT wrapped_key FROM data_keys WHERE case_id = $1`, [caseId]);

    // The rotation: re-wrapped under the current key (the development key here).
    const ring = MasterKeyRing.fromConfig(devKey, oldKey);
    expect(await rotateMasterKey(owner, ring, OPERATOR, { caseIds: [caseId] })).toBe(1);
    const after: Array<{ wrapped_key: Buffer; master_key_id: string }> = await owner.query(`SELECT wrapped_key, master_key_id FROM data_keys WHERE case_id = $1`, [caseId]);
    expect(after[0].master_key_id).toBe(ring.current.masterKeyId);
    expect(after[0].wrapped_key.equals(before[0].wrapped_key)).toBe(false);
    // Running it again has nothing left to do.
    expect(await rotateMasterKey(owner, ring, OPERATOR, { caseIds: [caseId] })).toBe(0);
    cipher.forgetCase(caseId);
    await readsBack(t, { caseId, concernId, description, recordId, summary, sourceName });

    // A service holding only the new master key reads it all; one holding only the old one reads nothing.
    const [stored] = await owner.query(`SELECT description FROM concerns WHERE id = $1`, [concernId]);
    const onlyNew = FieldCipher.withRing(MasterKeyRing.fromConfig(devKey));
    const onlyOld = FieldCipher.withRing(MasterKeyRing.fromConfig(oldKey));
    await expect(onlyNew.decrypt(owner.manager, EncryptedField.ConcernDescription, caseId, concernId, stored.description)).resolves.toBe(description);
    await expect(onlyOld.decrypt(owner.manager, EncryptedField.ConcernDescription, caseId, concernId, stored.description)).rejects.toBeInstanceOf(RefusedAccess);
    const audit: Array<{ rule: string }> = await owner.query(`SELECT rule FROM audit_events WHERE action = 'rotate_keys' AND rule LIKE 'master:%'`);
    expect(audit.map((a) => a.rule)).toEqual(expect.arrayContaining(['master:1', 'master:0']));
  });

  it('data-key rotation during traffic: the background job re-encrypts everything, nothing is lost, the old keys are retired', async () => {
    const written: Written[] = [];
    // Existing content on a few cases.
    for (let i = 0; i < 4; i++) {
      const description = sentinel(`OLD-${i}`);
      const sourceName = sentinel(`OLD-SOURCE-${i}`);
      const { caseId, concernId } = await logConcern(t, officer, { description, source: { name: sourceName } });
      written.push({ caseId, concernId, description, sourceName });
      for (let j = 0; j < 3; j++) {
        const summary = sentinel(`OLD-SUMMARY-${i}-${j}`);
        const { recordId } = await recordConversation(t, officer, caseId, summary);
        written.push({ caseId, recordId, summary });
      }
    }
    const caseIds = [...new Set(written.map((w) => w.caseId))];
    const oldKeys: Array<{ id: string }> = await owner.query(`SELECT id FROM data_keys WHERE case_id = ANY ($1::uuid[]) AND state = 'active'`, [caseIds]);
    expect(oldKeys).toHaveLength(4);

    // Traffic: writes and reads on the same cases, for as long as the rotation and the job run.
    let stop = false;
    let rounds = 0;
    let startedTraffic!: () => void;
    const trafficRunning = new Promise<void>((resolve) => (startedTraffic = resolve));
    const traffic = (async () => {
      while (!stop || rounds < 6) {
        const caseId = caseIds[rounds % caseIds.length];
        const description = sentinel(`NEW-${rounds}`);
        const { concernId } = await logConcern(t, officer, { description, caseId });
        written.push({ caseId, concernId, description });
        const summary = sentinel(`NEW-SUMMARY-${rounds}`);
        const { recordId } = await recordConversation(t, officer, caseId, summary);
        written.push({ caseId, recordId, summary });
        const read = await request(t.http).get(`/cases/${caseId}`).set(officer.auth);
        expect(read.status).toBe(200);
        rounds++;
        if (rounds === 2) startedTraffic();
      }
    })();
    await trafficRunning;

    const ring = MasterKeyRing.fromConfig(devKey);
    expect(await startDataKeyRotation(owner, ring, OPERATOR, { caseIds })).toBe(4);
    // The Bull job, and a second pass in small batches at the same time: both are safe together.
    const queue = t.app.get<Queue>(getQueueToken(ENCRYPTION_QUEUE));
    const job = await queue.add(EncryptionJob.ReEncrypt, {}, { removeOnComplete: false });
    const [fromJob, direct] = await Promise.all([job.finished() as Promise<ReEncryptionResult>, t.app.get(ReEncryption).run({ batch: 3 })]);
    stop = true;
    await traffic;
    expect(fromJob.failed + direct.failed).toBe(0);
    expect(fromJob.reencrypted + direct.reencrypted).toBeGreaterThanOrEqual(4 * 5);
    // Any key still retiring (its rows held by the other pass at that moment) retires on the next pass.
    await t.app.get(ReEncryption).run();

    const keys: Array<{ case_id: string; version: number; state: string; wrapped: number | null }> = await owner.query(
      `SELECT case_id, version, state, octet_length(wrapped_key) AS wrapped FROM data_keys WHERE case_id = ANY ($1::uuid[]) ORDER BY case_id, version`, [caseIds]);
    for (const caseId of caseIds) {
      expect(keys.filter((k) => k.case_id === caseId).map(({ version, state, wrapped }) => ({ version, state, wrapped }))).toEqual([
        { version: 1, state: 'retired', wrapped: null },
        { version: 2, state: 'active', wrapped: 60 },
      ]);
    }
    // Every stored value is under its case's new key...
    const [{ stale }] = await owner.query(
      `SELECT (SELECT count(*) FROM concerns x WHERE x.case_id = ANY ($1::uuid[]) AND substring(x.description from 2 for 16) IN (SELECT uuid_send(id) FROM data_keys WHERE NOT state = 'active'))
            + (SELECT count(*) FROM conversation_records x WHERE x.case_id = ANY ($1::uuid[]) AND substring(x.summary from 2 for 16) IN (SELECT uuid_send(id) FROM data_keys WHERE NOT state = 'active'))
            + (SELECT count(*) FROM concern_sources s JOIN concerns c ON c.id = s.concern_id WHERE c.case_id = ANY ($1::uuid[]) AND substring(s.identity from 2 for 16) IN (SELECT uuid_send(id) FROM data_keys WHERE NOT state = 'active')) AS stale`,
      [caseIds],
    );
    expect(Number(stale)).toBe(0);
    // ...and everything written before and during the rotation reads back as written.
    expect(rounds).toBeGreaterThanOrEqual(6);
    for (const w of written) await readsBack(t, w);
    const [{ n }] = await owner.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 're_encrypt' AND resource_type = 'data_key' AND outcome = 'allowed'`);
    expect(n).toBeGreaterThan(0);
  });
});
