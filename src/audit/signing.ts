import { createHash, createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';

// PKCS#8 and SPKI headers for a raw Ed25519 key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The checkpoint signing key. Built from configuration today; a KMS-backed signer can take its place. */
export class CheckpointSigner {
  readonly keyId: string;
  readonly publicKeyRaw: Buffer;
  private readonly privateKey: KeyObject;

  constructor(seedBase64: string) {
    const seed = Buffer.from(seedBase64, 'base64');
    if (seed.length !== 32) throw new Error('AUDIT_SIGNING_KEY must be a 32-byte Ed25519 seed (base64)');
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' });
    this.publicKeyRaw = spki.subarray(SPKI_PREFIX.length);
    this.keyId = keyIdOf(this.publicKeyRaw);
  }

  sign(message: Buffer): Buffer {
    return sign(null, message, this.privateKey);
  }
}

export function keyIdOf(publicKeyRaw: Buffer): string {
  return 'ed25519:' + createHash('sha256').update(publicKeyRaw).digest('hex').slice(0, 16);
}

export function verifySignature(publicKeyRaw: Buffer, message: Buffer, signature: Buffer): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKeyRaw]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
