import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CasesModule } from '../cases/cases.module';
import { BreakGlassController, BreakGlassReviewController } from './break-glass.controller';
import { BreakGlassService } from './break-glass.service';

@Module({
  imports: [AuthModule, CasesModule],
  controllers: [BreakGlassController, BreakGlassReviewController],
  providers: [BreakGlassService],
})
export class BreakGlassModule {}
