import { EntityManager } from 'typeorm';
import { ItemHandling } from '../access-control/handling';
import { ValidationError } from '../common/domain-error';

/** A named_only item must name at least one active user; other markings name nobody. */
export async function assertNamedUsers(manager: EntityManager, handling: ItemHandling, named: readonly string[]): Promise<void> {
  if (handling === ItemHandling.NamedOnly && named.length === 0) {
    throw new ValidationError([{ field: 'namedUserIds', messages: ['namedUserIds must name at least one user for named_only handling'] }]);
  }
  if (handling !== ItemHandling.NamedOnly && named.length > 0) {
    throw new ValidationError([{ field: 'namedUserIds', messages: ['namedUserIds is only for named_only handling'] }]);
  }
  if (named.length > 0) {
    const [{ n }] = await manager.query(`SELECT count(*)::int AS n FROM users WHERE id = ANY ($1::uuid[]) AND disabled_at IS NULL`, [named]);
    if (n !== named.length) throw new ValidationError([{ field: 'namedUserIds', messages: ['namedUserIds must name active users'] }]);
  }
}
