import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RefusedAccess } from '../access-control/case-file-transaction';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { EncryptedField, FIELD_SPECS } from './encrypted-field';
import { FieldCipher, INTEGRITY_FAILURE_RULE } from './field-cipher';
import { actAsSystem, inSystemContext, SystemContext } from '../database/row-security';

const SYSTEM_ACTOR: RequestActor = { userId: null, role: 'system', requestId: null, clientIp: null, userAgent: 're-encryption-job' };

export interface ReEncryptionResult {
  reencrypted: number;
  /** Values that failed authentication: left as they are, audited. */
  failed: number;
  retired: number;
  /** Keys still retiring after this pass (rows written or failing meanwhile): the next pass continues. */
  stillRetiring: number;
}

/**
 * The re-encryption job: moves every value stored under a retiring data key to its case's
 * active key, in small batches, each in its own transaction so that it runs alongside normal
 * traffic; then retires the keys no value uses any more. Safe to run twice or concurrently:
 * each change is a compare-and-swap in the database (`reencrypt_field`), and a key is retired
 * only under the case's exclusive key lock once nothing refers to it (`retire_data_key`).
 */
@Injectable()
export class ReEncryption {
  private readonly logger = new Logger(ReEncryption.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cipher: FieldCipher,
    private readonly audit: AuditWriter,
  ) {}

  async run(opts: { batch?: number } = {}): Promise<ReEncryptionResult> {
    const batch = opts.batch ?? 25;
    const result: ReEncryptionResult = { reencrypted: 0, failed: 0, retired: 0, stillRetiring: 0 };
    const skipped: string[] = [];
    for (const field of Object.values(EncryptedField)) {
      const spec = FIELD_SPECS[field];
      for (;;) {
        // Row-level security admits the 'encryption' system context to read these tables (ciphertexts only).
        const { selected, moved } = await this.dataSource.transaction(async (m) => {
          await actAsSystem(m, SystemContext.Encryption);
          const rows: Array<{ id: string; case_id: string; value: Buffer }> = await m.query(
            `SELECT x.${spec.idColumn} AS id, ${spec.caseIdSql} AS case_id, x.${spec.column} AS value
               FROM ${spec.table} x JOIN data_keys k ON k.state = 'retiring' AND uuid_send(k.id) = substring(x.${spec.column} from 2 for 16)
              WHERE NOT (x.${spec.idColumn} = ANY ($2::uuid[]))
              LIMIT $1`,
            [batch, skipped],
          );
          let done = 0;
          for (const row of rows) {
            try {
              if (await this.cipher.reencrypt(m, field, row.case_id, row.id, row.value)) done++;
            } catch (error) {
              if (!(error instanceof RefusedAccess)) throw error;
              skipped.push(row.id);
              result.failed++;
              await this.audit.recordNow(SYSTEM_ACTOR, { ...error.audit, action: AuditAction.ReEncrypt, rule: `${INTEGRITY_FAILURE_RULE}:${field}` });
            }
          }
          return { selected: rows.length, moved: done };
        });
        result.reencrypted += moved;
        // Nothing left, or nothing could move (changed under us): the next pass picks it up.
        if (selected === 0 || moved === 0) break;
      }
    }
    const retiring: Array<{ id: string }> = await inSystemContext(this.dataSource, SystemContext.Encryption, (m) => m.query(`SELECT id FROM data_keys WHERE state = 'retiring' ORDER BY created_at`));
    for (const key of retiring) {
      const [{ retired }] = await inSystemContext(this.dataSource, SystemContext.Encryption, (m) => m.query(`SELECT retire_data_key($1) AS retired`, [key.id]));
      if (retired) result.retired++;
      else result.stillRetiring++;
    }
    if (result.reencrypted > 0 || result.retired > 0 || result.failed > 0) {
      await this.audit.recordNow(SYSTEM_ACTOR, {
        action: AuditAction.ReEncrypt, resourceType: ResourceType.DataKey, outcome: AuditOutcome.Allowed,
        rule: `reencrypted:${result.reencrypted} retired:${result.retired} failed:${result.failed}`,
      });
      this.logger.log({ ...result }, 're-encryption pass');
    }
    return result;
  }
}
