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
  /** The deadlines worker sent a deadline reminder (rule: `<kind>:<approaching|missed>`), or skipped it. */
  SendReminder = 'send_reminder',
  /** A manager read a source's identity, giving a reason (justification: the reason). */
  SourceIdentityReveal = 'source_identity_reveal',
  /** A manager asked for a source's identity to be released to a named colleague (justification: the reason). */
  SourceIdentityRequest = 'source_identity_request',
  /** A second manager approved, or refused, a release; or a manager revoked one. */
  SourceIdentityApprove = 'source_identity_approve',
  SourceIdentityRefuse = 'source_identity_refuse',
  SourceIdentityRevoke = 'source_identity_revoke',
  /** The re-encryption job moved values off retiring data keys (rule: counts), or refused one that failed authentication. */
  ReEncrypt = 're_encrypt',
  /** An operator rotated keys from the command line (rule: `master` or `data`, and how many). */
  RotateKeys = 'rotate_keys',
  /** Auditor's workbench: a scan of new audit records for unusual access (rule: how many flags raised). */
  ScanFlags = 'scan_flags',
  /** An auditor marked a flag reviewed (justification: their note). */
  ReviewFlag = 'review_flag',
  /** An auditor drew a sampled access review (rule: period, sample size). */
  CreateAccessReview = 'create_access_review',
  /** An auditor confirmed or queried one sampled access (rule: the decision; justification: the note). */
  DecideAccessReviewItem = 'decide_access_review_item',
  /** An auditor signed off a sampled access review. */
  SignOffAccessReview = 'sign_off_access_review',
  /** A deletion certificate was issued with a retention destruction (justification: `sha256:` and the certificate's hash). */
  IssueDeletionCertificate = 'issue_deletion_certificate',
  /** A user declared a tie (conflict of interest) about themselves, or ended one (src/conflicts). */
  DeclareConflict = 'declare_conflict',
  EndConflictDeclaration = 'end_conflict_declaration',
  /** A manager added to a case team someone with a declared tie to its authority (justification: their reason). */
  OverrideConflict = 'override_conflict',
  /** A user recused themselves from a case (justification: their reason, if given); their access ended at once. */
  Recuse = 'recuse',
  /** A manager withdrew someone's recusal (justification: the reason). */
  WithdrawRecusal = 'withdraw_recusal',
  /** A participant attested a draft conversation or meeting record (rule: `version:<n>`). */
  AttestRecord = 'attest_record',
  /** A record became agreed and was sealed (resource: the agreement; rule: `<type>:<record id>:v<version>`; justification: `sha256:` and its content hash). */
  AgreeRecord = 'agree_record',
  /** That a record was agreed with the authority or with government was recorded (who, when, how; never content). */
  RecordExternalAgreement = 'record_external_agreement',
  /** A manager named a government liaison for a case's pre-intervention meeting (justification: the reason), or removed one (src/stage-access). */
  NameLiaison = 'name_liaison',
  RemoveLiaison = 'remove_liaison',
  /** Clearing-house staff released an item into a pre-intervention pack (rule: its kind), or withdrew one. */
  ReleasePackItem = 'release_pack_item',
  WithdrawPackItem = 'withdraw_pack_item',
  /** A lead political peer opened a compartment, or named or removed clearing-house staff on it (rule: which) (src/compartments). */
  ChangeCompartment = 'change_compartment',
  /** A lead political peer placed a conversation record in their compartment (resource: the record). */
  PlaceInCompartment = 'place_in_compartment',
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
  /** A case deadline (triage, first conversation, review date, agreed action, pre-intervention meeting). */
  Deadline = 'deadline',
  /** A two-person release of a source's identity to a named colleague (never the identity itself). */
  SourceIdentityRelease = 'source_identity_release',
  /** A data key encrypting case content at rest (never the key itself). */
  DataKey = 'data_key',
  /** A flag for unusual access raised by the auditor's workbench. */
  AuditFlag = 'audit_flag',
  /** A sampled access review (auditor's workbench). */
  AccessReview = 'access_review',
  /** An evidence pack for one case or one user (the trail, proofs and a summary; never content). */
  EvidencePack = 'evidence_pack',
  /** The certificate of a retention destruction: what was destroyed (tables and row counts), when, under which rule, approved by whom. */
  DeletionCertificate = 'deletion_certificate',
  /** A declared tie of a user (conflict of interest); never its free-text detail in the trail. */
  ConflictDeclaration = 'conflict_declaration',
  /** A user's recusal from a case. */
  Recusal = 'recusal',
  /** The agreement that sealed a conversation or meeting record (its hash; never content). */
  AgreedRecord = 'agreed_record',
  /** An addendum to an agreed record (the only way to correct one). */
  RecordAddendum = 'record_addendum',
  /** A government liaison's naming for a pre-intervention stage (src/stage-access). */
  StageLiaison = 'stage_liaison',
  /** The pack of a pre-intervention meeting, or one item released into it. */
  StagePack = 'stage_pack',
  /** A compartment inside a case (src/compartments). */
  Compartment = 'compartment',
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
