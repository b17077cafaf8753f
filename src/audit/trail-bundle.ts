import { CheckpointInput, RecordInput, TrailVerifier, VerificationReport, VerifierStart } from './trail-verifier';

/**
 * An exported trail, one JSON object per line: a header (format, the public key, where the
 * range starts), then records and checkpoints in order. Verifiable offline, without the
 * database, in constant memory.
 */
export const BUNDLE_FORMAT = 'ch-audit-bundle-v1';

export type BundleLine =
  | { type: 'header'; format: string; keyId: string; publicKey: string; start: VerifierStart; exportedAt: string }
  | ({ type: 'record' } & { seq: number; leafHash: string; record: RecordInput['record'] })
  | ({ type: 'checkpoint' } & CheckpointInput);

export async function verifyBundle(lines: AsyncIterable<string> | Iterable<string>, trustedPublicKey?: Buffer): Promise<VerificationReport & { format?: string }> {
  let verifier: TrailVerifier | null = null;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo += 1;
    if (!raw.trim()) continue;
    let line: BundleLine;
    try {
      line = JSON.parse(raw) as BundleLine;
    } catch {
      throw new Error(`bundle line ${lineNo} is not JSON`);
    }
    if (line.type === 'header') {
      if (line.format !== BUNDLE_FORMAT) throw new Error(`unknown bundle format ${line.format}`);
      // Trust the key given by the person verifying over the one the bundle carries.
      verifier = new TrailVerifier(trustedPublicKey ?? Buffer.from(line.publicKey, 'base64'), line.start);
    } else if (!verifier) {
      throw new Error('bundle has no header line');
    } else if (line.type === 'record') {
      verifier.addRecord({ seq: line.seq, record: line.record, storedLeafHash: line.leafHash });
    } else if (line.type === 'checkpoint') {
      const { type: _type, ...checkpoint } = line;
      verifier.addCheckpoint(checkpoint);
    }
  }
  if (!verifier) throw new Error('empty bundle');
  return verifier.finish();
}
