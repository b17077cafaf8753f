import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { EmailOutboxService, QueuedRow } from './email-outbox.service';

const PENDING = 'emailOutboxRowsToQueue';

type WithPending = { [PENDING]?: QueuedRow[] };

/**
 * Wakes the e-mail worker once the transaction that wrote outbox rows has committed: a job
 * queued before the commit could run before its row is visible. Rows written outside a
 * transaction are queued at once; rows of a transaction that rolls back are forgotten. Queuing
 * never blocks or fails the caller: if Redis does not take the job, the outbox sweep does.
 */
@Injectable()
export class OutboxDispatcher implements EntitySubscriberInterface {
  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly outbox: EmailOutboxService,
  ) {
    dataSource.subscribers.push(this);
  }

  /** Queues `rows` after `manager`'s transaction commits (or now, if it has none). */
  afterCommit(manager: EntityManager, rows: QueuedRow[]): void {
    if (rows.length === 0) return;
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) {
      this.outbox.enqueueInBackground(rows);
      return;
    }
    const data = runner.data as WithPending;
    (data[PENDING] ??= []).push(...rows);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    // A released savepoint is not the end: wait for the outermost commit.
    if (event.queryRunner.isTransactionActive) return;
    const rows = take(event.queryRunner);
    if (rows.length > 0) this.outbox.enqueueInBackground(rows);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    // Rows rolled back to a savepoint may be queued with the rest: the worker skips a row it cannot find.
    if (!event.queryRunner.isTransactionActive) take(event.queryRunner);
  }
}

function take(runner: QueryRunner): QueuedRow[] {
  const data = runner.data as WithPending;
  const rows = data[PENDING] ?? [];
  delete data[PENDING];
  return rows;
}
