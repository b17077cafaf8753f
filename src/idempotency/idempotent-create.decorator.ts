import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBadRequestResponse, ApiHeader } from '@nestjs/swagger';
import { ApiErrorDto } from '../common/api-error.dto';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_MIN_LENGTH, IDEMPOTENT_REPLAYED_HEADER } from './idempotency-key';
import { IdempotentResource } from './idempotent-resource';

export const IDEMPOTENT_CREATE = 'idempotentCreate';

/**
 * Marks a create endpoint as accepting an Idempotency-Key (see IdempotencyInterceptor) and
 * documents the header in the OpenAPI description.
 */
export function IdempotentCreate(resource: IdempotentResource): MethodDecorator {
  return applyDecorators(
    SetMetadata(IDEMPOTENT_CREATE, resource),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      schema: { type: 'string', minLength: IDEMPOTENCY_KEY_MIN_LENGTH, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: '^[A-Za-z0-9._~:+/=-]+$' },
      description:
        'Makes the request safe to retry: send a fresh random value (a UUID) with each new record, and the same value with every retry of it. ' +
        'A retry within IDEMPOTENCY_KEY_TTL_HOURS (24 by default) creates nothing and answers with the first result (same status; the record as you ' +
        `may read it now, audited as a read), marked \`${IDEMPOTENT_REPLAYED_HEADER}: true\`; this holds also when the first answer was lost after the ` +
        'record was saved. Keys are per user. The same key with a different method, path or body: 422 PRECONDITION_FAILED ' +
        '(details.precondition idempotency_key_matches_request). A concurrent retry waits for the first and then replays it. Refused requests ' +
        '(validation, 404, 422) are not remembered, so a corrected retry may use the same key. Without the header nothing changes.',
    }),
    ApiBadRequestResponse({ type: ApiErrorDto, description: `Invalid body, or an ${IDEMPOTENCY_KEY_HEADER} that is not ${IDEMPOTENCY_KEY_MIN_LENGTH}-${IDEMPOTENCY_KEY_MAX_LENGTH} characters of letters, digits and . _ ~ : + / = - (fieldErrors name the header)` }),
  );
}
