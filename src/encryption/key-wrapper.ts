import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Wraps and unwraps data keys. The master key never leaves an implementation of this: the one
 * here holds it in memory from configuration; a KMS-backed one would send the data key to the
 * KMS instead. Asynchronous for that reason.
 */
export interface KeyWrapper {
  /** Names the master key (a fingerprint, never the key): stored beside each wrapped data key. */
  readonly masterKeyId: string;
  wrap(dataKey: Buffer, context: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, context: string): Promise<Buffer>;
}

/** Refused unwrap: wrong master key, a changed wrapped key, or another key's context. */
export class KeyUnwrapError extends Error {
  constructor() {
    super('a data key could not be unwrapped');
    this.name = 'KeyUnwrapError';
  }
}

export const WRAPPED_KEY_BYTES = 12 + 16 + 32;

/** AES-256-GCM key wrapping under a 32-byte master key held in memory (from ENCRYPTION_MASTER_KEY). */
export class ConfiguredMasterKey implements KeyWrapper {
  readonly masterKeyId: string;
  private readonly key: Buffer;

  private constructor(key: Buffer) {
    this.key = key;
    this.masterKeyId = createHash('sha256').update('clearing-house master key id\0').update(key).digest('hex').slice(0, 16);
  }

  static fromBase64(value: string): ConfiguredMasterKey {
    const key = Buffer.from(value, 'base64');
    if (key.length !== 32) throw new Error('a master key is 32 bytes, base64');
    return new ConfiguredMasterKey(key);
  }

  async wrap(dataKey: Buffer, context: string): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    if (wrapped.length !== WRAPPED_KEY_BYTES) throw new KeyUnwrapError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, wrapped.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(wrapped.subarray(12, 28));
      return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
    } catch {
      throw new KeyUnwrapError();
    }
  }
}

/**
 * The current master key (wraps every new or re-wrapped data key) and, during a master key
 * rotation, the previous one (unwraps keys not yet re-wrapped).
 */
export class MasterKeyRing {
  constructor(
    readonly current: KeyWrapper,
    readonly previous: KeyWrapper | null = null,
  ) {}

  static fromConfig(current: string, previous?: string | null): MasterKeyRing {
    return new MasterKeyRing(ConfiguredMasterKey.fromBase64(current), previous ? ConfiguredMasterKey.fromBase64(previous) : null);
  }

  wrapperFor(masterKeyId: string): KeyWrapper {
    if (masterKeyId === this.current.masterKeyId) return this.current;
    if (this.previous && masterKeyId === this.previous.masterKeyId) return this.previous;
    throw new KeyUnwrapError();
  }
}

/** What a wrapped data key is bound to: a wrapped key copied onto another key's row does not unwrap. */
export function dataKeyContext(k: { id: string; caseId: string; version: number }): string {
  return `clearing-house/data-key\0${k.id}\0${k.caseId}\0${k.version}`;
}
