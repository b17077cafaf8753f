import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AccessReviewsService } from './access-reviews.service';
import { AuditWorkbenchController } from './audit-workbench.controller';
import { DeletionCertificatesService } from './deletion-certificates.service';
import { EvidenceService } from './evidence.service';
import { AUDIT_WORKBENCH_QUEUE, FlagScanProcessor, FlagScanSchedule } from './flag-scan.processor';
import { FlagScanner } from './flag-scanner.service';
import { FlagsService } from './flags.service';

/** The auditor's workbench (issue 8.5) and deletion certificates (8.6). AuditModule is global: AuditWriter, AuditSealer, AuditVerificationService. */
@Module({
  imports: [BullModule.registerQueue({ name: AUDIT_WORKBENCH_QUEUE })],
  controllers: [AuditWorkbenchController],
  providers: [FlagScanner, FlagsService, AccessReviewsService, EvidenceService, DeletionCertificatesService, FlagScanProcessor, FlagScanSchedule],
  exports: [DeletionCertificatesService],
})
export class AuditWorkbenchModule {}
