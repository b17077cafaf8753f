import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { registerOnEveryConnect } from '../common/repeatable-jobs';
import { AppConfig } from '../config/app-config';
import { AUDIT_QUEUE, AuditJob } from './audit-queue';
import { AuditSealer } from './sealer';

@Processor(AUDIT_QUEUE)
export class SealerProcessor {
  constructor(private readonly sealer: AuditSealer) {}

  @Process(AuditJob.Seal)
  async seal(): Promise<void> {
    await this.sealer.sealAll();
  }
}

/**
 * One repeatable job across all instances (Bull keys it by name and interval); the advisory
 * lock inside the sealer keeps it single even if two runs overlap.
 */
@Injectable()
export class SealerSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(SealerSchedule.name);

  constructor(
    @InjectQueue(AUDIT_QUEUE) private readonly queue: Queue,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const warn = (error: unknown) => this.logger.warn({ err: (error as Error)?.name }, 'could not schedule the audit sealer');
    // Again after Redis comes back: one that lost its data has forgotten the repeatable job.
    registerOnEveryConnect(this.queue, () => this.schedule(), warn);
    try {
      await this.schedule();
    } catch (error) {
      // Audit records are in PostgreSQL either way; sealing catches up when Redis is back.
      warn(error);
    }
  }

  private schedule(): Promise<unknown> {
    const every = this.config.get('AUDIT_SEAL_INTERVAL_MS');
    return this.queue.add(AuditJob.Seal, {}, { repeat: { every }, jobId: AuditJob.Seal, removeOnComplete: true, removeOnFail: 100 });
  }
}
