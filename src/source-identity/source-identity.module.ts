import { Module } from '@nestjs/common';
import { CasesModule } from '../cases/cases.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { SourceIdentityAuditController, SourceIdentityController } from './source-identity.controller';
import { SourceIdentityService } from './source-identity.service';

/** A source's identity, released by two people (issue 5, point 3). */
@Module({
  imports: [CasesModule, NotificationsModule],
  controllers: [SourceIdentityController, SourceIdentityAuditController],
  providers: [SourceIdentityService],
})
export class SourceIdentityModule {}
