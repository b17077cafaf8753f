import { SetMetadata } from '@nestjs/common';
import { Permission } from './permission';

export const IS_PUBLIC = 'access:public';
export const REQUIRED_PERMISSION = 'access:permission';

/** Opt out of authentication (sign-in, health, API docs). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The permission a route needs; a route with neither this nor @Public() is refused. */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);
