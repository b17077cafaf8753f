import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { RequestActor } from '../audit/audit-event';
import { AuthenticatedRequest, Principal } from './principal';

/** The caller and where the request came from: what every case command needs for its policy and audit. */
export interface Actor extends RequestActor {
  principal: Principal;
}

export function actorOf(req: AuthenticatedRequest): Actor {
  const principal = req.principal;
  if (!principal) throw new Error('Actor used on a public route');
  return {
    principal,
    userId: principal.userId,
    role: principal.role,
    requestId: req.id ? String(req.id) : null,
    clientIp: req.ip ?? null,
    userAgent: (req.headers['user-agent'] as string | undefined) ?? null,
  };
}

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => actorOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>()));
