import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { RetentionService } from './retention.service';

export const RETENTION_QUEUE = 'retention';
const LIST_DUE = 'list-due';

@Processor(RETENTION_QUEUE)
export class RetentionProcessor {
  private readonly logger = new Logger(RetentionProcessor.name);

  constructor(private readonly retention: RetentionService) {}

  @Process(LIST_DUE)
  async listDue(): Promise<void> {
    const listed = await this.retention.listDue();
    if (listed) this.logger.log({ listed }, 'cases listed as due for destruction');
  }
}

/** Daily, once across all instances (a repeatable job); listing is idempotent anyway. */
@Injectable()
export class RetentionSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(RetentionSchedule.name);

  constructor(@InjectQueue(RETENTION_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.queue.add(LIST_DUE, {}, { repeat: { cron: '15 2 * * *', tz: 'Europe/London' }, jobId: LIST_DUE, removeOnComplete: true, removeOnFail: 50 });
    } catch (error) {
      this.logger.warn({ err: (error as Error).name }, 'could not schedule the retention job');
    }
  }
}
