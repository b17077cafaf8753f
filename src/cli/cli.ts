import 'reflect-metadata';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Role } from '../access-control/role';
import { importAuthorities } from '../authorities/authorities-import';
import { EnvironmentVariables, validateEnvironment } from '../config/environment';
import { pendingMigrations, revertLastMigration, runMigrations } from '../database/migrations';
import { unreachableDependencies } from './dependencies';
import { registerAuditCommands } from './audit-commands';
import { registerKeyCommands } from './key-commands';
import { withOwnerConnection } from './owner-connection';
import { runDemo } from './demo';
import { generatePassword, upsertUser } from './users';

// The CLI reads the same .env as the service (never in tests, which set their own environment).
if (process.env.NODE_ENV !== 'test' && existsSync('.env')) process.loadEnvFile('.env');

function environment(): EnvironmentVariables {
  return validateEnvironment(process.env);
}

async function requireDatabase(env: EnvironmentVariables): Promise<void> {
  const problems = (await unreachableDependencies(env.DATABASE_MIGRATION_URL!, env.REDIS_URL)).filter((p) => p.startsWith('PostgreSQL'));
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

async function readPasswordFromStdin(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new Error('No password on standard input');
}

const program = new Command('clearing-house').description('Operations for the clearing house service').showHelpAfterError();

program
  .command('migration:run')
  .description('Apply pending migrations (as the owner role, DATABASE_MIGRATION_URL)')
  .action(async () => {
    const env = environment();
    await requireDatabase(env);
    const applied = await runMigrations(env.DATABASE_MIGRATION_URL!);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
  });

program
  .command('migration:revert')
  .description('Revert the most recent migration')
  .action(async () => {
    const env = environment();
    await requireDatabase(env);
    await revertLastMigration(env.DATABASE_MIGRATION_URL!);
    console.log('Reverted the last migration.');
  });

program
  .command('migration:status')
  .description('Exit 1 if migrations are pending')
  .action(async () => {
    const env = environment();
    await requireDatabase(env);
    const pending = await pendingMigrations(env.DATABASE_MIGRATION_URL!);
    console.log(pending ? 'Migrations are pending.' : 'The schema is up to date.');
    if (pending) process.exitCode = 1;
  });

program
  .command('authorities:import')
  .description('Import (or refresh) the English authorities from the register CSV; idempotent')
  .action(async () => {
    const env = environment();
    await requireDatabase(env);
    const result = await withOwnerConnection(env, (ds) => importAuthorities(ds));
    console.log(`Authorities: ${result.total} in the register, ${result.inserted} added, ${result.updated} updated.`);
  });

program
  .command('create-admin')
  .description('Create the first administrator (or reset an administrator). Never uses a default password.')
  .requiredOption('--email <email>', 'e-mail address to sign in with')
  .requiredOption('--name <name>', 'display name')
  .option('--password-stdin', 'read the password from standard input instead of generating one')
  .action(async (opts: { email: string; name: string; passwordStdin?: boolean }) => {
    const env = environment();
    await requireDatabase(env);
    const generated = !opts.passwordStdin;
    const password = generated ? generatePassword() : await readPasswordFromStdin();
    const result = await withOwnerConnection(env, (ds) => upsertUser(ds, env, { email: opts.email, displayName: opts.name, role: Role.Administrator, password }));
    console.log(`${result.created ? 'Created' : 'Reset'} administrator ${opts.email.toLowerCase()}.`);
    if (generated) console.log(`Password (shown once; change it after signing in): ${password}`);
    console.log('At first sign-in, enrol an authenticator app (POST /auth/mfa/enrol, then POST /auth/mfa/confirm with a code): administrators must sign in with a second factor.');
  });

program
  .command('demo')
  .description('Development only: create and fill a demonstration database, print how to sign in, and start the service')
  .option('--no-start', 'prepare the data and print the credentials, but do not start the service')
  .action(async (opts: { start: boolean }) => {
    await runDemo({ start: opts.start });
  });

registerAuditCommands(program);
registerKeyCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
