import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { AuthenticatedRequest, Principal } from './principal';

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a public route');
  return principal;
});

export function clientInfoOf(req: AuthenticatedRequest): { ip: string | null; userAgent: string | null; requestId: string | null } {
  return { ip: req.ip ?? null, userAgent: (req.headers['user-agent'] as string | undefined) ?? null, requestId: req.id ? String(req.id) : null };
}
