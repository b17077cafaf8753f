import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Region, Role } from '../../src/access-control/role';
import { AppModule } from '../../src/app.module';
import { totpCodeAt, totpStepAt } from '../../src/auth/mfa/totp';
import { hashPassword } from '../../src/auth/password-hash';
import { configureApp } from '../../src/bootstrap';
import { AppConfig } from '../../src/config/app-config';
import { EnvironmentVariables, validateEnvironment } from '../../src/config/environment';

export const TEST_PASSWORD = 'correct horse battery staple 42';

export interface TestApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  ds: DataSource;
  /**
   * The owner's connection (what a database administrator has), for fixtures and assertions on
   * case tables: row-level security shows the service's own role nothing outside a request.
   */
  owner: DataSource;
  close(): Promise<void>;
}

/** Boots the real AppModule, configured exactly as main.ts configures it. */
export async function createTestApp(overrides: Partial<EnvironmentVariables> = {}): Promise<TestApp> {
  // The environment is validated once per process; a test that needs other settings overrides them here.
  const validated = validateEnvironment({ ...process.env });
  const settings = { ...validated, ...overrides } as EnvironmentVariables;
  const app = await startApp(settings);
  return testAppOf(app, await ownerDataSource());
}

/**
 * The AppModule with these settings (and whatever else `customise` overrides), configured and
 * started exactly as main.ts does it.
 */
export async function startApp(
  settings: EnvironmentVariables, customise: (builder: TestingModuleBuilder) => TestingModuleBuilder = (builder) => builder,
): Promise<NestExpressApplication> {
  const builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(AppConfig)
    .useValue(Object.assign(Object.create(AppConfig.prototype), { get: <K extends keyof EnvironmentVariables>(key: K) => settings[key] }));
  const moduleRef = await customise(builder).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
  configureApp(app);
  await app.init();
  return app;
}

/** A started application and an owner's connection as a TestApp: closing it closes both. */
export function testAppOf(app: NestExpressApplication, owner: DataSource): TestApp {
  return {
    app, http: app.getHttpServer(), ds: app.get(DataSource), owner,
    close: async () => {
      await owner.destroy();
      await app.close();
    },
  };
}

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  region: Region | null;
  partyId: string | null;
  password: string;
}

let cachedHash: string | undefined;

