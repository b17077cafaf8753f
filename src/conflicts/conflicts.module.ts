import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module';
import { ConflictsController, RecusalsController } from './conflicts.controller';
import { ConflictsService } from './conflicts.service';

@Module({
  imports: [CasesModule],
  controllers: [ConflictsController, RecusalsController],
  providers: [ConflictsService],
})
export class ConflictsModule {}
