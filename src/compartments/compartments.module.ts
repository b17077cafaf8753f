import { Module } from '@nestjs/common';
import { CaseFileTransactions } from '../access-control/case-file-transaction';
import { CompartmentsController } from './compartments.controller';
import { CompartmentsService } from './compartments.service';

@Module({ controllers: [CompartmentsController], providers: [CaseFileTransactions, CompartmentsService] })
export class CompartmentsModule {}
