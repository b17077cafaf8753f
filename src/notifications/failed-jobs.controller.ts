import { InjectQueue } from '@nestjs/bull';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Queue } from 'bull';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { QueueName } from './queues';

class FailedJobsQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

class FailedJobDto {
  @ApiProperty() queue: string;
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'Job data: ids only' }) data: Record<string, unknown>;
  @ApiProperty() attemptsMade: number;
  @ApiProperty({ nullable: true, type: String }) failedReason: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt: string | null;
}

/** Failed jobs are kept (removeOnFail: false) so an administrator can see what did not happen. */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('admin/queues')
export class FailedJobsController {
  constructor(@InjectQueue(QueueName.Notifications) private readonly notifications: Queue) {}

  @RequirePermission(Permission.QueuesInspect)
  @Get('failed')
  @ApiOperation({ summary: 'Failed background jobs, newest first (administrators)' })
  @ApiOkResponse({ type: [FailedJobDto] })
  async failed(@Query() query: FailedJobsQueryDto): Promise<FailedJobDto[]> {
    const jobs = await this.notifications.getFailed(0, (query.limit ?? 50) - 1);
    return jobs.map((job) => ({
      queue: this.notifications.name,
      id: String(job.id),
      name: job.name,
      data: job.data as Record<string, unknown>,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason ?? null,
      finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    }));
  }
}
