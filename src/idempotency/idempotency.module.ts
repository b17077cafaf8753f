import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AgreedRecordsModule } from '../agreed-records/agreed-records.module';
import { CasesModule } from '../cases/cases.module';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IdempotencyPurger } from './idempotency-purger';
import { IdempotencyReplay } from './idempotency-replay';
import { IdempotencyStore } from './idempotency-store';

/** Idempotency-Key on create endpoints: the interceptor, the replay reads and the purge of expired keys. */
@Module({
  imports: [CasesModule, AgreedRecordsModule],
  providers: [IdempotencyStore, IdempotencyReplay, IdempotencyPurger, { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor }],
  exports: [IdempotencyStore, IdempotencyPurger],
})
export class IdempotencyModule {}
