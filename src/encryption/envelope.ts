import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * The stored form of one encrypted field (a `bytea` column): AES-256-GCM with a fresh 96-bit IV
 * and a 128-bit tag, under the data key the header names.
 *
 *   byte 0        format (1)
 *   bytes 1-16    data key id (uuid)
 *   bytes 17-20   data key version (uint32, big-endian)
 *   bytes 21-32   IV
 *   bytes 33-48   tag
 *   bytes 49-     ciphertext
 *
 * The additional authenticated data is the header plus the field's place (table, column, row
 * id), so a ciphertext copied onto another row or column, or relabelled with another key or
 * version, does not decrypt.
 */
export const ENVELOPE_FORMAT = 1;
export const ENVELOPE_HEADER_BYTES = 49;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where a value lives: what the additional authenticated data binds it to. */
export interface FieldPlace {
  table: string;
  column: string;
  rowId: string;
}

export interface DataKeyRef {
  id: string;
  version: number;
}

export interface EnvelopeHeader extends DataKeyRef {
  format: number;
}

/** Why a stored value was refused. Never carries the value or the key. */
export class EnvelopeError extends Error {
  constructor(readonly reason: 'malformed' | 'unknown_key' | 'wrong_key' | 'authentication_failed') {
    super(`encrypted value refused: ${reason}`);
    this.name = 'EnvelopeError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidBytes(id: string): Buffer {
  if (!UUID.test(id)) throw new Error('not a uuid');
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function uuidOf(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function headerBytes(key: DataKeyRef): Buffer {
  const header = Buffer.alloc(21);
  header[0] = ENVELOPE_FORMAT;
  uuidBytes(key.id).copy(header, 1);
  header.writeUInt32BE(key.version, 17);
  return header;
}

function aad(header: Buffer, place: FieldPlace): Buffer {
  return Buffer.concat([header, Buffer.from(`\0clearing-house/field\0${place.table}\0${place.column}\0${place.rowId.toLowerCase()}`, 'utf8')]);
}

/** Reads the header (which key, which version) without decrypting. */
export function readHeader(envelope: Buffer): EnvelopeHeader {
  if (envelope.length < ENVELOPE_HEADER_BYTES || envelope[0] !== ENVELOPE_FORMAT) throw new EnvelopeError('malformed');
  return { format: envelope[0], id: uuidOf(envelope.subarray(1, 17)), version: envelope.readUInt32BE(17) };
}

export function sealField(key: Buffer, ref: DataKeyRef, place: FieldPlace, plaintext: string): Buffer {
  if (key.length !== 32) throw new Error('a data key is 32 bytes');
  const header = headerBytes(ref);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(header, place));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/** Decrypts, or throws EnvelopeError: a wrong key, place, version or any flipped bit is refused. */
export function openField(key: Buffer, ref: DataKeyRef, place: FieldPlace, envelope: Buffer): string {
  const header = readHeader(envelope);
  if (header.id !== ref.id.toLowerCase() || header.version !== ref.version) throw new EnvelopeError('wrong_key');
  const iv = envelope.subarray(21, 21 + IV_BYTES);
  const tag = envelope.subarray(33, ENVELOPE_HEADER_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(envelope.subarray(0, 21), place));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(envelope.subarray(ENVELOPE_HEADER_BYTES)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    throw new EnvelopeError('authentication_failed');
  }
}
