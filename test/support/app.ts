import 'reflect-metadata';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Region, Role } from '../../src/access-control/role';
import { AppModule } from '../../src/app.module';
import { hashPassword } from '../../src/auth/password-hash';
import { configureApp } from '../../src/bootstrap';
import { AppConfig } from '../../src/config/app-config';
import { EnvironmentVariables, validateEnvironment } from '../../src/config/environment';

export const TEST_PASSWORD = 'correct horse battery staple 42';

export interface TestApp {
  app: NestExpressApplication;
  http: ReturnType<NestExpressApplication['getHttpServer']>;
  ds: DataSource;
  close(): Promise<void>;
}

/** Boots the real AppModule, configured exactly as main.ts configures it. */
export async function createTestApp(overrides: Partial<EnvironmentVariables> = {}): Promise<TestApp> {
  // The environment is validated once per process; a test that needs other settings overrides them here.
  const validated = validateEnvironment({ ...process.env });
  const settings = { ...validated, ...overrides } as EnvironmentVariables;
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(AppConfig)
    .useValue(Object.assign(Object.create(AppConfig.prototype), { get: <K extends keyof EnvironmentVariables>(key: K) => settings[key] }))
    .compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
  configureApp(app);
  await app.init();
  return { app, http: app.getHttpServer(), ds: app.get(DataSource), close: () => app.close() };
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

export async function partyIdOf(ds: DataSource, name: string): Promise<string> {
  const [row] = await ds.query(
    `INSERT INTO parties (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
    [name],
  );
  return row.id;
}

export async function signIn(http: TestApp['http'], email: string, password = TEST_PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await request(http).post('/auth/sign-in').send({ email, password });
  if (res.status !== 200) throw new Error(`sign-in of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/** A signed-in user of the given role: its record and a bearer header. */
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
