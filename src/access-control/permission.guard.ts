import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { mustEnrolMfa } from '../auth/mfa/mfa-policy';
import { DomainError, ForbiddenError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { AuthenticatedRequest } from '../auth/principal';
import { ALLOW_DURING_MFA_ENROLMENT, IS_PUBLIC, REQUIRED_PERMISSION } from './decorators';
import { Permission, roleHasPermission } from './permission';

/**
 * Runs after authentication. First, a session that must still enrol a second factor may use
 * only the enrolment routes (403 MFA_ENROLMENT_REQUIRED, audited). Then deny by default: a
 * route that names no permission is refused.
 */
@Injectable()
export class PermissionGuard implements CanActivate {
  private readonly logger = new Logger(PermissionGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditWriter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const { principal } = req;
    if (principal && mustEnrolMfa(principal) && !this.reflector.getAllAndOverride<boolean>(ALLOW_DURING_MFA_ENROLMENT, targets)) {
      await this.audit.recordNow(
        { userId: principal.userId, role: principal.role, requestId: req.id ? String(req.id) : null, clientIp: req.ip ?? null, userAgent: (req.headers['user-agent'] as string | undefined) ?? null },
        {
          action: AuditAction.MfaEnrolmentRequired, resourceType: ResourceType.Session, resourceId: principal.sessionId, outcome: AuditOutcome.Denied,
          // The route pattern (never the path itself, which may name a case).
          rule: `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? 'unknown'}`.slice(0, 200),
        },
      );
      throw new DomainError(
        ErrorCode.MfaEnrolmentRequired,
        'Your role requires multi-factor sign-in: enrol an authenticator app first (POST /auth/mfa/enrol, then POST /auth/mfa/confirm with a code from it)',
      );
    }
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
    if (!permission) {
      this.logger.error(`Route ${context.getClass().name}.${context.getHandler().name} names no permission; refused`);
      throw new ForbiddenError();
    }
    if (!principal || !roleHasPermission(principal.role, permission)) {
      // Every refused attempt is audited, including those refused before any record is touched.
      if (principal) {
        await this.audit.recordNow(
          { userId: principal.userId, role: principal.role, requestId: req.id ? String(req.id) : null, clientIp: req.ip ?? null, userAgent: (req.headers['user-agent'] as string | undefined) ?? null },
          {
            action: AuditAction.RouteRefused, resourceType: ResourceType.Route, outcome: AuditOutcome.Denied, rule: `permission:${permission}`,
            // The route pattern (never the path itself, which may name a case).
            resourceId: `${req.method} ${(req.route as { path?: string } | undefined)?.path ?? 'unknown'}`.slice(0, 200),
          },
        );
      }
      throw new ForbiddenError();
    }
    return true;
  }
}
