import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { RECORD_COLUMNS, SealedRecord } from '../audit/audit-record';
import { AuditVerificationService } from '../audit/audit-verification.service';
import { AuditWriter } from '../audit/audit-writer';
import { Actor } from '../auth/actor.decorator';
import { NotFoundError } from '../common/domain-error';
import { EVIDENCE_FORMAT, EvidencePack, EvidenceSubject, ProofIndex, summarize } from './evidence-pack';
import { FlagScanner } from './flag-scanner.service';

/** Builds evidence packs: one case's or one user's sealed records, each with its inclusion proof in the latest signed checkpoint. */
@Injectable()
export class EvidenceService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly verification: AuditVerificationService,
    private readonly scanner: FlagScanner,
    private readonly audit: AuditWriter,
  ) {}

  async pack(actor: Actor, subject: EvidenceSubject): Promise<EvidencePack> {
    // Recorded first, so that the pack itself is in the trail even if building it fails.
    await this.audit.recordNow(actor, {
      action: AuditAction.Export, resourceType: ResourceType.EvidencePack, outcome: AuditOutcome.Allowed,
      caseId: subject.type === 'case' ? subject.id : null, resourceId: subject.id, rule: subject.type,
    });
    await this.scanner.sealOnly();
    const checkpoint = await this.verification.latestCheckpoint();
    if (!checkpoint) throw new NotFoundError('Signed checkpoint');
    const column = subject.type === 'case' ? 'e.case_id' : 'e.actor_id';
    const rows: Array<Omit<SealedRecord, 'seq'> & { seq: string; leaf: string }> = await this.dataSource.query(
      `SELECT s.seq, encode(s.leaf_hash, 'hex') AS leaf, ${RECORD_COLUMNS}
         FROM audit_events e JOIN audit_seals s ON s.event_id = e.id AND s.event_occurred_at = e.occurred_at
        WHERE ${column} = $1 AND s.seq <= $2 ORDER BY s.seq`,
      [subject.id, checkpoint.treeSize],
    );
    const [{ unsealed }] = await this.dataSource.query(
      `SELECT count(*)::int AS unsealed FROM audit_events e
        WHERE ${column} = $1 AND NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.event_id = e.id AND s.event_occurred_at = e.occurred_at AND s.seq <= $2)`,
      [subject.id, checkpoint.treeSize],
    );
    const index = rows.length ? new ProofIndex(await this.verification.leafHashes(checkpoint.treeSize), checkpoint.treeSize) : null;
    const records = rows.map(({ seq, leaf, ...record }) => ({
      seq: Number(seq), leafHash: leaf, record, proof: index!.proof(Number(seq) - 1).map((h) => h.toString('hex')),
    }));
    return {
      format: EVIDENCE_FORMAT, subject, exportedAt: new Date().toISOString(), keyId: this.verification.keyId,
      publicKey: this.verification.publicKey.toString('base64'), checkpoint, unsealedRecords: unsealed, records,
      summary: summarize(records.map((r) => r.record)),
    };
  }
}
