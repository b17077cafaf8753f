import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { IdempotencyStore } from './idempotency-store';

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Deletes expired idempotency keys every hour. Safe on any number of instances at once (a
 * plain DELETE of expired rows); a missed run changes nothing but the table's size, because
 * lookups ignore expired keys themselves.
 */
@Injectable()
export class IdempotencyPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyPurger.name);
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: IdempotencyStore) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async purge(): Promise<number> {
    try {
      const purged = await this.store.purgeExpired();
      if (purged > 0) this.logger.log({ purged }, 'expired idempotency keys purged');
      return purged;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'purging expired idempotency keys failed; will retry');
      return 0;
    }
  }
}
