import { Module } from '@nestjs/common';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { CasesController } from './cases.controller';
import { CasesService } from './cases.service';

@Module({
  controllers: [CasesController],
  providers: [CasesService, CaseFileTransactions],
  exports: [CasesService, CaseFileTransactions],
})
export class CasesModule {}
