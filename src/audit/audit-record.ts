import { createHash } from 'node:crypto';

/**
 * An audit record as it is sealed and exported: every field as text, timestamps to the
 * microsecond in UTC, so that the service, the CLI and an offline verifier hash the very
 * same bytes. Never any case content.
 */
export interface SealedRecord {
  seq: number;
  id: string;
  occurredAt: string;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  caseId: string | null;
  outcome: string;
  rule: string | null;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  justification: string | null;
}

/** SQL select list producing SealedRecord fields (without seq) from audit_events aliased `e`. */
export const RECORD_COLUMNS = `e.id, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "occurredAt",
  e.actor_id AS "actorId", e.actor_role AS "actorRole", e.action, e.resource_type AS "resourceType", e.resource_id AS "resourceId",
  e.case_id AS "caseId", e.outcome, e.rule, e.request_id AS "requestId", e.client_ip AS "clientIp", e.user_agent AS "userAgent", e.justification`;

const FORMAT_VERSION = 'ch-audit-v1';

/** The bytes that are hashed into a leaf: a JSON array in a fixed field order. */
export function canonicalRecord(r: Omit<SealedRecord, 'seq'>): Buffer {
  return Buffer.from(
    JSON.stringify([
      FORMAT_VERSION, r.id, r.occurredAt, r.actorId, r.actorRole, r.action, r.resourceType, r.resourceId, r.caseId, r.outcome, r.rule,
      r.requestId, r.clientIp, r.userAgent, r.justification,
    ]),
    'utf8',
  );
}

export interface CheckpointBody {
  treeSize: number;
  rootHash: string; // hex
  txHorizon: string;
  createdAt: string; // ISO
  previousHash: string | null; // hex
  keyId: string;
}

/** The signed bytes of a checkpoint; its hash chains the next checkpoint to it. */
export function checkpointMessage(c: CheckpointBody): Buffer {
  return Buffer.from(
    ['ch-audit-checkpoint-v1', c.treeSize, c.rootHash, c.txHorizon, c.createdAt, c.previousHash ?? '-', c.keyId].join('\n'),
    'utf8',
  );
}

export function checkpointHash(c: CheckpointBody): Buffer {
  return createHash('sha256').update(checkpointMessage(c)).digest();
}
