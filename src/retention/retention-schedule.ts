import { CaseOutcome } from '../workflow/case-state';

/** Years after closure that a case's content is kept, per outcome. */
export type RetentionSchedule = Record<CaseOutcome, number>;

/** Reads the schedule from configuration; refuses unknown outcomes and non-positive years, naming them. */
export function retentionSchedule(defaultYears: number, byOutcomeJson?: string): RetentionSchedule {
  const schedule = Object.fromEntries(Object.values(CaseOutcome).map((o) => [o, defaultYears])) as RetentionSchedule;
  if (!byOutcomeJson) return schedule;
  const parsed: unknown = JSON.parse(byOutcomeJson);
  for (const [outcome, years] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(Object.values(CaseOutcome) as string[]).includes(outcome)) throw new Error(`RETENTION_YEARS_BY_OUTCOME: unknown outcome ${outcome}`);
    if (typeof years !== 'number' || !Number.isInteger(years) || years < 1) throw new Error(`RETENTION_YEARS_BY_OUTCOME: ${outcome} must be a whole number of years, at least 1`);
    schedule[outcome as CaseOutcome] = years;
  }
  return schedule;
}

/** The day a case closed on `closedOn` with this outcome becomes due for destruction. */
export function dueOn(closedOn: Date, outcome: CaseOutcome, schedule: RetentionSchedule): string {
  const d = new Date(Date.UTC(closedOn.getUTCFullYear() + schedule[outcome], closedOn.getUTCMonth(), closedOn.getUTCDate()));
  return d.toISOString().slice(0, 10);
}
