import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { EmailOutboxController } from './email-outbox.controller';
import { EmailOutboxService } from './email-outbox.service';
import { EmailProcessor, EmailSweepSchedule } from './email.processor';
import { EmailTransport } from './email-transport';
import { FailedJobsController } from './failed-jobs.controller';
import { InboxController } from './inbox.controller';
import { NotificationsProcessor } from './notifications.processor';
import { NotificationsService } from './notifications.service';
import { OutboxDispatcher } from './outbox-dispatcher';
import { QueueName } from './queues';

@Module({
  imports: [
    BullModule.registerQueue(
      {
        name: QueueName.Notifications,
        defaultJobOptions: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 2_000 },
          removeOnComplete: 1_000,
          // Kept for inspection by administrators.
          removeOnFail: false,
        },
      },
      {
        name: QueueName.Email,
        defaultJobOptions: {
          // Retries, back-off and dead letters are the outbox's (in PostgreSQL), not Bull's: a
          // job runs once; a failed job is an unexpected error (e.g. the database was down) and
          // the sweep queues its row again.
          attempts: 1,
          removeOnComplete: true,
          removeOnFail: 1_000,
        },
      },
    ),
  ],
  controllers: [InboxController, FailedJobsController, EmailOutboxController],
  providers: [NotificationsService, NotificationsProcessor, EmailTransport, EmailOutboxService, OutboxDispatcher, EmailProcessor, EmailSweepSchedule],
  exports: [NotificationsService, EmailOutboxService, BullModule],
})
export class NotificationsModule {}
