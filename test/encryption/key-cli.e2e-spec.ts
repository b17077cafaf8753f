import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../../src/config/environment';
import { buildCli, Run } from '../audit-workbench/cli';
import { TestApp } from '../support/app';
import { appWithStaff } from '../support/staffed-app';
import { logConcern, Person, sentinel } from './fixtures';

/**
 * The key commands of the command line (`npm run cli -- keys:rotate-data | keys:rotate-master`),
 * run as an operator would, on the owner's connection. Master-key rotation re-wraps every case's key
 * in the shared test database, which other files' apps could then not open: only its refusal runs here
 * (the rotation itself: test/encryption/rotation.e2e-spec.ts, through the same functions).
 */
describe('key commands of the command line', () => {
  let t: TestApp, owner: DataSource, officer: Person;
  let dir: string;
  let cli: (...args: string[]) => Promise<Run>;
  const masterKey = validateEnvironment({ ...process.env }).ENCRYPTION_MASTER_KEY!;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ch-key-cli-'));
    const building = buildCli(join(dir, 'cli'));
    ({ t, owner, officer } = await appWithStaff());
    cli = await building;
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const keysOf = async (caseId: string) =>
    (await owner.query(`SELECT version, state FROM data_keys WHERE case_id = $1 ORDER BY version`, [caseId])) as Array<{ version: number; state: string }>;

  it('keys:rotate-data --case gives that case, and only it, a new data key; the service re-encrypts and the content reads back', async () => {
    const description = sentinel('cli-rotation');
    const rotated = await logConcern(t, officer, { description });
    const other = await logConcern(t, officer, { description: sentinel('cli-untouched') });
    expect(await keysOf(rotated.caseId)).toEqual([{ version: 1, state: 'active' }]);

    const run = await cli('keys:rotate-data', '--case', rotated.caseId);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/Started rotation for 1 case\(s\)/);
    expect(run.stdout + run.stderr).not.toContain(masterKey);

    // The app's re-encryption job moves the content to version 2 and retires version 1.
    const deadline = Date.now() + 60_000;
    while ((await keysOf(rotated.caseId)).some((k) => k.state === 'retiring') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await keysOf(rotated.caseId)).toEqual([{ version: 1, state: 'retired' }, { version: 2, state: 'active' }]);
    expect(await keysOf(other.caseId)).toEqual([{ version: 1, state: 'active' }]);
    const read = await request(t.http).get(`/concerns/${rotated.concernId}`).set(officer.auth);
    expect({ status: read.status, description: read.body.description }).toEqual({ status: 200, description });
    const [audited] = await owner.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'rotate_keys' AND case_id = $1`, [rotated.caseId]);
    expect(audited.n).toBeGreaterThanOrEqual(1);
  });

  it('keys:rotate-master refuses to run without the key being replaced, and changes nothing', async () => {
    // This file's cases only: other files rotate and retire their own cases' keys meanwhile.
    const mine = (await owner.query(`SELECT c.id FROM cases c JOIN concerns i ON i.case_id = c.id WHERE i.logged_by = $1`, [officer.id])).map((r: { id: string }) => r.id);
    const keys = () => owner.query(`SELECT id, master_key_id, wrapped_key FROM data_keys WHERE case_id = ANY($1::uuid[]) ORDER BY id`, [mine]);
    const before = await keys();
    expect(before.length).toBeGreaterThanOrEqual(2);
    const run = await cli('keys:rotate-master');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Set ENCRYPTION_MASTER_KEY_PREVIOUS');
    expect(run.stdout + run.stderr).not.toContain(masterKey);
    expect(await keys()).toEqual(before);
  });
});
