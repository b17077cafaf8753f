import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CheckpointBody, checkpointHash, checkpointMessage } from '../../src/audit/audit-record';
import { CheckpointSigner } from '../../src/audit/signing';
import { BundleLine, verifyBundle } from '../../src/audit/trail-bundle';
import { ProblemKind } from '../../src/audit/trail-verifier';
import { buildTrail, FreshTrail, TrailDatabases } from './fresh-trail';

/*
 * Exported bundles are verified offline, without the database: by verifyBundle and by the real
 * command line (`audit:verify --bundle`), built with `npm run build`. The trail is a copy of a
 * sealed one with checkpoints at 6, 12 and 18.
 */

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli/cli.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], timeout = 120_000): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd: ROOT, env: process.env, timeout, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const cli = (...args: string[]) => run(process.execPath, [CLI, ...args]);

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

const linesOf = (text: string) => text.split('\n');

/** Index (in the bundle's lines) of the record line for a sequence number. */
function recordLineIndex(lines: string[], seq: number): number {
  const i = lines.findIndex((l) => l.startsWith('{"type":"record","seq":' + seq + ','));
  if (i < 0) throw new Error(`no record line for ${seq}`);
  return i;
}

/** Re-signs every checkpoint of a bundle with `signer` (re-chained) and puts its key in the header. */
function resignBundle(text: string, signer: CheckpointSigner): string {
  let previousHash: string | null | undefined;
  return linesOf(text)
    .map((raw) => {
      if (!raw.trim()) return raw;
      const line = JSON.parse(raw) as BundleLine;
      if (line.type === 'header') {
        previousHash = line.start.previousCheckpointHash;
        return JSON.stringify({ ...line, keyId: signer.keyId, publicKey: signer.publicKeyRaw.toString('base64') });
      }
      if (line.type !== 'checkpoint') return raw;
      const body: CheckpointBody = {
        treeSize: line.treeSize, rootHash: line.rootHash, txHorizon: line.txHorizon, createdAt: line.createdAt, previousHash: previousHash ?? null, keyId: signer.keyId,
      };
      const hash = checkpointHash(body).toString('hex');
      previousHash = hash;
      return JSON.stringify({ type: 'checkpoint', ...body, checkpointHash: hash, signature: signer.sign(checkpointMessage(body)).toString('base64') });
    })
    .join('\n');
}

