import { DataSource } from 'typeorm';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { rewrapDataKeys, rotateCaseDataKey } from './data-keys';
import { MasterKeyRing } from './key-wrapper';

/**
 * Key rotation, run by an operator as the owner role (the command line): the service role can
 * neither re-wrap data keys nor start a data-key rotation.
 */

/** Master key rotation: every data key re-wrapped under the current master key. Audited. */
export async function rotateMasterKey(owner: DataSource, ring: MasterKeyRing, actor: RequestActor, opts: { caseIds?: string[] } = {}): Promise<number> {
  const rewrapped = await rewrapDataKeys((work) => owner.transaction(work), ring, opts);
  await new AuditWriter(owner).recordNow(actor, {
    action: AuditAction.RotateKeys, resourceType: ResourceType.DataKey, outcome: AuditOutcome.Allowed, rule: `master:${rewrapped}`,
  });
  return rewrapped;
}

/**
 * Data-key rotation: each case's active key becomes retiring and a new version becomes active
 * (one transaction per case). The re-encryption job then moves the values and retires the old
 * keys. Audited per case.
 */
export async function startDataKeyRotation(owner: DataSource, ring: MasterKeyRing, actor: RequestActor, opts: { caseIds?: string[] } = {}): Promise<number> {
  const cases: Array<{ case_id: string }> = await owner.query(
    `SELECT case_id FROM data_keys WHERE state = 'active' AND ($1::uuid[] IS NULL OR case_id = ANY ($1::uuid[])) ORDER BY case_id`, [opts.caseIds ?? null]);
  const audit = new AuditWriter(owner);
  let rotated = 0;
  for (const { case_id } of cases) {
    await owner.transaction(async (m) => {
      if (await rotateCaseDataKey(m, ring, case_id)) {
        rotated++;
        await audit.record(m, actor, { action: AuditAction.RotateKeys, resourceType: ResourceType.DataKey, caseId: case_id, outcome: AuditOutcome.Allowed, rule: 'data' });
      }
    });
  }
  return rotated;
}
