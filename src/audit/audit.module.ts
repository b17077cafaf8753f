import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { AUDIT_QUEUE } from './audit-queue';
import { AuditVerificationService } from './audit-verification.service';
import { AuditWriter } from './audit-writer';
import { AuditController } from './audit.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditSealer } from './sealer';
import { SealerProcessor, SealerSchedule } from './sealer.processor';

@Global()
@Module({
  imports: [BullModule.registerQueue({ name: AUDIT_QUEUE })],
  controllers: [AuditController],
  providers: [AuditWriter, AuditSealer, AuditVerificationService, AuditQueryService, SealerProcessor, SealerSchedule],
  exports: [AuditWriter, AuditSealer, AuditVerificationService],
})
export class AuditModule {}
