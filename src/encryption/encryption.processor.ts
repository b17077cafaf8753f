import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { ReEncryption, ReEncryptionResult } from './reencryption';

export const ENCRYPTION_QUEUE = 'encryption';

export enum EncryptionJob {
  /** One re-encryption pass (carries nothing: the database says which keys are retiring). */
  ReEncrypt = 're-encrypt',
}

@Processor(ENCRYPTION_QUEUE)
export class EncryptionProcessor {
  constructor(private readonly reencryption: ReEncryption) {}

  @Process(EncryptionJob.ReEncrypt)
  reencrypt(): Promise<ReEncryptionResult> {
    return this.reencryption.run();
  }
}

/**
 * A pass every ten minutes across all instances (a repeatable job), so that a rotation started
 * from the command line is finished even if its own job was lost; a pass with nothing retiring
 * costs one query per table.
 */
@Injectable()
export class EncryptionSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(EncryptionSchedule.name);

  constructor(@InjectQueue(ENCRYPTION_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.queue.add(EncryptionJob.ReEncrypt, {}, { repeat: { every: 600_000 }, jobId: 're-encrypt-sweep', removeOnComplete: true, removeOnFail: 50 });
    } catch (error) {
      this.logger.warn({ err: (error as Error).name }, 'could not schedule the re-encryption sweep');
    }
  }
}
