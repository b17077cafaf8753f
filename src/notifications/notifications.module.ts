import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { FailedJobsController } from './failed-jobs.controller';
import { InboxController } from './inbox.controller';
import { NotificationsProcessor } from './notifications.processor';
import { NotificationsService } from './notifications.service';
import { QueueName } from './queues';

@Module({
  imports: [
    BullModule.registerQueue({
      name: QueueName.Notifications,
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: 1_000,
        // Kept for inspection by administrators.
        removeOnFail: false,
      },
    }),
  ],
  controllers: [InboxController, FailedJobsController],
  providers: [NotificationsService, NotificationsProcessor],
  exports: [NotificationsService, BullModule],
})
export class NotificationsModule {}