describe('exported audit bundles, verified offline', () => {
  const dbs = new TrailDatabases('bundle', { batch: 6, seed: (t) => buildTrail(t, 6, 3).then(() => undefined) });
  let trail: FreshTrail;
  let dir: string;
  let bundle: string;
  let bundleFile: string;
  let build: Run;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ch-audit-bundle-'));
    // The build and the database set-up are independent: do them side by side.
    const building = run('npm', ['run', 'build', '--silent'], 300_000);
    trail = await dbs.fresh();
    bundle = await collect(trail.verification.exportBundle());
    bundleFile = join(dir, 'trail.ndjson');
    await writeFile(bundleFile, bundle);
    build = await building;
  }, 600_000);

  afterAll(async () => {
    await dbs.dropAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  describe('verifyBundle', () => {
    it('accepts the whole exported trail, with the key it carries and with the trusted key given', async () => {
      const lines = linesOf(bundle).filter((l) => l.trim());
      expect(JSON.parse(lines[0])).toMatchObject({ type: 'header', format: 'ch-audit-bundle-v1', keyId: trail.sealer.signer.keyId, start: { frontier: { size: 0, hashes: [] }, previousCheckpointHash: null } });
      expect(lines.filter((l) => l.includes('"type":"record"'))).toHaveLength(18);
      expect(lines.filter((l) => l.includes('"type":"checkpoint"'))).toHaveLength(3);
      const latest = await trail.verification.latestCheckpoint();
      const expected = { ok: true, firstBadSeq: null, problems: [], recordsChecked: 18, checkpointsChecked: 3, treeSize: 18, rootHash: latest!.rootHash };
      expect(await verifyBundle(linesOf(bundle))).toMatchObject(expected);
      expect(await verifyBundle(linesOf(bundle), trail.sealer.signer.publicKeyRaw)).toMatchObject(expected);
    });

    it('names the record when one character of a record line is flipped', async () => {
      const lines = linesOf(bundle);
      const i = recordLineIndex(lines, 9);
      expect(lines[i]).toContain('"rule":"rule_');
      lines[i] = lines[i].replace('"rule":"rule_', '"rule":"rulE_');
      const report = await verifyBundle(lines);
      expect(report.ok).toBe(false);
      expect(report.firstBadSeq).toBe(9);
      expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([[ProblemKind.RecordAltered, 9]]);
    });

    it('names the record when one character of its sealed leaf hash is flipped', async () => {
      const lines = linesOf(bundle);
      const i = recordLineIndex(lines, 11);
      lines[i] = lines[i].replace(/"leafHash":"(.)/, (_m, c: string) => `"leafHash":"${c === '0' ? '1' : '0'}`);
      const report = await verifyBundle(lines);
      expect(report.ok).toBe(false);
      expect(report.firstBadSeq).toBe(11);
      expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([[ProblemKind.RecordAltered, 11]]);
    });

    it('reports a sequence gap when a record line is removed, and cannot vouch for the rest of that batch', async () => {
      const lines = linesOf(bundle);
      lines.splice(recordLineIndex(lines, 9), 1);
      const report = await verifyBundle(lines);
      expect(report.ok).toBe(false);
      expect(report.problems.find((p) => p.kind === ProblemKind.SequenceGap)).toMatchObject({ seq: 9 });
      // Without record 9 the signed root of its batch (7..12) cannot be checked: the batch is named.
      expect(report.problems.find((p) => p.kind === ProblemKind.RootMismatch)).toMatchObject({ treeSize: 12, seq: 7 });
      expect(report.firstBadSeq).toBe(7);
    });

    it('accepts a range bundle starting at a checkpoint boundary, and refuses one whose starting point was changed', async () => {
      const range = await collect(trail.verification.exportBundle({ fromSeq: 7 }));
      const header = JSON.parse(linesOf(range)[0]);
      expect(header.start.frontier.size).toBe(6);
      expect(await verifyBundle(linesOf(range))).toMatchObject({ ok: true, recordsChecked: 12, checkpointsChecked: 2, treeSize: 18 });
      const tail = await collect(trail.verification.exportBundle({ fromSeq: 13 }));
      expect(await verifyBundle(linesOf(tail))).toMatchObject({ ok: true, recordsChecked: 6, checkpointsChecked: 1, treeSize: 18 });

      const lines = linesOf(range);
      lines[0] = JSON.stringify({ ...header, start: { ...header.start, previousCheckpointHash: randomBytes(32).toString('hex') } });
      const report = await verifyBundle(lines);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([expect.objectContaining({ kind: ProblemKind.ChainBroken, treeSize: 12, seq: 7 })]);
    });

    it('refuses every checkpoint against another trusted key, and a bundle re-signed with another key against the trusted one', async () => {
      const other = new CheckpointSigner(randomBytes(32).toString('base64'));
      const wrongKey = await verifyBundle(linesOf(bundle), other.publicKeyRaw);
      expect(wrongKey.ok).toBe(false);
      expect(wrongKey.firstBadSeq).toBe(1);
      expect(wrongKey.problems.filter((p) => p.kind === ProblemKind.BadSignature).map((p) => p.treeSize)).toEqual([6, 12, 18]);
      expect(wrongKey.problems.filter((p) => p.kind === ProblemKind.UnknownKey).map((p) => p.treeSize)).toEqual([6, 12, 18]);

      const forged = resignBundle(bundle, other);
      // Self-consistent: the key a bundle carries proves nothing on its own...
      expect((await verifyBundle(linesOf(forged))).ok).toBe(true);
      // ...which is why the verifier must be given the trusted key.
      const report = await verifyBundle(linesOf(forged), trail.sealer.signer.publicKeyRaw);
      expect(report.ok).toBe(false);
      expect(report.firstBadSeq).toBe(1);
      expect(new Set(report.problems.map((p) => p.kind))).toEqual(new Set([ProblemKind.UnknownKey, ProblemKind.BadSignature]));
    });
  });

  describe('the command line (npm run build; node dist/src/cli/cli.js)', () => {
    beforeAll(() => {
      // A type error elsewhere in the tree fails the build but tsc still emits; the CLI is what is under test.
      if (!existsSync(CLI)) throw new Error(`npm run build produced no ${CLI}:\n${build.stdout}\n${build.stderr}`);
    });

    it('audit:verify --bundle accepts the exported trail: exit 0 and OK', async () => {
      const r = await cli('audit:verify', '--bundle', bundleFile);
      expect(r.stdout).toContain('OK: 18 records and 3 checkpoints verified (tree size 18).');
      expect(r.code).toBe(0);
    });

    it('audit:verify --bundle refuses a tampered file: exit 1 and FAILED with the sequence number', async () => {
      const lines = linesOf(bundle);
      const i = recordLineIndex(lines, 9);
      lines[i] = lines[i].replace('"rule":"rule_', '"rule":"rulE_');
      const tampered = join(dir, 'tampered.ndjson');
      await writeFile(tampered, lines.join('\n'));
      const r = await cli('audit:verify', '--bundle', tampered);
      expect(r.stdout).toContain('FAILED: first bad sequence number 9;');
      expect(r.stdout).not.toContain('OK:');
      expect(r.code).toBe(1);
    });

    it('audit:verify --bundle --prove SEQ proves a record is included', async () => {
      const r = await cli('audit:verify', '--bundle', bundleFile, '--prove', '9');
      expect(r.code).toBe(0);
      const proofJson = r.stdout.slice(r.stdout.lastIndexOf('{\n  "seq": 9'));
      const proof = JSON.parse(proofJson);
      expect(proof).toMatchObject({ seq: 9, treeSize: 18, included: true, rootHash: (await trail.verification.latestCheckpoint())!.rootHash });
      expect(proof.proof.length).toBeGreaterThan(0);
      expect(r.stdout).toContain('"included": true');
    });

    it('audit:verify --bundle --public-key: the trusted key decides, not the one the bundle carries', async () => {
      const trusted = trail.sealer.signer.publicKeyRaw.toString('base64');
      const other = new CheckpointSigner(randomBytes(32).toString('base64'));
      expect((await cli('audit:verify', '--bundle', bundleFile, '--public-key', trusted)).code).toBe(0);
      const wrong = await cli('audit:verify', '--bundle', bundleFile, '--public-key', other.publicKeyRaw.toString('base64'));
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain('FAILED: first bad sequence number 1;');

      const forgedFile = join(dir, 'forged.ndjson');
      await writeFile(forgedFile, resignBundle(bundle, other));
      const forged = await cli('audit:verify', '--bundle', forgedFile, '--public-key', trusted);
      expect(forged.code).toBe(1);
      expect(forged.stdout).toContain('FAILED: first bad sequence number 1;');
      expect(JSON.parse(await readFile(forgedFile, 'utf8').then((t) => t.split('\n')[0])).publicKey).toBe(other.publicKeyRaw.toString('base64'));
    });
  });
});
