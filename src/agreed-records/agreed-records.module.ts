import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module';
import { AgreedRecordsController } from './agreed-records.controller';
import { AgreedRecordsService } from './agreed-records.service';

/** Agreed records: attestation, sealing, external agreements, addenda and verification (issue 8, point 3). */
@Module({ imports: [CasesModule], controllers: [AgreedRecordsController], providers: [AgreedRecordsService], exports: [AgreedRecordsService] })
export class AgreedRecordsModule {}
