import type { Request } from 'express';
import { Region, Role } from '../access-control/role';

/** Who is calling, as established by the session on this request. */
export interface Principal {
  userId: string;
  sessionId: string;
  email: string;
  displayName: string;
  role: Role;
  region: Region | null;
  partyId: string | null;
  /** The session proved a second factor (at sign-in, or by confirming enrolment in it). */
  mfaVerified?: boolean;
}

export type AuthenticatedRequest = Request & { principal?: Principal; user?: Principal; id?: string };
