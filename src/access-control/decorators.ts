import { SetMetadata } from '@nestjs/common';
import { Permission } from './permission';

export const IS_PUBLIC = 'access:public';
export const REQUIRED_PERMISSION = 'access:permission';
export const ALLOW_DURING_MFA_ENROLMENT = 'access:mfa-enrolment';

/** Opt out of authentication (sign-in, health, API docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The permission a route needs; a route with neither this nor @Public() is refused. */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/**
 * One of the few routes a session that must first enrol a second factor may use (enrolment
 * itself, who am I, sign out); every other route answers 403 MFA_ENROLMENT_REQUIRED to it.
 */
export const AllowDuringMfaEnrolment = () => SetMetadata(ALLOW_DURING_MFA_ENROLMENT, true);
