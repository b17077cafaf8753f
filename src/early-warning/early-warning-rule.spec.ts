import { AuthoritySignal, EarlyWarningRule, evaluateAuthority, FlagReason } from './early-warning-rule';

const RULE: EarlyWarningRule = { signalWindowMonths: 12, minDistinctSignals: 2, selfEvaluationOverdueMonths: 12, peerChallengeOverdueYears: 4 };
const NOW = new Date('2026-11-29T12:00:00Z');
const GOOD = { signedStatementOn: '2025-01-01', lastSelfEvaluationOn: '2026-06-01', lastPeerChallengeOn: '2024-03-01' };

describe('the early-warning rule', () => {
  it('does not flag an authority with its commitments up to date and one recent signal', () => {
    const e = evaluateAuthority([{ signal: AuthoritySignal.FinancialDifficulty, observedOn: '2026-10-01' }], GOOD, NOW, RULE);
    expect(e).toEqual({ flagged: false, reasons: [], recentSignals: [AuthoritySignal.FinancialDifficulty] });
  });

  it('flags two different recent signals', () => {
    const e = evaluateAuthority(
      [{ signal: AuthoritySignal.FinancialDifficulty, observedOn: '2026-10-01' }, { signal: AuthoritySignal.PoorInspection, observedOn: '2026-02-01' }],
      GOOD, NOW, RULE);
    expect(e.flagged).toBe(true);
    expect(e.reasons).toEqual([FlagReason.SeveralRecentSignals]);
  });

  it('counts the same kind of signal once, and ignores signals outside the window or in the future', () => {
    const e = evaluateAuthority(
      [
        { signal: AuthoritySignal.FinancialDifficulty, observedOn: '2026-10-01' },
        { signal: AuthoritySignal.FinancialDifficulty, observedOn: '2026-09-01' },
        { signal: AuthoritySignal.PoorInspection, observedOn: '2025-10-01' },
        { signal: AuthoritySignal.SelfReferral, observedOn: '2027-01-01' },
      ],
      GOOD, NOW, RULE);
    expect(e.flagged).toBe(false);
    expect(e.recentSignals).toEqual([AuthoritySignal.FinancialDifficulty]);
  });

  it('treats a peer challenge older than four years as overdue, and flags it with a recent signal', () => {
    const commitments = { ...GOOD, lastPeerChallengeOn: '2022-11-01' };
    expect(evaluateAuthority([], commitments, NOW, RULE)).toEqual({ flagged: false, reasons: [FlagReason.PeerChallengeOverdue], recentSignals: [] });
    const e = evaluateAuthority([{ signal: AuthoritySignal.SeniorManagementChange, observedOn: '2026-08-01' }], commitments, NOW, RULE);
    expect(e.flagged).toBe(true);
    expect(e.reasons).toEqual([FlagReason.PeerChallengeOverdue]);
  });

  it('flags two overdue commitments even without signals; missing dates count as overdue', () => {
    const e = evaluateAuthority([], { signedStatementOn: null, lastSelfEvaluationOn: null, lastPeerChallengeOn: null }, NOW, RULE);
    expect(e.flagged).toBe(true);
    expect(e.reasons).toEqual([FlagReason.StatementNotSigned, FlagReason.SelfEvaluationOverdue, FlagReason.PeerChallengeOverdue]);
  });

  it('does not flag an authority whose commitments were never recorded, unless its signals do', () => {
    expect(evaluateAuthority([], null, NOW, RULE)).toEqual({ flagged: false, reasons: [], recentSignals: [] });
    expect(evaluateAuthority(
      [{ signal: AuthoritySignal.SelfReferral, observedOn: '2026-11-01' }, { signal: AuthoritySignal.PoorInspection, observedOn: '2026-10-01' }], null, NOW, RULE,
    ).flagged).toBe(true);
  });

  it('follows the configured thresholds', () => {
    const strict = { ...RULE, minDistinctSignals: 1 };
    expect(evaluateAuthority([{ signal: AuthoritySignal.SelfReferral, observedOn: '2026-11-01' }], GOOD, NOW, strict).flagged).toBe(true);
    const narrow = { ...RULE, signalWindowMonths: 1 };
    expect(
      evaluateAuthority([{ signal: AuthoritySignal.SelfReferral, observedOn: '2026-09-01' }, { signal: AuthoritySignal.PoorInspection, observedOn: '2026-11-20' }], GOOD, NOW, narrow).flagged,
    ).toBe(false);
  });
});
