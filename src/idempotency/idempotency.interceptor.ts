import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Response } from 'express';
import { from, lastValueFrom, Observable } from 'rxjs';
import { Actor, actorOf } from '../auth/actor.decorator';
import { AuthenticatedRequest } from '../auth/principal';
import { ConflictError, PreconditionFailedError, ValidationError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { IdempotencyKeyTaken, withIdempotencyKey } from './idempotency-context';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, parseIdempotencyKey, requestFingerprint } from './idempotency-key';
import { IdempotencyReplay } from './idempotency-replay';
import { IdempotencyStore, StoredIdempotencyKey } from './idempotency-store';
import { IDEMPOTENT_CREATE } from './idempotent-create.decorator';
import { IdempotentResource } from './idempotent-resource';

/**
 * Idempotency-Key on the endpoints marked @IdempotentCreate. Runs after authentication and the
 * permission guard (a replay needs the same permission as the create), before validation.
 *
 *  - no header, or an unmarked endpoint: nothing changes;
 *  - a malformed key: 400 naming the header;
 *  - a live key of this user: same request → the created record read back (replay); a
 *    different request → 422;
 *  - a new key: the handler runs with the key in scope and `CaseFileTransactions.run` writes it
 *    in the creating transaction; a concurrent twin that committed first makes this one roll
 *    back and replay the twin's result.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly store: IdempotencyStore,
    private readonly replay: IdempotencyReplay,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const resource = this.reflector.get<IdempotentResource | undefined>(IDEMPOTENT_CREATE, context.getHandler());
    if (!resource || context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const raw = req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
    if (raw === undefined) return next.handle();
    return from(this.handle(req, context.switchToHttp().getResponse<Response>(), resource, Array.isArray(raw) ? raw.join(', ') : raw, next));
  }

  private async handle(req: AuthenticatedRequest, res: Response, resource: IdempotentResource, raw: string, next: CallHandler): Promise<unknown> {
    const parsed = parseIdempotencyKey(raw);
    if (!parsed.valid) throw new ValidationError([{ field: IDEMPOTENCY_KEY_HEADER, messages: [parsed.message] }], `The ${IDEMPOTENCY_KEY_HEADER} header is not valid`);
    const actor = actorOf(req);
    const userId = actor.principal.userId;
    const fingerprint = requestFingerprint(req.method, req.path, req.body);

    const stored = await this.store.find(userId, parsed.key);
    if (stored) return this.replayed(actor, res, stored, fingerprint);

    const pending = { userId, key: parsed.key, fingerprint, resource, ttlHours: this.config.get('IDEMPOTENCY_KEY_TTL_HOURS'), recorded: false };
    try {
      return await withIdempotencyKey(pending, () => lastValueFrom(next.handle(), { defaultValue: undefined }));
    } catch (error) {
      if (!(error instanceof IdempotencyKeyTaken)) throw error;
      // The twin committed before us (we waited for it on the key): answer with its result.
      const winner = await this.store.find(userId, parsed.key);
      if (!winner) throw new ConflictError(`A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry it`);
      return this.replayed(actor, res, winner, fingerprint);
    }
  }

  private async replayed(actor: Actor, res: Response, stored: StoredIdempotencyKey, fingerprint: Buffer): Promise<unknown> {
    if (!stored.fingerprint.equals(fingerprint)) {
      throw new PreconditionFailedError(`This ${IDEMPOTENCY_KEY_HEADER} was already used for a different request: use a new key for a new request`, {
        precondition: 'idempotency_key_matches_request',
      });
    }
    const body = await this.replay.read(actor, stored.resource, stored.created);
    res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return body;
  }
}
