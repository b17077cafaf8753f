import { DataSource } from 'typeorm';
import { seedDemoStageAccess } from '../stage-access/demo-stage-access';
import { Region, Role } from '../access-control/role';
import { importAuthorities } from '../authorities/authorities-import';
import { RuntimeEnvironment, validateEnvironment } from '../config/environment';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/migrations';
import { ensureServiceLogin, withUser } from '../database/service-role';
import { seedDemoCases } from './demo-cases';
import { ensureDatabaseExists, unreachableDependencies } from './dependencies';
import { generatePassword, upsertUser } from './users';

export const DEMO_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/clearing_house_demo';
const DEMO_SERVICE_LOGIN = 'clearing_house_demo_service';

const DEMO_PARTIES = [
  { name: 'Conservative', abbreviation: 'Con' },
  { name: 'Labour', abbreviation: 'Lab' },
  { name: 'Liberal Democrats', abbreviation: 'LD' },
  { name: 'Green Party', abbreviation: 'Grn' },
  { name: 'Independent', abbreviation: 'Ind' },
];

interface DemoUser {
  email: string;
  displayName: string;
  role: Role;
  region?: Region;
  party?: string;
}

export const DEMO_USERS: DemoUser[] = [
  { email: 'admin@demo.clearing-house.test', displayName: 'Alex Admin', role: Role.Administrator },
  { email: 'officer@demo.clearing-house.test', displayName: 'Olu Officer', role: Role.ClearingHouseOfficer },
  { email: 'manager@demo.clearing-house.test', displayName: 'Morgan Manager', role: Role.ClearingHouseManager },
  { email: 'riep.wm@demo.clearing-house.test', displayName: 'Rhea Facilitator (West Midlands)', role: Role.RiepFacilitator, region: Region.WestMidlands },
  { email: 'riep.ne@demo.clearing-house.test', displayName: 'Niall Facilitator (North East)', role: Role.RiepFacilitator, region: Region.NorthEast },
  { email: 'peer.lab@demo.clearing-house.test', displayName: 'Cllr Pat Peer (Labour)', role: Role.LeadPoliticalPeer, party: 'Labour' },
  { email: 'peer.con@demo.clearing-house.test', displayName: 'Cllr Chris Peer (Conservative)', role: Role.LeadPoliticalPeer, party: 'Conservative' },
  { email: 'auditor@demo.clearing-house.test', displayName: 'Ash Auditor', role: Role.Auditor },
  { email: 'board@demo.clearing-house.test', displayName: 'Bea Board Member', role: Role.BoardMember },
  { email: 'liaison@demo.clearing-house.test', displayName: 'Gil Liaison (Department for Education)', role: Role.GovernmentLiaison },
];

/**
 * Prepares a local demonstration: its own database (never the configured one unless
 * DATABASE_URL is set explicitly), migrated, with the authorities register, parties, one user
 * per role with fresh random passwords, then starts the service. Development only.
 */
export async function runDemo({ start }: { start: boolean }): Promise<void> {
  process.env.NODE_ENV ??= RuntimeEnvironment.Development;
  if (process.env.NODE_ENV === RuntimeEnvironment.Production) throw new Error('The demo refuses to run with NODE_ENV=production.');
  const ownDatabase = !process.env.DATABASE_URL;
  process.env.DATABASE_MIGRATION_URL ??= process.env.DATABASE_URL ?? DEMO_DATABASE_URL;
  process.env.DATABASE_URL ??= DEMO_DATABASE_URL;
  const env = validateEnvironment(process.env);

  const problems = await unreachableDependencies(env.DATABASE_MIGRATION_URL!, env.REDIS_URL);
  if (problems.length > 0) throw new Error(`The demo needs PostgreSQL and Redis.\n- ${problems.join('\n- ')}`);

  if (await ensureDatabaseExists(env.DATABASE_MIGRATION_URL!)) console.log(`Created database ${new URL(env.DATABASE_MIGRATION_URL!).pathname.slice(1)}.`);
  const applied = await runMigrations(env.DATABASE_MIGRATION_URL!);
  if (applied.length) console.log(`Applied ${applied.length} migration(s).`);
  if (ownDatabase) {
    // The service runs as a least-privilege role, as it would in production.
    await ensureServiceLogin(env.DATABASE_MIGRATION_URL!, DEMO_SERVICE_LOGIN);
    process.env.DATABASE_URL = withUser(env.DATABASE_MIGRATION_URL!, DEMO_SERVICE_LOGIN);
  }

  const ds = new DataSource(dataSourceOptions({ url: env.DATABASE_MIGRATION_URL!, poolSize: 2, applicationName: 'clearing-house-demo' }));
  await ds.initialize();
  const credentials: Array<{ user: DemoUser; password: string }> = [];
  let packReference: string | null = null;
  try {
    const imported = await importAuthorities(ds);
    console.log(`Authorities register: ${imported.total} English authorities.`);
    for (const p of DEMO_PARTIES) {
      await ds.query(`INSERT INTO parties (name, abbreviation) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [p.name, p.abbreviation]);
    }
    for (const user of DEMO_USERS) {
      const [party] = user.party ? await ds.query(`SELECT id FROM parties WHERE name = $1`, [user.party]) : [];
      const password = generatePassword();
      await upsertUser(ds, env, { email: user.email, displayName: user.displayName, role: user.role, region: user.region, partyId: party?.id, password });
      credentials.push({ user, password });
    }
    const seeded = await seedDemoCases(ds);
    if (seeded) console.log(`Demonstration cases: ${seeded} (in different workflow states).`);
    packReference = await seedDemoStageAccess(ds, 'liaison@demo.clearing-house.test', 'manager@demo.clearing-house.test');
  } finally {
    await ds.destroy();
  }

  const base = `http://${env.HOST}:${env.PORT}`;
  console.log('\nDemonstration users (local use only; new passwords are made on every run):\n');
  for (const { user, password } of credentials) {
    console.log(`  ${user.role.padEnd(24)} ${user.email.padEnd(36)} ${password}`);
  }
  console.log(`\nSign in:  curl -s -X POST ${base}/auth/sign-in -H 'Content-Type: application/json' \\`);
  console.log(`            -d '{"email":"${credentials[1].user.email}","password":"${credentials[1].password}"}'`);
  console.log(`Then send the accessToken as 'Authorization: Bearer <token>'. API docs: ${base}/api/docs`);
  console.log(`The manager, administrator and auditor must enrol a second factor at first sign-in: POST ${base}/auth/mfa/enrol, then POST /auth/mfa/confirm with a code from any TOTP authenticator app (later sign-ins: POST /auth/mfa/verify).\n`);
  console.log(`The Board member sees the Board statistics only (GET ${base}/statistics/...), never a case.\n`);
  if (packReference) {
    console.log(`The government liaison (second factor required) sees only the pre-intervention pack of ${packReference}: GET ${base}/stage-access/packs, then GET ${base}/cases/${packReference}/pack.\n`);
  }

  if (start) {
    // Starts the real service in this process, against the demo database.
    await import('../main');
  }
}
