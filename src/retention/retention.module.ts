import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AuditWorkbenchModule } from '../audit-workbench/audit-workbench.module';
import { CasesModule } from '../cases/cases.module';
import { RetentionController } from './retention.controller';
import { RETENTION_QUEUE, RetentionProcessor, RetentionSchedule } from './retention.processor';
import { RetentionService } from './retention.service';

@Module({
  imports: [CasesModule, AuditWorkbenchModule, BullModule.registerQueue({ name: RETENTION_QUEUE })],
  controllers: [RetentionController],
  providers: [RetentionService, RetentionProcessor, RetentionSchedule],
})
export class RetentionModule {}
