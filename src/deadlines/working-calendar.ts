import Holidays from 'date-holidays';

/** A calendar date as `YYYY-MM-DD` (no time, no zone). */
export type IsoDate = string;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function toUtc(date: IsoDate): number {
  if (!DATE.test(date)) throw new Error(`not a date: ${date}`);
  return Date.parse(`${date}T00:00:00Z`);
}

function fromUtc(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds calendar days to a date. */
export function addCalendarDays(date: IsoDate, days: number): IsoDate {
  return fromUtc(toUtc(date) + days * DAY_MS);
}

const LONDON_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const LONDON_HOUR = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', hourCycle: 'h23' });

/** The date in England at an instant (the clearing house works to English office days). */
export function londonDateOf(instant: Date): IsoDate {
  return LONDON_DATE.format(instant);
}

/** The instant a date begins in England (00:00 GMT or BST; clocks change at 01:00 UTC, so midnight is never skipped). */
export function londonStartOf(date: IsoDate): Date {
  const utcMidnight = toUtc(date);
  const hourInLondon = Number(LONDON_HOUR.format(new Date(utcMidnight)));
  return new Date(utcMidnight - hourInLondon * 3_600_000);
}

/**
 * Working days in England: Monday to Friday, except the England and Wales bank holidays
 * (including substitute days when a holiday falls at a weekend). The holidays come from the
 * maintained `date-holidays` data ('GB', 'ENG', type 'public'), not from a list of our own.
 */
export class WorkingCalendar {
  private readonly holidays = new Holidays('GB', 'ENG');
  private readonly byYear = new Map<number, ReadonlySet<IsoDate>>();

  bankHolidays(year: number): ReadonlySet<IsoDate> {
    let set = this.byYear.get(year);
    if (!set) {
      const list = this.holidays.getHolidays(year) || [];
      set = new Set(list.filter((h) => h.type === 'public').map((h) => h.date.slice(0, 10)));
      this.byYear.set(year, set);
    }
    return set;
  }

  isWorkingDay(date: IsoDate): boolean {
    const day = new Date(toUtc(date)).getUTCDay();
    if (day === 0 || day === 6) return false;
    return !this.bankHolidays(Number(date.slice(0, 4))).has(date);
  }

  /**
   * The date `days` working days after `date` (before it, for a negative number). The start
   * date itself never counts: a concern received on a Saturday with a target of one working day
   * is due on Monday, one received on Monday is due on Tuesday.
   */
  addWorkingDays(date: IsoDate, days: number): IsoDate {
    if (!Number.isInteger(days)) throw new Error('days must be a whole number');
    const step = days >= 0 ? 1 : -1;
    let remaining = Math.abs(days);
    let current = date;
    toUtc(current);
    while (remaining > 0) {
      current = addCalendarDays(current, step);
      if (this.isWorkingDay(current)) remaining -= 1;
    }
    return current;
  }
}
