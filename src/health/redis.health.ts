import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { Queue } from 'bull';
import { QueueName } from '../notifications/queues';

/** Redis as Bull sees it: a PING on the queue's own connection, bounded in time. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    @InjectQueue(QueueName.Notifications) private readonly queue: Queue,
  ) {}

  async isHealthy(key: string, timeoutMs = 1_000): Promise<HealthIndicatorResult> {
    const check = this.indicator.check(key);
    try {
      const pong = await Promise.race([
        this.queue.client.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
      return pong === 'PONG' ? check.up() : check.down({ message: 'unexpected reply' });
    } catch {
      return check.down({ message: 'unreachable' });
    }
  }
}
