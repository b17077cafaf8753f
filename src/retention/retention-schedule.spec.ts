import { CaseOutcome } from '../workflow/case-state';
import { dueOn, retentionSchedule } from './retention-schedule';

describe('retention schedule', () => {
  it('applies the default to every outcome and the configured exceptions', () => {
    const s = retentionSchedule(6, '{"no_further_action":2}');
    expect(s[CaseOutcome.NoFurtherAction]).toBe(2);
    expect(s[CaseOutcome.GovernmentIntervention]).toBe(6);
  });

  it('refuses unknown outcomes and bad years, naming them', () => {
    expect(() => retentionSchedule(6, '{"forgotten":2}')).toThrow(/unknown outcome forgotten/);
    expect(() => retentionSchedule(6, '{"withdrawn":0}')).toThrow(/withdrawn must be a whole number/);
  });

  it('counts whole years from the day of closure', () => {
    const s = retentionSchedule(6);
    expect(dueOn(new Date('2020-03-15T16:00:00Z'), CaseOutcome.Withdrawn, s)).toBe('2026-03-15');
  });
});
