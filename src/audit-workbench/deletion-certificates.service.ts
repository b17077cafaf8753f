import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { canonicalRecord, checkpointMessage, RECORD_COLUMNS, SealedRecord } from '../audit/audit-record';
import { AuditVerificationService } from '../audit/audit-verification.service';
import { AuditWriter } from '../audit/audit-writer';
import { leafHash, verifyInclusion } from '../audit/merkle';
import { verifySignature } from '../audit/signing';
import { Actor } from '../auth/actor.decorator';
import { NotFoundError } from '../common/domain-error';
import { CertificateVerificationDto, DeletionCertificateDto } from './dto';
import { ProofIndex } from './evidence-pack';
import { certificateAuditJustification, certificateHash, certificateText, CERTIFICATE_FORMAT, DeletionCertificate, DestroyedTable } from './deletion-certificate';
import { FlagScanner } from './flag-scanner.service';
import { inSystemContext, SystemContext } from '../database/row-security';

export interface CertificateFacts {
  caseId: string;
  caseReference: string;
  reviewId: string;
  reason: string;
}

interface CertificateRow {
  id: string;
  case_id: string;
  review_id: string;
  certificate: string;
  certificate_hash: Buffer;
  issued_at: Date;
  event_id: string | null;
  seq: string | null;
}

const CERTIFICATE_SELECT = `
  SELECT d.id, d.case_id, d.review_id, d.certificate, d.certificate_hash, d.issued_at, ev.id AS event_id, ev.seq
    FROM deletion_certificates d
    LEFT JOIN LATERAL (
      SELECT e.id, s.seq FROM audit_events e LEFT JOIN audit_seals s ON s.event_id = e.id AND s.event_occurred_at = e.occurred_at
       WHERE e.resource_type = 'deletion_certificate' AND e.resource_id = d.id::text AND e.case_id = d.case_id
         AND e.action = 'issue_deletion_certificate' AND e.occurred_at >= d.issued_at
       ORDER BY e.occurred_at LIMIT 1) ev ON TRUE`;

function toDto(r: CertificateRow): DeletionCertificateDto {
  return {
    id: r.id, caseId: r.case_id, reviewId: r.review_id, issuedAt: new Date(r.issued_at).toISOString(), certificateHash: Buffer.from(r.certificate_hash).toString('hex'),
    certificateText: r.certificate, certificate: JSON.parse(r.certificate), auditEventId: r.event_id, seq: r.seq === null ? null : Number(r.seq),
  };
}

/**
 * Deletion certificates: issued by retention in the transaction that destroys a case's content
 * (a row, and an audit record whose justification is the certificate's hash, so the sealed leaf
 * covers it); listed, shown and verified for auditors.
 */
