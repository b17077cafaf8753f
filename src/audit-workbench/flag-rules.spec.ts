import { randomUUID } from 'node:crypto';
import {
  BreakGlassUseRule, BulkReadingRule, FlagRuleId, localTime, OffTeamReadRule, OutsideWorkingHoursRule, RepeatedRefusalsRule, ScannedRecord, startOfLocalDay,
} from './flag-rules';

let seq = 0;
const USER = '11111111-1111-4111-8111-111111111111';
const CASE = '22222222-2222-4222-8222-222222222222';

function rec(over: Partial<ScannedRecord> = {}): ScannedRecord {
  seq += 1;
  return {
    seq, id: randomUUID(), occurredAt: new Date('2026-11-25T10:00:00Z'), actorId: USER, actorRole: 'clearing_house_manager', action: 'read', resourceType: 'case',
    caseId: CASE, outcome: 'allowed', rule: null, clientIp: '10.0.0.1', onTeam: true, isNew: true, ...over,
  };
}

const hours = { startHour: 7, endHour: 19, weekends: true, timeZone: 'Europe/London' };

describe('local time (Europe/London)', () => {
  it('reads hours in GMT in winter and BST in summer', () => {
    expect(localTime(new Date('2026-11-25T06:59:00Z'), 'Europe/London')).toMatchObject({ date: '2026-11-25', hour: 6, weekday: 3 });
    expect(localTime(new Date('2026-07-01T06:30:00Z'), 'Europe/London')).toMatchObject({ date: '2026-07-01', hour: 7 });
  });

  it('finds the instant a local day starts', () => {
    expect(startOfLocalDay('2026-11-25', 'Europe/London').toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(startOfLocalDay('2026-07-01', 'Europe/London').toISOString()).toBe('2026-06-30T23:00:00.000Z');
    // The day the clocks go forward (29 March 2026) starts in GMT.
    expect(startOfLocalDay('2026-03-29', 'Europe/London').toISOString()).toBe('2026-03-29T00:00:00.000Z');
  });
});

describe('OutsideWorkingHoursRule', () => {
  const rule = new OutsideWorkingHoursRule(hours);

  it('flags a case access before 07:00, from 19:00 on, and at weekends; not on a weekday at 07:00 or 18:59 (London time)', () => {
    expect(rule.isOutside(new Date('2026-11-25T06:59:59Z'))).toBe(true);
    expect(rule.isOutside(new Date('2026-11-25T07:00:00Z'))).toBe(false);
    expect(rule.isOutside(new Date('2026-11-25T18:59:59Z'))).toBe(false);
    expect(rule.isOutside(new Date('2026-11-25T19:00:00Z'))).toBe(true);
    expect(rule.isOutside(new Date('2026-11-28T12:00:00Z'))).toBe(true); // Saturday
    // 06:30 UTC in July is 07:30 BST: working hours.
    expect(rule.isOutside(new Date('2026-07-01T06:30:00Z'))).toBe(false);
    expect(new OutsideWorkingHoursRule({ ...hours, weekends: false }).isOutside(new Date('2026-11-28T12:00:00Z'))).toBe(false);
  });

  it('raises one flag per user per local day, with the records as evidence', () => {
    const a = rec({ occurredAt: new Date('2026-11-25T22:00:00Z') });
    const b = rec({ occurredAt: new Date('2026-11-25T23:30:00Z') });
    const inHours = rec({ occurredAt: new Date('2026-11-25T12:00:00Z') });
    const flags = rule.evaluate([a, b, inHours]);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ rule: FlagRuleId.OutsideWorkingHours, userId: USER, windowStart: new Date('2026-11-25T00:00:00Z'), windowEnd: new Date('2026-11-26T00:00:00Z') });
    expect(flags[0].evidence).toEqual([{ seq: a.seq, id: a.id }, { seq: b.seq, id: b.id }]);
  });

  it('ignores refusals, system records, audit searches and records already scanned', () => {
    const at = new Date('2026-11-25T22:00:00Z');
    expect(rule.evaluate([
      rec({ occurredAt: at, outcome: 'denied' }), rec({ occurredAt: at, actorId: null }), rec({ occurredAt: at, resourceType: 'audit_trail' }), rec({ occurredAt: at, isNew: false }),
    ])).toEqual([]);
  });
});

