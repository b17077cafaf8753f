import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { registerOnEveryConnect } from '../common/repeatable-jobs';
import { AppConfig } from '../config/app-config';
import { EmailOutboxService } from './email-outbox.service';
import { DeliverEmailJobData, EmailJob, QueueName } from './queues';

/** The 'email' queue's worker: jobs name an outbox row; the row says what to send. */
@Processor(QueueName.Email)
export class EmailProcessor {
  constructor(private readonly outbox: EmailOutboxService) {}

  @Process(EmailJob.Deliver)
  async deliver(job: Job<DeliverEmailJobData>): Promise<string> {
    // The outcome (sent, retry, dead, skipped, disabled) is the job's result, for the queue board.
    return this.outbox.deliver(job.data.outboxId);
  }

  @Process(EmailJob.Sweep)
  async sweep(): Promise<number> {
    return this.outbox.sweep();
  }
}

/**
 * Schedules the repeatable sweep (one across all instances: Bull keys it by name and
 * interval) and sweeps once at start-up, so that e-mails written while no worker ran, or whose
 * jobs Redis lost, go out without waiting for the first tick.
 */
@Injectable()
export class EmailSweepSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(EmailSweepSchedule.name);

  constructor(
    @InjectQueue(QueueName.Email) private readonly queue: Queue,
    private readonly outbox: EmailOutboxService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.outbox.deliveryEnabled) return;
    // Again after Redis comes back: one that lost its data has forgotten the sweep and every delivery job.
    registerOnEveryConnect(
      this.queue,
      async () => {
        await this.queue.add(EmailJob.Sweep, {}, { repeat: { every: this.config.get('EMAIL_SWEEP_INTERVAL_MS') }, jobId: EmailJob.Sweep, removeOnComplete: true, removeOnFail: 100 });
        await this.outbox.sweep();
      },
      (error) => this.logger.warn({ err: (error as Error)?.name }, 'could not schedule the e-mail outbox sweep'),
    );
    try {
      await this.queue.add(EmailJob.Sweep, {}, { repeat: { every: this.config.get('EMAIL_SWEEP_INTERVAL_MS') }, jobId: EmailJob.Sweep, removeOnComplete: true, removeOnFail: 100 });
      const queued = await this.outbox.sweep();
      if (queued > 0) this.logger.log({ queued }, 'queued pending e-mails from the outbox at start-up');
    } catch (error) {
      // The outbox keeps every e-mail; the sweep catches up once Redis and PostgreSQL answer.
      this.logger.warn({ err: (error as Error)?.name }, 'could not schedule the e-mail outbox sweep');
    }
  }
}
