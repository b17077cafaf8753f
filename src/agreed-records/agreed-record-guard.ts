import { CaseFileTx } from '../access-control/case-file-transaction';
import { AuditAction, ResourceType } from '../audit/audit-event';
import { ConflictError } from '../common/domain-error';
import { AgreedRecordPolicy, AgreedRecordType } from './agreed-record-policy';

/**
 * For the services that correct or edit a record (conversations, meetings): refuses, with 409 and
 * an audit record naming the rule, any change to a record that has been agreed. Call it after the
 * case row is locked, so that an agreement committing at the same time cannot slip in between.
 */
export async function refuseEditOfAgreedRecord(
  tx: CaseFileTx, recordType: AgreedRecordType, recordId: string, caseId: string, action: AuditAction, resourceType: ResourceType,
): Promise<void> {
  const [agreement]: Array<{ id: string; record_version: number }> = await tx.manager.query(
    `SELECT id, record_version FROM record_agreements WHERE record_type = $1 AND record_id = $2`, [recordType, recordId]);
  const decision = AgreedRecordPolicy.mayEdit({ version: agreement?.record_version ?? 1, participantIds: [], attestedBy: [], agreed: !!agreement });
  if (!decision.allowed) {
    tx.refuse(
      new ConflictError('The record has been agreed and sealed: it can no longer be corrected or edited; add an addendum instead', {
        rule: decision.rule, agreementId: agreement.id,
      }),
      { action, resourceType, resourceId: recordId, caseId, rule: decision.rule },
    );
  }
}
