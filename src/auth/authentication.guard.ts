import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC } from '../access-control/decorators';
import { DomainError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { AuthenticatedRequest, Principal } from './principal';

/** Global: every route needs a valid session unless marked @Public(). */
@Injectable()
export class AuthenticationGuard extends AuthGuard('bearer') {
  constructor(private readonly reflector: Reflector) {
    super({ session: false });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    await super.canActivate(context);
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    req.principal = req.user as Principal;
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    // The session could not be looked up (the database is down): not the caller's fault, and
    // not a reason for the client to drop its tokens. The error filter answers 503 (or 500).
    if (err && !(err instanceof DomainError)) throw err;
    if (err || !user) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in first: the access token is missing, expired or revoked');
    return user;
  }
}