describe('BulkReadingRule', () => {
  const rule = new BulkReadingRule(3, 60);
  const reads = (n: number, over: Partial<ScannedRecord> = {}) =>
    Array.from({ length: n }, (_, i) => rec({ caseId: `00000000-0000-4000-8000-00000000000${i}`, occurredAt: new Date(`2026-11-25T10:0${i}:00Z`), ...over }));

  it('flags more than N distinct cases read in one window, and not N', () => {
    expect(rule.evaluate(reads(3))).toEqual([]);
    const flags = rule.evaluate(reads(4));
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ rule: FlagRuleId.BulkReading, details: { distinctCases: 4, threshold: 3 }, windowStart: new Date('2026-11-25T10:00:00Z') });
  });

  it('counts distinct cases, not reads', () => {
    expect(rule.evaluate([...reads(3), ...reads(3)])).toEqual([]);
  });

  it('counts old records in the window as context, but raises nothing for a window without new records', () => {
    const old = reads(4, { isNew: false });
    expect(rule.evaluate(old)).toEqual([]);
    expect(rule.evaluate([...old.slice(0, 3), rec({ caseId: '00000000-0000-4000-8000-000000000009', occurredAt: new Date('2026-11-25T10:30:00Z') })])).toHaveLength(1);
  });
});

describe('OffTeamReadRule', () => {
  const rule = new OffTeamReadRule(new Set(['clearing_house_manager', 'riep_facilitator']), 'Europe/London');

  it('flags a configured role reading a case it was not on the team of; not a team member, not another role', () => {
    expect(rule.evaluate([rec({ onTeam: true })])).toEqual([]);
    expect(rule.evaluate([rec({ onTeam: false, actorRole: 'clearing_house_officer' })])).toEqual([]);
    const flags = rule.evaluate([rec({ onTeam: false }), rec({ onTeam: false, action: 'list' })]);
    expect(flags).toHaveLength(1);
    expect(flags[0]).toMatchObject({ rule: FlagRuleId.OffTeamRead, caseId: CASE, userId: USER });
    expect(flags[0].evidence).toHaveLength(2);
  });

  it('leaves reads under break-glass and writes to their own rules', () => {
    expect(rule.evaluate([rec({ onTeam: false, rule: 'break_glass' }), rec({ onTeam: false, action: 'update' })])).toEqual([]);
  });
});

describe('BreakGlassUseRule', () => {
  const rule = new BreakGlassUseRule('Europe/London');

  it('flags a grant, a refused attempt and the reads under it, one flag per user, case and day', () => {
    const flags = rule.evaluate([
      rec({ action: 'break_glass', resourceType: 'break_glass_grant' }), rec({ action: 'break_glass', outcome: 'denied', resourceType: 'break_glass_grant' }), rec({ rule: 'break_glass' }),
    ]);
    expect(flags).toHaveLength(1);
    expect(flags[0].details).toEqual({ granted: 1, refused: 1, readsUnderGrant: 1 });
  });

  it('does not flag ordinary reads', () => {
    expect(rule.evaluate([rec(), rec({ onTeam: false })])).toEqual([]);
  });
});

describe('RepeatedRefusalsRule', () => {
  const rule = new RepeatedRefusalsRule(3, 15);
  const denied = (n: number, over: Partial<ScannedRecord> = {}) =>
    Array.from({ length: n }, (_, i) => rec({ outcome: 'denied', occurredAt: new Date(`2026-11-25T10:0${i}:00Z`), ...over }));

  it('flags N refusals in a window, not N - 1', () => {
    expect(rule.evaluate(denied(2))).toEqual([]);
    expect(rule.evaluate(denied(3))).toEqual([expect.objectContaining({ rule: FlagRuleId.RepeatedRefusals, subjectKey: USER, details: { refusals: 3, threshold: 3, windowMinutes: 15 } })]);
  });

  it('does not add up refusals from different windows', () => {
    expect(rule.evaluate([...denied(2), rec({ outcome: 'denied', occurredAt: new Date('2026-11-25T10:20:00Z') })])).toEqual([]);
  });

  it('counts refusals without a signed-in user by client address', () => {
    expect(rule.evaluate(denied(3, { actorId: null }))).toEqual([expect.objectContaining({ subjectKey: 'ip:10.0.0.1', userId: null })]);
  });
});
