import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Permission, roleHasPermission } from '../access-control/permission';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { mustEnrolMfa } from '../auth/mfa/mfa-policy';
import { Principal } from '../auth/principal';
import { SessionsService } from '../auth/sessions.service';
import { toApiError } from '../common/api-exception.filter';
import { DomainError, ForbiddenError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { assignRequestId } from '../common/logging';
import { QueueRegistry } from './queue-registry';

export const QUEUE_BOARD_PATH = '/admin/queues/board';

/** Requests that only read; anything else changes a queue and is audited before it runs. */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i;

export interface QueueBoardDependencies {
  sessions: SessionsService;
  audit: AuditWriter;
  registry: QueueRegistry;
}

/**
 * The bull-board dashboard for every registered queue, mounted at /admin/queues/board. It is
 * plain Express, outside Nest's guards, so `queueBoardGuard` applies the same rules in front
 * of it: a valid bearer access token (401), a session that has completed any required second
 * factor (403 MFA_ENROLMENT_REQUIRED), and the queues:inspect permission, i.e. administrators
 * (403). Changes made through it (retry, remove, pause, clean, ...) are audited.
 */
export function queueBoard(deps: QueueBoardDependencies): RequestHandler[] {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: deps.registry.queues().map((queue) => new BullAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Clearing house queues' } },
  });
  // bull-board is an Express application of its own: it would announce itself in X-Powered-By.
  const board = serverAdapter.getRouter() as RequestHandler & { disable(setting: string): unknown };
  board.disable('x-powered-by');
  return [queueBoardGuard(deps), board];
}

export function queueBoardGuard({ sessions, audit }: Pick<QueueBoardDependencies, 'sessions' | 'audit'>): RequestHandler {
  const logger = new Logger('QueueBoard');
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = assignRequestId(req, res);
    const started = Date.now();
    // Nest's request logger does not see these requests: log them the same way (no query string).
    res.on('finish', () =>
      logger.log({ requestId, method: req.method, path: `${req.baseUrl}${req.path}`, statusCode: res.statusCode, ms: Date.now() - started }, 'queue board request'),
    );
    const refuse = (error: unknown) => {
      const body = toApiError(error, requestId);
      res.status(body.statusCode).json(body);
    };
    void (async () => {
      const match = BEARER.exec(req.headers.authorization ?? '');
      const principal = match ? await sessions.principalOf(match[1]) : null;
      if (!principal) return refuse(new DomainError(ErrorCode.Unauthenticated, 'Sign in first: the access token is missing, expired or revoked'));
      const actor = actorOf(principal, req, requestId);
      if (mustEnrolMfa(principal)) {
        await audit.recordNow(actor, {
          action: AuditAction.MfaEnrolmentRequired, resourceType: ResourceType.Session, resourceId: principal.sessionId, outcome: AuditOutcome.Denied, rule: `${req.method} ${QUEUE_BOARD_PATH}`,
        });
        return refuse(new DomainError(ErrorCode.MfaEnrolmentRequired, 'Your role requires multi-factor sign-in: enrol an authenticator app first (POST /auth/mfa/enrol)'));
      }
      if (!roleHasPermission(principal.role, Permission.QueuesInspect)) return refuse(new ForbiddenError());
      if (!READ_METHODS.has(req.method)) {
        // Recorded before it runs: no record, no change. The path names a queue and a job id, never case content.
        await audit.recordNow(actor, {
          action: AuditAction.QueueOperation, resourceType: ResourceType.Queue, resourceId: queueNameOf(req.path), outcome: AuditOutcome.Allowed,
          rule: `${req.method} ${req.path}`.slice(0, 200),
        });
      }
      next();
    })().catch(refuse);
  };
}

function actorOf(principal: Principal, req: Request, requestId: string): RequestActor {
  return {
    userId: principal.userId,
    role: principal.role,
    requestId,
    clientIp: req.ip ?? null,
    userAgent: (req.headers['user-agent'] as string | undefined) ?? null,
  };
}

/** `/api/queues/<name>/...` names the queue an operation is on. */
function queueNameOf(path: string): string | null {
  const m = /^\/api\/queues\/([^/]+)/.exec(path);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]).slice(0, 100);
  } catch {
    return null;
  }
}
