import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional, Matches } from 'class-validator';

export enum StatisticsDimension {
  State = 'state',
  Region = 'region',
  Area = 'area',
  Outcome = 'outcome',
}

export enum StatisticsPeriod {
  Quarter = 'quarter',
  Year = 'year',
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class CaseStatisticsQueryDto {
  @ApiProperty({ enum: StatisticsDimension, enumName: 'StatisticsDimension' })
  @IsIn(Object.values(StatisticsDimension), { message: `dimension must be one of ${Object.values(StatisticsDimension).join(', ')}` })
  dimension: StatisticsDimension;

  @ApiPropertyOptional({ enum: StatisticsPeriod, enumName: 'StatisticsPeriod', default: StatisticsPeriod.Quarter, description: 'Columns: when cases were opened' })
  @IsOptional() @IsIn(Object.values(StatisticsPeriod), { message: 'period must be quarter or year' })
  period?: StatisticsPeriod;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'Cases opened on or after' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'from must be a date YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-31', description: 'Cases opened on or before' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'to must be a date YYYY-MM-DD' })
  to?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], default: 'json' })
  @IsOptional() @IsIn(['json', 'csv'], { message: 'format must be json or csv' })
  format?: 'json' | 'csv';
}

export class StageDurationsQueryDto {
  @ApiPropertyOptional({ example: '2026-01-01' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'from must be a date YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-31' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'to must be a date YYYY-MM-DD' })
  to?: string;
}

export class SuppressedTableDto {
  @ApiProperty({ type: [String] }) rows: string[];
  @ApiProperty({ type: [String] }) columns: string[];
  @ApiProperty({ description: 'Counts; a string like "<5" where suppressed', type: 'array', items: { type: 'array', items: { oneOf: [{ type: 'number' }, { type: 'string' }] } } })
  cells: Array<Array<number | string>>;
  @ApiProperty({ type: 'array', items: { oneOf: [{ type: 'number' }, { type: 'string' }] } }) rowTotals: Array<number | string>;
  @ApiProperty({ type: 'array', items: { oneOf: [{ type: 'number' }, { type: 'string' }] } }) columnTotals: Array<number | string>;
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }] }) total: number | string;
  @ApiProperty() threshold: number;
  @ApiProperty({ enum: StatisticsDimension, enumName: 'StatisticsDimension' }) dimension: StatisticsDimension;
  @ApiProperty({ description: 'For the area dimension a case with concerns in several areas counts once in each' }) note: string;
}

export class StageDurationDto {
  @ApiProperty() stage: string;
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'string' }], description: 'Stays in this stage (completed or ongoing); "<5" when suppressed' }) stays: number | string;
  @ApiProperty({ nullable: true, type: Number, description: 'Median days; null when suppressed' }) medianDays: number | null;
  @ApiProperty({ nullable: true, type: Number }) p75Days: number | null;
}
