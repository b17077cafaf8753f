import { CaseState } from '../workflow/case-state';
import { decideReminder, outcomeOnLeavingStage, reminderMoment, reminderText, ReminderDecision, STAGES_OF, stillInStage } from './deadline-rules';
import { ALL_DEADLINE_KINDS, DeadlineKind, DeadlineState, ReminderKind, reminderJobId } from './deadline.types';

const triage = { kind: DeadlineKind.Triage, state: DeadlineState.Open, warnOn: '2026-12-03', dueOn: '2026-12-07' };

describe('deadline rules', () => {
  it('every kind has stages, none of them closed', () => {
    for (const kind of ALL_DEADLINE_KINDS) {
      expect(STAGES_OF[kind].length).toBeGreaterThan(0);
      expect(stillInStage(kind, CaseState.Closed)).toBe(false);
    }
  });

  it('leaving triage is triage done; leaving any other stage cancels', () => {
    expect(outcomeOnLeavingStage(DeadlineKind.Triage)).toBe(DeadlineState.Met);
    for (const kind of ALL_DEADLINE_KINDS.filter((k) => k !== DeadlineKind.Triage)) expect(outcomeOnLeavingStage(kind)).toBe(DeadlineState.Cancelled);
  });

  it('the warning is due when its day begins in England; "missed" when the due day is over', () => {
    expect(reminderMoment(triage, ReminderKind.Approaching).toISOString()).toBe('2026-12-03T00:00:00.000Z');
    expect(reminderMoment(triage, ReminderKind.Missed).toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(reminderMoment({ warnOn: '2026-07-01', dueOn: '2026-07-03' }, ReminderKind.Missed).toISOString()).toBe('2026-07-03T23:00:00.000Z');
  });

  it.each([
    ['2026-12-02T23:59:59Z', ReminderKind.Approaching, CaseState.Triage, ReminderDecision.NotYet],
    ['2026-12-03T00:00:00Z', ReminderKind.Approaching, CaseState.Triage, ReminderDecision.Send],
    ['2026-12-07T23:59:59Z', ReminderKind.Missed, CaseState.ConcernRaised, ReminderDecision.NotYet],
    ['2026-12-08T00:00:00Z', ReminderKind.Missed, CaseState.ConcernRaised, ReminderDecision.Send],
    ['2026-12-09T10:00:00Z', ReminderKind.Approaching, CaseState.Triage, ReminderDecision.Superseded],
    ['2026-12-09T10:00:00Z', ReminderKind.Missed, CaseState.Monitoring, ReminderDecision.CaseMovedOn],
  ])('at %s, %s on a case in %s: %s', (now, reminder, state, expected) => {
    expect(decideReminder(triage, state, reminder, new Date(now))).toBe(expected);
  });

  it('a deadline met or cancelled sends nothing', () => {
    for (const state of [DeadlineState.Met, DeadlineState.Cancelled]) {
      expect(decideReminder({ ...triage, state }, CaseState.Triage, ReminderKind.Missed, new Date('2027-01-01'))).toBe(ReminderDecision.Closed);
    }
  });

  it('the text names the reference, what is due and when: nothing else', () => {
    const t = reminderText('CH-2026-0042', DeadlineKind.AgreedAction, '2026-12-07', ReminderKind.Missed, true);
    expect(t.title).toBe('Escalation: CH-2026-0042 missed a deadline (an action agreed in a conversation, due Monday 7 December 2026)');
    expect(reminderText('CH-2026-0042', DeadlineKind.Triage, '2026-12-07', ReminderKind.Approaching, false).title).toBe(
      'CH-2026-0042: triage of the concern is due on Monday 7 December 2026',
    );
    for (const kind of ALL_DEADLINE_KINDS) {
      for (const reminder of [ReminderKind.Approaching, ReminderKind.Missed]) {
        for (const escalation of [false, true]) {
          const { title, body } = reminderText('CH-2026-0042', kind, '2026-12-07', reminder, escalation);
          expect(title.length).toBeLessThanOrEqual(200);
          expect(title).toContain('CH-2026-0042');
          expect(body).toContain('CH-2026-0042');
        }
      }
    }
  });

  it('one job id per deadline and reminder', () => {
    expect(reminderJobId('d1', ReminderKind.Approaching)).toBe('remind:d1:approaching');
    expect(reminderJobId('d1', ReminderKind.Missed)).not.toBe(reminderJobId('d1', ReminderKind.Approaching));
  });
});
