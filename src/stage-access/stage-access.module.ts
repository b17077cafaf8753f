import { Module } from '@nestjs/common';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { StageAccessController } from './stage-access.controller';
import { StageAccessService } from './stage-access.service';

@Module({ controllers: [StageAccessController], providers: [CaseFileTransactions, StageAccessService] })
export class StageAccessModule {}
