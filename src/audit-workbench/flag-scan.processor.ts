import { InjectQueue, Process, Processor } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../config/app-config';
import { FlagScanner } from './flag-scanner.service';

export const AUDIT_WORKBENCH_QUEUE = 'audit-workbench';
const SCAN = 'scan-flags';

@Processor(AUDIT_WORKBENCH_QUEUE)
export class FlagScanProcessor {
  constructor(private readonly scanner: FlagScanner) {}

  @Process(SCAN)
  async scan(): Promise<void> {
    // Scans only what is sealed; the sealer's own job keeps sealing.
    await this.scanner.scan();
  }
}

/** One repeatable scan across all instances; the advisory lock and the watermark keep overlapping runs harmless. */
@Injectable()
export class FlagScanSchedule implements OnApplicationBootstrap {
  private readonly logger = new Logger(FlagScanSchedule.name);

  constructor(
    @InjectQueue(AUDIT_WORKBENCH_QUEUE) private readonly queue: Queue,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('AUDIT_FLAG_SCAN_ENABLED')) return;
    try {
      await this.queue.add(SCAN, {}, { repeat: { every: this.config.get('AUDIT_FLAG_SCAN_INTERVAL_MS') }, jobId: SCAN, removeOnComplete: true, removeOnFail: 100 });
    } catch (error) {
      this.logger.warn({ err: (error as Error).name }, 'could not schedule the audit flag scan');
    }
  }
}
