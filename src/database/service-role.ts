import { Client } from 'pg';

/** The group role the migrations grant the service's privileges to. */
export const SERVICE_GROUP_ROLE = 'clearing_house_service';

/**
 * Creates (if missing) a login role that is a member of the service group role and nothing
 * else: no superuser, owns no tables. Used by the demo and the tests; in production an
 * operator creates the login role with a password (README, "Database roles").
 */
export async function ensureServiceLogin(ownerUrl: string, loginName: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(loginName)) throw new Error(`Refusing the role name "${loginName}"`);
  const client = new Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${loginName}') THEN
          CREATE ROLE ${loginName} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS IN ROLE ${SERVICE_GROUP_ROLE};
        END IF;
      END $$`);
    await client.query(`GRANT ${SERVICE_GROUP_ROLE} TO ${loginName}`);
  } finally {
    await client.end();
  }
}

/** Replaces the user of a postgres:// URL. */
export function withUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
}
