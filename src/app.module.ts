import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { PermissionGuard } from './access-control/permission.guard';
import { AuthenticationGuard } from './auth/authentication.guard';
import { AuthModule } from './auth/auth.module';
import { isSignInRoute } from './auth/sign-in-throttle';
import { AuditModule } from './audit/audit.module';
import { AuditWorkbenchModule } from './audit-workbench/audit-workbench.module';
import { AuthoritiesModule } from './authorities/authorities.module';
import { BreakGlassModule } from './break-glass/break-glass.module';
import { SourceIdentityModule } from './source-identity/source-identity.module';
import { CasesModule } from './cases/cases.module';
import { ConversationsModule } from './conversations/conversations.module';
import { MeetingsModule } from './meetings/meetings.module';
import { AgreedRecordsModule } from './agreed-records/agreed-records.module';
import { EarlyWarningModule } from './early-warning/early-warning.module';
import { RetentionModule } from './retention/retention.module';
import { DeadlinesModule } from './deadlines/deadlines.module';
import { StatisticsModule } from './statistics/statistics.module';
import { SupportModule } from './support/support.module';
import { ConflictsModule } from './conflicts/conflicts.module';
import { ApiExceptionFilter } from './common/api-exception.filter';
import { loggerParams } from './common/logging';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EncryptionModule } from './encryption/encryption.module';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OperationsModule } from './operations/operations.module';
import { PartiesModule } from './parties/parties.module';
import { UsersModule } from './users/users.module';
import { StageAccessModule } from './stage-access/stage-access.module';
import { CompartmentsModule } from './compartments/compartments.module';

@Module({
  imports: [
    AppConfigModule,
    LoggerModule.forRootAsync({ inject: [AppConfig], useFactory: (config: AppConfig) => loggerParams(config.get('LOG_LEVEL')) }),
    DatabaseModule,
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        url: config.get('REDIS_URL'),
        prefix: config.get('QUEUE_PREFIX'),
        redis: { connectTimeout: 2_000 },
      }),
    }),
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          { name: 'api', ttl: 60_000, limit: config.get('RATE_LIMIT_PER_MINUTE') },
          { name: 'sign-in', ttl: 60_000, limit: config.get('SIGN_IN_RATE_LIMIT_PER_MINUTE'), skipIf: (ctx) => !isSignInRoute(ctx) },
        ],
      }),
    }),
    AuthModule,
    UsersModule,
    PartiesModule,
    AuthoritiesModule,
    NotificationsModule,
    OperationsModule,
    HealthModule,
    AuditModule,
    AuditWorkbenchModule,
    EncryptionModule,
    CasesModule,
    BreakGlassModule,
    SourceIdentityModule,
    ConversationsModule,
    MeetingsModule,
    AgreedRecordsModule,
    SupportModule,
    ConflictsModule,
    StageAccessModule,
    CompartmentsModule,
    StatisticsModule,
    EarlyWarningModule,
    RetentionModule,
    DeadlinesModule,
    IdempotencyModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: ApiExceptionFilter },
    // Order matters: rate limit, then who you are, then what you may do.
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: PermissionGuard },
  ],
})
export class AppModule {}
