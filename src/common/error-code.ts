/** Stable, machine-readable error codes. Clients may rely on these; never rename one. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  BadRequest = 'BAD_REQUEST',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  Unauthenticated = 'UNAUTHENTICATED',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  SignInLocked = 'SIGN_IN_LOCKED',
  Forbidden = 'FORBIDDEN',
  /** The caller's role requires a second factor: this session may only enrol one (POST /auth/mfa/enrol). */
  MfaEnrolmentRequired = 'MFA_ENROLMENT_REQUIRED',
  NotFound = 'NOT_FOUND',
  Conflict = 'CONFLICT',
  VersionConflict = 'VERSION_CONFLICT',
  PreconditionFailed = 'PRECONDITION_FAILED',
  TooManyRequests = 'TOO_MANY_REQUESTS',
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
  Internal = 'INTERNAL_ERROR',
}

export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.InvalidCredentials]: 401,
  [ErrorCode.SignInLocked]: 429,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.MfaEnrolmentRequired]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.VersionConflict]: 409,
  [ErrorCode.PreconditionFailed]: 422,
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.Internal]: 500,
};
