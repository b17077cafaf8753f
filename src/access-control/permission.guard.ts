import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ForbiddenError } from '../common/domain-error';
import { AuthenticatedRequest } from '../auth/principal';
import { IS_PUBLIC, REQUIRED_PERMISSION } from './decorators';
import { Permission, roleHasPermission } from './permission';

/** Runs after authentication. Deny by default: a route that names no permission is refused. */
@Injectable()
export class PermissionGuard implements CanActivate {
  private readonly logger = new Logger(PermissionGuard.name);

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
    if (!permission) {
      this.logger.error(`Route ${context.getClass().name}.${context.getHandler().name} names no permission; refused`);
      throw new ForbiddenError();
    }
    const { principal } = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!principal || !roleHasPermission(principal.role, permission)) throw new ForbiddenError();
    return true;
  }
}
