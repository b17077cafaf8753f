/** What was done. Stable names: auditors search by them. */
export enum AuditAction {
  Read = 'read',
  List = 'list',
  Create = 'create',
  Correct = 'correct',
  Update = 'update',
  Move = 'move',
  AddTeamMember = 'add_team_member',
  RemoveTeamMember = 'remove_team_member',
  SignIn = 'sign_in',
  SignInFailed = 'sign_in_failed',
  SignOut = 'sign_out',
  Search = 'search',
  Export = 'export',
  Verify = 'verify',
  CreateUser = 'create_user',
  ChangeRole = 'change_role',
  DisableUser = 'disable_user',
  EnableUser = 'enable_user',
  ResetPassword = 'reset_password',
  UnlockSignIn = 'unlock_sign_in',
  ChangePassword = 'change_password',
}

/** What it was done to. */
export enum ResourceType {
  Case = 'case',
  Concern = 'concern',
  ConcernSource = 'concern_source',
  Conversation = 'conversation',
  Meeting = 'meeting',
  Support = 'support',
  ProgressNote = 'progress_note',
  Team = 'team',
  History = 'history',
  Session = 'session',
  User = 'user',
  AuditTrail = 'audit_trail',
  Statistics = 'statistics',
  EarlyWarning = 'early_warning',
}

export enum AuditOutcome {
  Allowed = 'allowed',
  Denied = 'denied',
}

/** Who, from where, on which request: taken from the HTTP request by the controller. */
export interface RequestActor {
  /** Null for operations run from the command line. */
  userId: string | null;
  role: string;
  requestId: string | null;
  clientIp: string | null;
  userAgent: string | null;
}

/** One audit record. Never the content: ids, names of rules and actions only. */
export interface AuditEntry {
  action: AuditAction;
  resourceType: ResourceType;
  resourceId?: string | null;
  caseId?: string | null;
  outcome: AuditOutcome;
  rule?: string | null;
  justification?: string | null;
}
