import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseStatisticsQueryDto, StageDurationDto, StageDurationsQueryDto, SuppressedTableDto } from './dto';
import { StatisticsService } from './statistics.service';

const csvCell = (v: unknown) => `"${String(v).replace(/"/g, '""')}"`;

@ApiTags('statistics')
@ApiBearerAuth()
@RequirePermission(Permission.StatisticsRead)
@Controller('statistics')
export class StatisticsController {
  constructor(
    private readonly statistics: StatisticsService,
    private readonly audit: AuditWriter,
  ) {}

  @Get('cases')
  @ApiOperation({ summary: 'Cases by state, region, area or outcome over time, for the Board; small numbers suppressed (also as CSV with format=csv)' })
  @ApiOkResponse({ type: SuppressedTableDto })
  @ApiProduces('application/json', 'text/csv')
  async cases(@CurrentActor() actor: Actor, @Query() q: CaseStatisticsQueryDto, @Res({ passthrough: true }) res: Response): Promise<SuppressedTableDto | string> {
    await this.audit.recordNow(actor, { action: q.format === 'csv' ? AuditAction.Export : AuditAction.Read, resourceType: ResourceType.Statistics, outcome: AuditOutcome.Allowed, rule: q.dimension });
    const table = await this.statistics.caseCounts(q);
    if (q.format !== 'csv') return table;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="cases-by-${q.dimension}.csv"`);
    const lines = [[q.dimension, ...table.columns, 'total'].map(csvCell).join(',')];
    table.rows.forEach((row, i) => lines.push([row, ...table.cells[i], table.rowTotals[i]].map(csvCell).join(',')));
    lines.push(['total', ...table.columnTotals, table.total].map(csvCell).join(','));
    return lines.join('\n') + '\n';
  }

  @Get('stage-durations')
  @ApiOperation({ summary: 'Time spent in each stage (median and 75th percentile, days); stages with few stays suppressed' })
  @ApiOkResponse({ type: [StageDurationDto] })
  async stageDurations(@CurrentActor() actor: Actor, @Query() q: StageDurationsQueryDto): Promise<StageDurationDto[]> {
    await this.audit.recordNow(actor, { action: AuditAction.Read, resourceType: ResourceType.Statistics, outcome: AuditOutcome.Allowed, rule: 'stage_durations' });
    return this.statistics.stageDurations(q);
  }
}
