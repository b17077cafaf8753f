import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ALL_REGIONS } from '../access-control/role';
import { ConcernArea } from '../cases/concern.types';
import { AppConfig } from '../config/app-config';
import { CaseOutcome, CaseState, OPEN_STATES } from '../workflow/case-state';
import { CaseStatisticsQueryDto, StageDurationDto, StageDurationsQueryDto, StatisticsDimension, StatisticsPeriod, SuppressedTableDto } from './dto';
import { suppressTable } from './small-number-suppression';
import { inSystemContext, SystemContext } from '../database/row-security';

const NO_REGION = 'No region';
const STILL_OPEN = 'open';

/** Every row a table has, whether or not it has cases: an absent row would itself say something. */
const ROWS: Record<StatisticsDimension, string[]> = {
  [StatisticsDimension.State]: Object.values(CaseState),
  [StatisticsDimension.Region]: [...ALL_REGIONS, NO_REGION],
  [StatisticsDimension.Area]: Object.values(ConcernArea),
  [StatisticsDimension.Outcome]: [...Object.values(CaseOutcome), STILL_OPEN],
};

const DIMENSION_SQL: Record<StatisticsDimension, { from: string; value: string }> = {
  [StatisticsDimension.State]: { from: '', value: 'c.state' },
  [StatisticsDimension.Region]: { from: '', value: `coalesce(a.region, '${NO_REGION}')` },
  [StatisticsDimension.Area]: { from: 'JOIN concerns k ON k.case_id = c.id', value: 'k.area' },
  [StatisticsDimension.Outcome]: { from: '', value: `coalesce(c.outcome, '${STILL_OPEN}')` },
};

/**
 * Aggregate figures for the Board. Counts only, never a list of cases; every published cell is
 * suppressed when small so that no single case can be picked out.
 */
@Injectable()
export class StatisticsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  get threshold(): number {
    return this.config.get('STATS_SUPPRESSION_THRESHOLD');
  }

  async caseCounts(q: CaseStatisticsQueryDto): Promise<SuppressedTableDto> {
    const period = q.period ?? StatisticsPeriod.Quarter;
    const bucket = period === StatisticsPeriod.Quarter ? `to_char(c.opened_at, 'YYYY-"Q"Q')` : `to_char(c.opened_at, 'YYYY')`;
    const dim = DIMENSION_SQL[q.dimension];
    const rows: Array<{ value: string; bucket: string; n: number }> = await inSystemContext(this.dataSource, SystemContext.Statistics, (m) => m.query(
      `SELECT ${dim.value} AS value, ${bucket} AS bucket, count(DISTINCT c.id)::int AS n
         FROM cases c JOIN authorities a ON a.id = c.authority_id ${dim.from}
        WHERE ($1::date IS NULL OR c.opened_at >= $1::date) AND ($2::date IS NULL OR c.opened_at < $2::date + 1)
        GROUP BY 1, 2`,
      [q.from ?? null, q.to ?? null],
    ));
    const rowNames = ROWS[q.dimension];
    const columns = periodsBetween(rows.map((r) => r.bucket), period);
    const counts = rowNames.map((name) => columns.map((col) => rows.find((r) => r.value === name && r.bucket === col)?.n ?? 0));
    return {
      ...suppressTable(rowNames, columns, counts, this.threshold),
      dimension: q.dimension,
      note: q.dimension === StatisticsDimension.Area ? 'A case with concerns in several areas counts once in each; totals are of cells, not of cases.' : 'Cases by the period in which they were opened.',
    };
  }

  /** How long cases stay in each stage: completed stays, and ongoing ones up to now. */
  async stageDurations(q: StageDurationsQueryDto): Promise<StageDurationDto[]> {
    const rows: Array<{ stage: string; stays: number; median: number | null; p75: number | null }> = await inSystemContext(this.dataSource, SystemContext.Statistics, (m) => m.query(
      `WITH stays AS (
         SELECT t.to_state AS stage,
                extract(epoch FROM (coalesce(lead(t.occurred_at) OVER (PARTITION BY t.case_id ORDER BY t.sequence), now()) - t.occurred_at)) / 86400 AS days,
                t.occurred_at
           FROM case_transitions t)
       SELECT stage, count(*)::int AS stays,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median,
              percentile_cont(0.75) WITHIN GROUP (ORDER BY days) AS p75
         FROM stays
        WHERE stage <> 'closed' AND ($1::date IS NULL OR occurred_at >= $1::date) AND ($2::date IS NULL OR occurred_at < $2::date + 1)
        GROUP BY stage`,
      [q.from ?? null, q.to ?? null],
    ));
    return OPEN_STATES.map((stage) => {
      const r = rows.find((x) => x.stage === stage);
      const stays = r?.stays ?? 0;
      if (stays > 0 && stays < this.threshold) return { stage, stays: `<${this.threshold}`, medianDays: null, p75Days: null };
      return { stage, stays, medianDays: r?.median == null ? null : round1(r.median), p75Days: r?.p75 == null ? null : round1(r.p75) };
    });
  }
}

function round1(n: number): number {
  return Math.round(Number(n) * 10) / 10;
}

/** Every period from the first to the last that has data, so that gaps show as zeros. */
export function periodsBetween(buckets: string[], period: StatisticsPeriod): string[] {
  if (buckets.length === 0) return [];
  const sorted = [...new Set(buckets)].sort();
  const out: string[] = [];
  if (period === StatisticsPeriod.Year) {
    for (let y = Number(sorted[0]); y <= Number(sorted[sorted.length - 1]); y++) out.push(String(y));
    return out;
  }
  const parse = (b: string) => Number(b.slice(0, 4)) * 4 + Number(b.slice(6)) - 1;
  for (let k = parse(sorted[0]); k <= parse(sorted[sorted.length - 1]); k++) out.push(`${Math.floor(k / 4)}-Q${(k % 4) + 1}`);
  return out;
}