/** Inserts a user directly (fixtures are not what is under test), with a unique address. */
export async function createUser(ds: DataSource, role: Role, opts: { region?: Region; partyId?: string; name?: string; email?: string } = {}): Promise<TestUser> {
  cachedHash ??= await hashPassword(TEST_PASSWORD, { memoryKib: 1024, timeCost: 1 });
  const email = opts.email ?? `${role}.${randomUUID().slice(0, 8)}@test.example`;
  let partyId = opts.partyId ?? null;
  if (role === Role.LeadPoliticalPeer && !partyId) partyId = await partyIdOf(ds, 'Labour');
  const region = opts.region ?? (role === Role.RiepFacilitator ? Region.WestMidlands : null);
  const [row] = await ds.query(
    `INSERT INTO users (email, display_name, password_hash, role, region, party_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [email, opts.name ?? `Test ${role}`, cachedHash, role, region, partyId],
  );
  return { id: row.id, email, role, region, partyId, password: TEST_PASSWORD };
}

/** The party's id, creating it only if missing: never rewrites an existing row (other tests watch the table for changes). */
export async function partyIdOf(ds: DataSource, name: string): Promise<string> {
  await ds.query(`INSERT INTO parties (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
  const [row] = await ds.query(`SELECT id FROM parties WHERE name = $1`, [name]);
  return row.id;
}

/**
 * What the helpers know of each test user's second factor (per test process): the secret given
 * at enrolment, the recovery codes not yet used, and the last time step a helper used, so that
 * they never offer the server a code it would refuse as a replay.
 */
export interface TestMfa {
  secret: string;
  recoveryCodes: string[];
  lastStep: number;
}
const mfaByEmail = new Map<string, TestMfa>();

/** The second factor the helpers enrolled for this address (undefined if none). */
export function mfaOf(email: string): TestMfa | undefined {
  return mfaByEmail.get(email.toLowerCase());
}

/** The TOTP code of a secret for the current step (or `offset` steps from it). */
export function totpNow(secret: string, offset = 0): string {
  return totpCodeAt(secret, totpStepAt(Date.now()) + offset);
}

/**
 * A code the server will accept for this user now, taking the next unused step in its window
 * (current or next); null when both were used already (the caller may use a recovery code).
 */
export function nextTotp(email: string): string | null {
  const mfa = mfaOf(email);
  if (!mfa) throw new Error(`no second factor known for ${email}`);
  const current = totpStepAt(Date.now());
  const step = Math.max(mfa.lastStep + 1, current);
  if (step > current + 1) return null;
  mfa.lastStep = step;
  return totpCodeAt(mfa.secret, step);
}

/** Enrols and confirms a second factor with the given session (which then has full access). */
export async function enrolMfa(http: TestApp['http'], email: string, accessToken: string): Promise<TestMfa> {
  const auth = { Authorization: `Bearer ${accessToken}` };
  const enrolled = await request(http).post('/auth/mfa/enrol').set(auth);
  if (enrolled.status !== 200) throw new Error(`MFA enrolment of ${email} failed: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
  const step = totpStepAt(Date.now());
  const confirmed = await request(http).post('/auth/mfa/confirm').set(auth).send({ code: totpCodeAt(enrolled.body.secret, step) });
  if (confirmed.status !== 200) throw new Error(`MFA confirmation of ${email} failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  const mfa: TestMfa = { secret: enrolled.body.secret, recoveryCodes: [...confirmed.body.recoveryCodes], lastStep: step };
  mfaByEmail.set(email.toLowerCase(), mfa);
  return mfa;
}

/**
 * Signs in through the API and returns full-access tokens, whatever the role: a user with a
 * second factor completes the challenge with the next TOTP code (or a recovery code when the
 * codes of this moment are used up); a manager, administrator or auditor without one enrols one
 * first (so later sign-ins of theirs go through the challenge).
 */
export async function signIn(http: TestApp['http'], email: string, password = TEST_PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await request(http).post('/auth/sign-in').send({ email, password });
  if (res.status !== 200) throw new Error(`sign-in of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  if (res.body.mfaRequired) {
    const mfa = mfaOf(email);
    if (!mfa) throw new Error(`${email} has a second factor the test helpers did not enrol`);
    let code = nextTotp(email);
    for (let attempt = 0; attempt < 2; attempt++) {
      code ??= mfa.recoveryCodes.shift() ?? null;
      if (!code) break;
      const verified = await request(http).post('/auth/mfa/verify').send({ challengeToken: res.body.challengeToken, code });
      if (verified.status === 200) return { accessToken: verified.body.accessToken, refreshToken: verified.body.refreshToken };
      code = null; // the TOTP code was refused (used elsewhere): fall back to a recovery code
    }
    throw new Error(`MFA verification of ${email} failed`);
  }
  if (res.body.mfaEnrolmentRequired) await enrolMfa(http, email, res.body.accessToken);
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/** A signed-in user of the given role (with a second factor enrolled where the role requires one): its record and a bearer header. */
export async function signedIn(t: TestApp, role: Role, opts: Parameters<typeof createUser>[2] = {}): Promise<TestUser & { token: string; auth: { Authorization: string } }> {
  const user = await createUser(t.ds, role, opts);
  const { accessToken } = await signIn(t.http, user.email);
  return { ...user, token: accessToken, auth: { Authorization: `Bearer ${accessToken}` } };
}

/** A connection as the owner role (what a database administrator has): for fixtures and tamper tests only. */
export async function ownerDataSource(): Promise<DataSource> {
  const ds = new DataSource({ type: 'postgres', url: process.env.DATABASE_MIGRATION_URL, extra: { max: 2 } });
  await ds.initialize();
  return ds;
}
