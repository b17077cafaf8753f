import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiPropertyOptional, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Response } from 'express';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { ApiErrorDto } from '../common/api-error.dto';
import { MetricsService, toPrometheusText } from './metrics.service';

class MetricsQueryDto {
  @ApiPropertyOptional({ enum: ['json', 'prometheus'], default: 'json' })
  @IsOptional() @IsIn(['json', 'prometheus'])
  format?: 'json' | 'prometheus';
}

class QueueCountsDto {
  @ApiProperty() waiting: number;
  @ApiProperty() active: number;
  @ApiProperty() delayed: number;
  @ApiProperty() failed: number;
}

class EmailOutboxCountsDto {
  @ApiProperty() pending: number;
  @ApiProperty() dead: number;
}

class MetricsDto {
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(QueueCountsDto) }, description: 'Per queue (notifications, email, audit, ...)' })
  queues: Record<string, QueueCountsDto>;
  @ApiProperty({ type: EmailOutboxCountsDto }) emailOutbox: EmailOutboxCountsDto;
  @ApiProperty() collectedAt: string;
}

/**
 * Operational figures for administrators. Not public, unlike /health: the volume of deadline
 * and escalation notifications and of undelivered e-mail says how busy the clearing house is,
 * which is itself confidential; and readiness stays a cheap up/down check for load balancers.
 */
@ApiTags('operations')
@ApiBearerAuth()
@ApiExtraModels(QueueCountsDto)
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Administrators only' })
@RequirePermission(Permission.QueuesInspect)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Jobs per queue (waiting, active, delayed, failed) and the e-mail outbox (pending, dead); JSON or Prometheus text (?format=prometheus)' })
  @ApiOkResponse({ type: MetricsDto })
  @ApiProduces('application/json', 'text/plain')
  async get(@Query() q: MetricsQueryDto, @Res({ passthrough: true }) res: Response): Promise<MetricsDto | string> {
    const metrics = await this.metrics.collect();
    if (q.format !== 'prometheus') return metrics;
    res.type('text/plain; version=0.0.4; charset=utf-8');
    return toPrometheusText(metrics);
  }
}
