import { Process, Processor } from '@nestjs/bull';
import { Logger } from '@nestjs/common';
import type { Job } from 'bull';
import { NotificationsService } from './notifications.service';
import { NotificationJob, QueueName, WelcomeJobData } from './queues';

@Processor(QueueName.Notifications)
export class NotificationsProcessor {
  private readonly logger = new Logger(NotificationsProcessor.name);

  constructor(private readonly notifications: NotificationsService) {}

  @Process(NotificationJob.Welcome)
  async welcome(job: Job<WelcomeJobData>): Promise<void> {
    const delivered = await this.notifications.deliverWelcome(job.data.userId);
    if (!delivered) this.logger.warn({ jobId: job.id }, 'welcome skipped: user no longer exists');
  }
}
