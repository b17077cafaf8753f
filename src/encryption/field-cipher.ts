import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { RefusedAccess } from '../access-control/case-file-transaction';
import { AuditAction, AuditOutcome } from '../audit/audit-event';
import { DomainError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { AppConfig } from '../config/app-config';
import { DataKeyRow, DataKeyState, findActiveKey, findKey, insertDataKey, lockCaseKeysShared, unwrapDataKey } from './data-keys';
import { DESTROYED_CONTENT, EncryptedField, FIELD_SPECS } from './encrypted-field';
import { DataKeyRef, EnvelopeError, FieldPlace, openField, readHeader, sealField } from './envelope';
import { MasterKeyRing } from './key-wrapper';

/** The audit rule of a stored value that failed authentication (tampered, moved, or under the wrong key). */
export const INTEGRITY_FAILURE_RULE = 'ciphertext_integrity_failure';

interface UnwrappedKey extends DataKeyRef {
  caseId: string;
  key: Buffer;
}

/** How many unwrapped data keys stay in memory (least recently unwrapped leave first). */
const KEY_CACHE_SIZE = 1_000;

/**
 * Encrypts and decrypts the fields listed in EncryptedField, inside the caller's transaction.
 * Data keys are per case; their plain form lives only in this process's memory.
 *
 * A value that fails authentication is a server integrity failure, not the caller's fault:
 * it is refused with the generic 500 answer (no content, no detail), and the refusal is audited
 * (rule `ciphertext_integrity_failure`) in a transaction of its own.
 */
@Injectable()
export class FieldCipher {
  private readonly ring: MasterKeyRing;
  private readonly keys = new Map<string, UnwrappedKey>();

  constructor(config: AppConfig) {
    this.ring = MasterKeyRing.fromConfig(config.get('ENCRYPTION_MASTER_KEY')!, config.get('ENCRYPTION_MASTER_KEY_PREVIOUS') ?? null);
  }

  /** For tests and tools that build a cipher outside Nest. */
  static withRing(ring: MasterKeyRing): FieldCipher {
    const cipher = Object.create(FieldCipher.prototype) as FieldCipher;
    Object.assign(cipher, { ring, keys: new Map() });
    return cipher;
  }

  get masterKeys(): MasterKeyRing {
    return this.ring;
  }

  async encrypt(m: EntityManager, field: EncryptedField, caseId: string, rowId: string, plaintext: string): Promise<Buffer> {
    const key = await this.activeKey(m, caseId);
    return sealField(key.key, key, placeOf(field, rowId), plaintext);
  }

  /** The plaintext; `null` (content destroyed under retention) reads as the destruction marker. */
  async decrypt(m: EntityManager, field: EncryptedField, caseId: string, rowId: string, value: Buffer | null): Promise<string> {
    if (value === null) return DESTROYED_CONTENT;
    try {
      const header = readHeader(value);
      const key = await this.keyById(m, header.id);
      if (key.caseId !== caseId) throw new EnvelopeError('wrong_key');
      return openField(key.key, key, placeOf(field, rowId), value);
    } catch (error) {
      if (error instanceof EnvelopeError || (error as Error)?.name === 'KeyUnwrapError') {
        throw new RefusedAccess(new DomainError(ErrorCode.Internal, 'Internal error'), {
          action: AuditAction.Read, resourceType: FIELD_SPECS[field].resourceType, resourceId: rowId, caseId,
          outcome: AuditOutcome.Denied, rule: `${INTEGRITY_FAILURE_RULE}:${field}`,
        });
      }
      throw error;
    }
  }

  /** Decrypts the `description` of concern rows in place. */
  async openConcerns<T extends { id: string; case_id: string; description: unknown }>(m: EntityManager, rows: T[]): Promise<T[]> {
    for (const r of rows) r.description = await this.decrypt(m, EncryptedField.ConcernDescription, r.case_id, r.id, r.description as Buffer | null);
    return rows;
  }

  /** Decrypts the `summary` of conversation rows in place (the row's own id, not its record id, is bound). */
  async openConversations<T extends { id: string; case_id: string; summary: unknown }>(m: EntityManager, rows: T[]): Promise<T[]> {
    for (const r of rows) r.summary = await this.decrypt(m, EncryptedField.ConversationSummary, r.case_id, r.id, r.summary as Buffer | null);
    return rows;
  }

  async sealSourceIdentity(m: EntityManager, caseId: string, concernId: string, identity: SourceIdentity): Promise<Buffer> {
    return this.encrypt(m, EncryptedField.SourceIdentity, caseId, concernId, JSON.stringify(identity));
  }

  async openSourceIdentity(m: EntityManager, caseId: string, concernId: string, value: Buffer): Promise<SourceIdentity> {
    const parsed = JSON.parse(await this.decrypt(m, EncryptedField.SourceIdentity, caseId, concernId, value)) as SourceIdentity;
    return { name: parsed.name, role: parsed.role ?? null, organisation: parsed.organisation ?? null, contact: parsed.contact ?? null };
  }

  /**
   * Re-encrypts one stored value under its case's active key (the re-encryption job). The
   * database function admits only a change of that one column, from a retiring key to the
   * active key of the same case, and only if the value is still the one read (no lost write).
   */
  async reencrypt(m: EntityManager, field: EncryptedField, caseId: string, rowId: string, old: Buffer): Promise<boolean> {
    const plaintext = await this.decrypt(m, field, caseId, rowId, old);
    const fresh = await this.encrypt(m, field, caseId, rowId, plaintext);
    const [{ done }] = await m.query(`SELECT reencrypt_field($1, $2, $3, $4) AS done`, [field, rowId, old, fresh]);
    return done;
  }

  /** The case's active key, created on first use; the shared key lock is held until commit. */
  private async activeKey(m: EntityManager, caseId: string): Promise<UnwrappedKey> {
    await lockCaseKeysShared(m, caseId);
    const row = await findActiveKey(m, caseId);
    if (row) return this.remember(row);
    const [{ next }] = await m.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM data_keys WHERE case_id = $1`, [caseId]);
    const created = await insertDataKey(m, this.ring.current, caseId, next, DataKeyState.Active);
    return this.cache({ id: created.row.id, version: created.row.version, caseId, key: created.key });
  }

  private async keyById(m: EntityManager, id: string): Promise<UnwrappedKey> {
    const cached = this.keys.get(id);
    if (cached) {
      // Most recently used last, so that eviction drops the least recently used.
      this.keys.delete(id);
      this.keys.set(id, cached);
      return cached;
    }
    const row = await findKey(m, id);
    if (!row || (row.state !== DataKeyState.Active && row.state !== DataKeyState.Retiring)) throw new EnvelopeError('unknown_key');
    return this.remember(row);
  }

  private async remember(row: DataKeyRow): Promise<UnwrappedKey> {
    const cached = this.keys.get(row.id);
    if (cached) return cached;
    return this.cache({ id: row.id, version: row.version, caseId: row.case_id, key: await unwrapDataKey(this.ring, row) });
  }

  private cache(key: UnwrappedKey): UnwrappedKey {
    if (this.keys.size >= KEY_CACHE_SIZE) {
      // Not zeroed: a request in flight may still be using it.
      this.keys.delete(this.keys.keys().next().value as string);
    }
    this.keys.set(key.id, key);
    return key;
  }

  /** Drops a case's keys from memory (after its content is destroyed). */
  forgetCase(caseId: string): void {
    for (const [id, k] of this.keys) {
      if (k.caseId === caseId) this.keys.delete(id);
    }
  }
}

export interface SourceIdentity {
  name: string;
  role: string | null;
  organisation: string | null;
  contact: string | null;
}

function placeOf(field: EncryptedField, rowId: string): FieldPlace {
  const spec = FIELD_SPECS[field];
  return { table: spec.table, column: spec.column, rowId };
}
