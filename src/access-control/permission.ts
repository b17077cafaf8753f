import { Role } from './role';

/**
 * What a route needs. Every route names one (or is explicitly public); the permission guard
 * refuses a route that names none. Record-level rules (which case, which note) are decided
 * by the access policy on the record itself, not here.
 */
export enum Permission {
  UsersManage = 'users:manage',
  PartiesManage = 'parties:manage',
  PartiesRead = 'parties:read',
  AuthoritiesRead = 'authorities:read',
  QueuesInspect = 'queues:inspect',
  InboxRead = 'inbox:read',
  OwnSessionsManage = 'sessions:own',
  /** Read the case file (which cases and items: decided per record by the case access policy). */
  CaseFileRead = 'case-file:read',
  /** Record conversations, support and progress notes, and move cases (per record and workflow rules). */
  CaseFileWrite = 'case-file:write',
  ConcernsLog = 'concerns:log',
  /** Search, export and verify the audit trail (never case content). */
  AuditRead = 'audit:read',
  /** Aggregate figures for the Board, with small numbers suppressed. */
  StatisticsRead = 'statistics:read',
  /** The early-warning register of signals and commitments per authority (clearing-house staff). */
  EarlyWarning = 'early-warning',
  /** Review what retention makes due, approve destruction, set legal holds (clearing-house managers). */
  RetentionManage = 'retention:manage',
  /** Reveal a source's identity with a reason; ask for, approve, refuse or revoke its release to a colleague (clearing-house managers). */
  SourceIdentityRelease = 'source-identity:release',
  /** Read a source's identity released to you, and the releases you may see (clearing-house staff; never the identity in a list). */
  SourceIdentityRead = 'source-identity:read',
  /** Declare, list and end your own ties (conflicts of interest): everyone. */
  ConflictsDeclare = 'conflicts:declare',
  /** Read any user's declared ties (clearing-house managers, who compose case teams; administrators). */
  ConflictsReview = 'conflicts:review',
  /** Read the pre-intervention pack of a case (what of it: decided by the stage-access policy, src/stage-access). */
  StagePackRead = 'stage-pack:read',
}

const CASE_FILE: Permission[] = [Permission.CaseFileRead, Permission.CaseFileWrite];
const EVERYONE: Permission[] = [Permission.AuthoritiesRead, Permission.InboxRead, Permission.OwnSessionsManage, Permission.PartiesRead, Permission.ConflictsDeclare];

export const PERMISSIONS_OF_ROLE: Record<Role, ReadonlySet<Permission>> = {
  [Role.ClearingHouseOfficer]: new Set([...EVERYONE, ...CASE_FILE, Permission.StagePackRead, Permission.ConcernsLog, Permission.EarlyWarning, Permission.SourceIdentityRead]),
  [Role.ClearingHouseManager]: new Set([...EVERYONE, ...CASE_FILE, Permission.StagePackRead, Permission.ConcernsLog, Permission.StatisticsRead, Permission.EarlyWarning, Permission.RetentionManage, Permission.SourceIdentityRelease, Permission.SourceIdentityRead, Permission.ConflictsReview]),
  [Role.RiepFacilitator]: new Set([...EVERYONE, ...CASE_FILE]),
  [Role.LeadPoliticalPeer]: new Set([...EVERYONE, ...CASE_FILE]),
  // Auditors and administrators read no case content at all.
  [Role.Auditor]: new Set([...EVERYONE, Permission.AuditRead]),
  [Role.Administrator]: new Set([...EVERYONE, Permission.UsersManage, Permission.PartiesManage, Permission.QueuesInspect, Permission.ConflictsReview]),
  // Board members see aggregate figures only: never a case, a concern or a name.
  [Role.BoardMember]: new Set([...EVERYONE, Permission.StatisticsRead]),
  // Government liaisons: the pack of a pre-intervention meeting they are named on, while it lasts; nothing else.
  [Role.GovernmentLiaison]: new Set([...EVERYONE, Permission.StagePackRead]),
};

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return PERMISSIONS_OF_ROLE[role].has(permission);
}
