import { addCalendarDays, londonDateOf, londonStartOf, WorkingCalendar } from './working-calendar';

describe('WorkingCalendar (England and Wales)', () => {
  const cal = new WorkingCalendar();

  it('knows the 2026 bank holidays, with Easter on 3 and 6 April and the Boxing Day substitute', () => {
    expect([...cal.bankHolidays(2026)].sort()).toEqual([
      '2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-26', '2026-12-28',
    ]);
  });

  it('does not count Scottish or Northern Irish holidays', () => {
    expect(cal.isWorkingDay('2026-01-02')).toBe(true); // Scotland's 2 January
    expect(cal.isWorkingDay('2026-03-17')).toBe(true); // St Patrick's Day (Northern Ireland)
    expect(cal.isWorkingDay('2026-08-03')).toBe(true); // Scotland's summer holiday
  });

  it.each([
    ['2026-12-24', 1, '2026-12-29'], // Christmas, Boxing Day (Saturday), its substitute Monday 28th
    ['2026-04-02', 1, '2026-04-07'], // Good Friday and Easter Monday
    ['2026-04-02', 2, '2026-04-08'],
    ['2026-11-27', 1, '2026-11-30'], // Friday to Monday
    ['2026-11-28', 1, '2026-11-30'], // from a Saturday: Monday is the first working day
    ['2026-11-23', 5, '2026-11-30'], // a working week
    ['2026-12-21', 5, '2026-12-30'], // across Christmas 2026
    ['2026-12-31', 1, '2027-01-04'], // New Year's Day 2027 is a Friday
    ['2027-12-24', 1, '2027-12-29'], // 2027: Christmas and Boxing Day at the weekend, substitutes on 27 and 28
    ['2026-11-24', 0, '2026-11-24'],
  ])('%s + %i working days = %s', (from, days, expected) => {
    expect(cal.addWorkingDays(from, days)).toBe(expected);
  });

  it.each([
    ['2026-12-29', -1, '2026-12-24'],
    ['2026-04-07', -1, '2026-04-02'],
    ['2026-11-30', -2, '2026-11-26'],
  ])('%s %i working days = %s', (from, days, expected) => {
    expect(cal.addWorkingDays(from, days)).toBe(expected);
  });

  it('weekends and bank holidays are not working days', () => {
    expect(cal.isWorkingDay('2026-11-28')).toBe(false);
    expect(cal.isWorkingDay('2026-11-29')).toBe(false);
    expect(cal.isWorkingDay('2026-05-25')).toBe(false);
    expect(cal.isWorkingDay('2026-05-26')).toBe(true);
  });

  it('refuses what is not a date, or a fraction of a day', () => {
    expect(() => cal.addWorkingDays('26-12-2026', 1)).toThrow();
    expect(() => cal.addWorkingDays('2026-12-24', 1.5)).toThrow();
  });
});

describe('dates in England', () => {
  it('a day begins at midnight GMT in winter and BST in summer', () => {
    expect(londonStartOf('2026-12-01').toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(londonStartOf('2026-07-01').toISOString()).toBe('2026-06-30T23:00:00.000Z');
    // The clocks change at 01:00 UTC: both change days still start at midnight.
    expect(londonStartOf('2026-03-29').toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(londonStartOf('2026-10-25').toISOString()).toBe('2026-10-24T23:00:00.000Z');
  });

  it('the date in England of an instant', () => {
    expect(londonDateOf(new Date('2026-06-30T23:30:00Z'))).toBe('2026-07-01');
    expect(londonDateOf(new Date('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
  });

  it('adds calendar days across months and years', () => {
    expect(addCalendarDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addCalendarDays('2028-03-01', -1)).toBe('2028-02-29');
  });
});