@Injectable()
export class DeletionCertificatesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly verification: AuditVerificationService,
    private readonly scanner: FlagScanner,
    private readonly audit: AuditWriter,
  ) {}

  /** Counts what is about to be destroyed; call inside the destroying transaction, with the case locked, before destroy_case_content. */
  async countDestroyable(m: EntityManager, caseId: string): Promise<DestroyedTable[]> {
    // Counted by a definer function (migrations/1764381200000-AuditWorkbench.ts): the whole case, whatever the caller's row-level security shows.
    const [{ counts }]: Array<{ counts: DestroyedTable[] }> = await m.query(`SELECT deletion_certificate_counts($1) AS counts`, [caseId]);
    return counts.map((c) => ({ table: c.table, rows: Number(c.rows), how: c.how }));
  }

  /**
   * Writes the certificate and its audit record in the caller's transaction (after
   * destroy_case_content), so that destruction, certificate and record commit together or not at all.
   */
  async issue(m: EntityManager, actor: RequestActor, facts: CertificateFacts, destroyed: DestroyedTable[]): Promise<{ id: string; hash: string }> {
    const [review]: Array<{ rule: string; due_on: string }> = await m.query(
      `SELECT rule, to_char(due_on, 'YYYY-MM-DD') AS due_on FROM retention_reviews WHERE id = $1`, [facts.reviewId]);
    const [when]: Array<{ destroyed_at: string }> = await m.query(
      `SELECT to_char(content_destroyed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS destroyed_at FROM cases WHERE id = $1`, [facts.caseId]);
    const certificate: DeletionCertificate = {
      format: CERTIFICATE_FORMAT, certificateId: randomUUID(), caseId: facts.caseId, caseReference: facts.caseReference, retentionReviewId: facts.reviewId,
      retentionRule: review.rule, dueOn: review.due_on, destroyedAt: when.destroyed_at, approvedBy: { userId: actor.userId ?? 'system', role: actor.role },
      approvalReason: facts.reason, destroyed,
    };
    const text = certificateText(certificate);
    const hash = certificateHash(text);
    await m.query(
      `INSERT INTO deletion_certificates (id, case_id, review_id, certificate, certificate_hash, issued_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp())`,
      [certificate.certificateId, facts.caseId, facts.reviewId, text, Buffer.from(hash, 'hex')],
    );
    await this.audit.record(m, actor, {
      action: AuditAction.IssueDeletionCertificate, resourceType: ResourceType.DeletionCertificate, resourceId: certificate.certificateId, caseId: facts.caseId,
      outcome: AuditOutcome.Allowed, rule: review.rule, justification: certificateAuditJustification(hash),
    });
    return { id: certificate.certificateId, hash };
  }

  async list(actor: Actor, caseId?: string): Promise<DeletionCertificateDto[]> {
    // The auditors read every certificate in their own context (row-level security, migrations/1764381800000-RowLevelSecurityRest.ts).
    const rows: CertificateRow[] = await inSystemContext(this.dataSource, SystemContext.Audit, (m) => caseId
      ? m.query(`${CERTIFICATE_SELECT} WHERE d.case_id = $1 ORDER BY d.issued_at DESC`, [caseId])
      : m.query(`${CERTIFICATE_SELECT} ORDER BY d.issued_at DESC LIMIT 500`));
    await this.audit.recordNow(actor, { action: AuditAction.List, resourceType: ResourceType.DeletionCertificate, caseId: caseId ?? null, outcome: AuditOutcome.Allowed });
    return rows.map(toDto);
  }

  async get(actor: Actor, id: string): Promise<DeletionCertificateDto> {
    const row = await this.row(id);
    await this.audit.recordNow(actor, { action: AuditAction.Read, resourceType: ResourceType.DeletionCertificate, resourceId: id, caseId: row.case_id, outcome: AuditOutcome.Allowed });
    return toDto(row);
  }

  /**
   * Verifies a certificate: its text hashes to its stored hash; its audit record carries that
   * hash; the record is sealed, hashes to its leaf, and the leaf is included under the latest
   * checkpoint, whose signature is valid.
   */
  async verify(actor: Actor, id: string): Promise<CertificateVerificationDto> {
    await this.scanner.sealOnly();
    const row = await this.row(id);
    const problems: string[] = [];
    const storedHash = Buffer.from(row.certificate_hash).toString('hex');
    const hashMatches = certificateHash(row.certificate) === storedHash;
    if (!hashMatches) problems.push('the certificate text does not hash to its stored hash');
    let auditRecordMatches = false;
    let sealed = false;
    let included = false;
    let seq: number | null = null;
    const checkpoint = await this.verification.latestCheckpoint();
    const [record]: Array<Omit<SealedRecord, 'seq'> & { seq: string | null; leaf: string | null }> = row.event_id
      ? await this.dataSource.query(
        `SELECT s.seq, encode(s.leaf_hash, 'hex') AS leaf, ${RECORD_COLUMNS}
           FROM audit_events e LEFT JOIN audit_seals s ON s.event_id = e.id AND s.event_occurred_at = e.occurred_at WHERE e.id = $1`, [row.event_id])
      : [];
    if (!record) problems.push('no audit record of this certificate');
    else {
      auditRecordMatches = record.justification === certificateAuditJustification(storedHash) && hashMatches;
      if (!auditRecordMatches) problems.push('the audit record does not carry the certificate hash');
      seq = record.seq === null ? null : Number(record.seq);
      const { seq: _s, leaf, ...fields } = record;
      const recomputed = leafHash(canonicalRecord(fields));
      sealed = seq !== null && leaf === recomputed.toString('hex');
      if (seq === null) problems.push('the audit record is not sealed yet');
      else if (!sealed) problems.push(`audit record ${seq} does not match the hash sealed for it`);
      if (sealed && checkpoint && seq! <= checkpoint.treeSize) {
        const index = new ProofIndex(await this.verification.leafHashes(checkpoint.treeSize), checkpoint.treeSize);
        const signed = verifySignature(this.verification.publicKey, checkpointMessage(checkpoint), Buffer.from(checkpoint.signature, 'base64'));
        included = signed && verifyInclusion(recomputed, seq! - 1, checkpoint.treeSize, index.proof(seq! - 1), Buffer.from(checkpoint.rootHash, 'hex'));
        if (!included) problems.push(`audit record ${seq} is not included under the signed checkpoint ${checkpoint.treeSize}`);
      } else if (sealed) problems.push('no signed checkpoint covers the audit record yet');
    }
    const ok = hashMatches && auditRecordMatches && sealed && included;
    await this.audit.recordNow(actor, {
      action: AuditAction.Verify, resourceType: ResourceType.DeletionCertificate, resourceId: id, caseId: row.case_id, outcome: AuditOutcome.Allowed, rule: ok ? 'ok' : 'failed',
    });
    return { ok, certificateId: id, certificateHash: storedHash, hashMatches, auditRecordMatches, sealed, seq, included, treeSize: checkpoint?.treeSize ?? null, problems };
  }

  private async row(id: string): Promise<CertificateRow> {
    const [row]: CertificateRow[] = await inSystemContext(this.dataSource, SystemContext.Audit, (m) => m.query(`${CERTIFICATE_SELECT} WHERE d.id = $1`, [id]));
    if (!row) throw new NotFoundError('Deletion certificate');
    return row;
  }
}
