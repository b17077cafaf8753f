import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { NotificationsModule } from '../notifications/notifications.module';
import { CaseDeadlinesService } from './case-deadlines.service';
import { DeadlinesController } from './deadlines.controller';
import { Clock, SystemClock } from './clock';
import { DeadlineReminders } from './deadline-reminders';
import { DeadlineScheduler } from './deadline-scheduler';
import { DeadlineService } from './deadline.service';
import { DEADLINES_QUEUE } from './deadline.types';
import { WorkingCalendar } from './working-calendar';

/**
 * Deadlines, reminders and escalation. Global because the commands of several modules (cases,
 * conversations, support, meetings) create and close deadlines in their own transactions.
 */
@Global()
@Module({
  imports: [NotificationsModule, BullModule.registerQueue({ name: DEADLINES_QUEUE })],
  controllers: [DeadlinesController],
  providers: [
    CaseFileTransactions,
    CaseDeadlinesService,
    { provide: Clock, useClass: SystemClock },
    { provide: WorkingCalendar, useValue: new WorkingCalendar() },
    DeadlineService,
    DeadlineReminders,
    DeadlineScheduler,
  ],
  exports: [DeadlineService, Clock, WorkingCalendar],
})
export class DeadlinesModule {}
