import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Region, Role } from '../access-control/role';
import { hashPassword } from '../auth/password-hash';
import { EnvironmentVariables } from '../config/environment';
import { passwordProblems } from '../users/password-policy';

/** A random passphrase-strength password (24 URL-safe characters, 144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export interface UpsertUser {
  email: string;
  displayName: string;
  role: Role;
  region?: Region | null;
  partyId?: string | null;
  password: string;
}

/**
 * Creates the user, or for an existing address sets the role and a new password, removes any
 * second factor (they enrol again at their next sign-in: the way back for an administrator who
 * lost theirs) and ends their sessions (used by create-admin and the demo). Returns whether the
 * user was new.
 */
export async function upsertUser(ds: DataSource, env: EnvironmentVariables, u: UpsertUser): Promise<{ id: string; created: boolean }> {
  const email = u.email.trim().toLowerCase();
  const problems = passwordProblems(u.password, { minLength: env.PASSWORD_MIN_LENGTH, maxLength: env.PASSWORD_MAX_LENGTH }, [email.split('@')[0], u.displayName]);
  if (problems.length > 0) throw new Error(`The password is not acceptable: ${problems.join('; ')}`);
  const hash = await hashPassword(u.password, { memoryKib: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_TIME_COST });
  return ds.transaction(async (m) => {
    const [row]: Array<{ id: string; created: boolean }> = await m.query(
      `INSERT INTO users (email, display_name, password_hash, role, region, party_id) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (email) DO UPDATE SET display_name = EXCLUDED.display_name, password_hash = EXCLUDED.password_hash,
         role = EXCLUDED.role, region = EXCLUDED.region, party_id = EXCLUDED.party_id, disabled_at = NULL,
         updated_at = now(), version = users.version + 1
       RETURNING id, (xmax = 0) AS created`,
      [email, u.displayName, hash, u.role, u.region ?? null, u.partyId ?? null],
    );
    await m.query(`DELETE FROM sign_in_locks WHERE email_key = $1`, [email]);
    if (!row.created) {
      await m.query(`DELETE FROM mfa_recovery_codes WHERE user_id = $1`, [row.id]);
      await m.query(`DELETE FROM mfa_factors WHERE user_id = $1`, [row.id]);
      await m.query(`UPDATE mfa_challenges SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [row.id]);
      await m.query(`UPDATE sessions SET ended_at = now(), end_reason = 'password_changed' WHERE user_id = $1 AND ended_at IS NULL`, [row.id]);
    }
    return row;
  });
}
