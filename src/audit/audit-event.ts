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
  /** A request refused by its route's permission (the role may never do this). */
  RouteRefused = 'route_refused',
  /** The retention job listed cases whose content is due for destruction. */
  ListDue = 'list_due',
  /** A manager approved destruction and the case's content was destroyed. */
  DestroyContent = 'destroy_content',
  /** A manager put a case on legal hold, or lifted it. */
  LegalHold = 'legal_hold',
  /** Multi-factor sign-in: enrolment started (a new secret issued, not yet active). */
  MfaEnrol = 'mfa_enrol',
  /** Enrolment confirmed with a first code: the factor is active, recovery codes issued. */
  MfaConfirm = 'mfa_confirm',
  /** Password accepted for a user with a second factor: a sign-in challenge issued. */
  MfaChallenge = 'mfa_challenge',
  /** A second-factor code given (sign-in, confirmation, regeneration, break-glass) and refused. */
  MfaCodeRefused = 'mfa_code_refused',
  MfaRecoveryCodesRegenerate = 'mfa_recovery_codes_regenerate',
  /** An administrator removed a user's second factor (they enrol again at next sign-in). */
  MfaReset = 'mfa_reset',
  /** A request refused because the session may only enrol a second factor. */
  MfaEnrolmentRequired = 'mfa_enrolment_required',
  /** A manager restricted a case to its team, or lifted the restriction. */
  SetCaseRestriction = 'set_case_restriction',
  /** A manager opened a restricted case they are not entitled to see (justification: their reason). */
  BreakGlass = 'break_glass',
  /** An auditor reviewed a break-glass grant. */
  BreakGlassReview = 'break_glass_review',
  /** An administrator sent a dead (or stuck) e-mail back to the outbox for another try. */
  RetryEmail = 'retry_email',
  /** A change made through the queue board (retry, remove, pause, clean, ...): method and route. */
  QueueOperation = 'queue_operation',
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
  /** An API route as a whole (refusals by route permission). */
  Route = 'route',
  Statistics = 'statistics',
  EarlyWarning = 'early_warning',
  Retention = 'retention',
  MfaFactor = 'mfa_factor',
  BreakGlassGrant = 'break_glass_grant',
  /** A row of the e-mail outbox (address and subject, never case content). */
  Email = 'email',
  /** A background job queue (Bull). */
  Queue = 'queue',
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
