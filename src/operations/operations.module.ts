import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { NotificationsModule } from '../notifications/notifications.module';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { QueueRegistry } from './queue-registry';

/** Queue operations for administrators: metrics (GET /metrics) and the queue board (mounted by configureApp). */
@Module({
  imports: [DiscoveryModule, NotificationsModule],
  controllers: [MetricsController],
  providers: [QueueRegistry, MetricsService],
  exports: [QueueRegistry],
})
export class OperationsModule {}
