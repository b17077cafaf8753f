import { DataSource, EntityManager } from 'typeorm';

/**
 * The settings the database's row-level security reads (migrations/1764381300000-RowLevelSecurity.ts,
 * migrations/1764381800000-RowLevelSecurityRest.ts).
 * Always made with `is_local = true`: they end with the transaction, so a pooled connection never
 * carries one request's identity (or a system context) into the next.
 */
export const RLS_USER_SETTING = 'clearing_house.user_id';
export const RLS_SYSTEM_SETTING = 'clearing_house.system';

/**
 * System work that reads case data outside any user's request. Each table admits only the
 * contexts named in its policy, and only for what that work does.
 */
export enum SystemContext {
  /** Aggregate counts for the Board (cases, concerns' areas, stage durations). */
  Statistics = 'statistics',
  /** Listing closed cases due for review (retention_reviews), and the case references of the review list. */
  Retention = 'retention',
  /** Case references shown next to audit records; the auditors' lists of source identity releases and deletion certificates. */
  Audit = 'audit',
  /** The deadline sweep and reminders: deadlines, their reminders, cases and teams, conversation markings; notifying (ch_notify). */
  Deadlines = 'deadlines',
  /** Re-encryption of encrypted columns onto a new data key (ciphertexts and data keys only). */
  Encryption = 'encryption',
  /** Case references of the break-glass review queue, and the auditors' review of a grant. */
  BreakGlassReview = 'break_glass_review',
  /** The welcome note a new user finds in their inbox (the notifications worker). */
  Notifications = 'notifications',
  /** The hourly purge of expired idempotency keys (expired keys only). */
  Idempotency = 'idempotency',
  /** The e-mail sender: the outbox's queued e-mails (addresses, subjects, bodies), the sweep and the counts. */
  Email = 'email',
}

/** Binds the rest of this transaction to the requesting user. Must be the transaction's first statement. */
export async function actAsUser(manager: EntityManager, userId: string): Promise<void> {
  await manager.query(`SELECT set_config('${RLS_USER_SETTING}', $1, true), set_config('${RLS_SYSTEM_SETTING}', '', true)`, [userId]);
}

/** Binds the rest of this transaction to a system context (and no user). */
export async function actAsSystem(manager: EntityManager, context: SystemContext): Promise<void> {
  await manager.query(`SELECT set_config('${RLS_SYSTEM_SETTING}', $1, true), set_config('${RLS_USER_SETTING}', '', true)`, [context]);
}

/**
 * Runs one user's own work in its own transaction bound to them: for what is theirs alone and
 * needs no case transaction or audit record (their inbox, their idempotency keys).
 */
export function inUserContext<T>(dataSource: DataSource, userId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await actAsUser(manager, userId);
    return work(manager);
  });
}

/** Runs system work in its own transaction under its system context. */
export function inSystemContext<T>(dataSource: DataSource, context: SystemContext, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await actAsSystem(manager, context);
    return work(manager);
  });
}
