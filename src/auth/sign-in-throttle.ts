import { ExecutionContext, SetMetadata } from '@nestjs/common';

export const SIGN_IN_THROTTLE = 'auth:sign-in-throttle';

/** Marks the routes that take a password, so the stricter per-address sign-in limit applies to them. */
export const SignInThrottle = () => SetMetadata(SIGN_IN_THROTTLE, true);

export function isSignInRoute(context: ExecutionContext): boolean {
  return Reflect.getMetadata(SIGN_IN_THROTTLE, context.getHandler()) === true;
}
