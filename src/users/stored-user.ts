import { Region, Role } from '../access-control/role';
import { Principal } from '../auth/principal';

/** A user as the users table holds them: who they are, and what the access policy decides by. */
export interface StoredUser {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  region: Region | null;
  party_id: string | null;
  disabled_at: Date | null;
}

/** Another user as the access policy sees them, to decide what they could see (no session of theirs is involved). */
export function principalOfUser(u: Omit<StoredUser, 'disabled_at'>): Principal {
  return { userId: u.id, sessionId: '', email: u.email, displayName: u.display_name, role: u.role, region: u.region, partyId: u.party_id };
}
