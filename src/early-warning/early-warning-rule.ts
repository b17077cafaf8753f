/** Signals that, taken together, show a council may be heading for difficulty (seed paper 002, 14.4). */
export enum AuthoritySignal {
  ChangeOfPoliticalControl = 'change_of_political_control',
  SeniorManagementChange = 'senior_management_change',
  PoorInspection = 'poor_inspection',
  FinancialDifficulty = 'financial_difficulty',
  MemberOfficerRelations = 'member_officer_relations',
  SelfReferral = 'self_referral',
}

export interface SignalObservation {
  signal: AuthoritySignal;
  observedOn: string; // YYYY-MM-DD
}

export interface Commitments {
  signedStatementOn: string | null;
  lastSelfEvaluationOn: string | null;
  lastPeerChallengeOn: string | null;
}

/** The rule, as configuration: no black box. */
export interface EarlyWarningRule {
  /** Signals older than this do not count. */
  signalWindowMonths: number;
  /** Flag when at least this many different kinds of signal were seen in the window. */
  minDistinctSignals: number;
  /** A self-evaluation is expected every year; overdue after this many months. */
  selfEvaluationOverdueMonths: number;
  /** A peer challenge every three to four years; overdue after this many years. */
  peerChallengeOverdueYears: number;
}

export enum FlagReason {
  SeveralRecentSignals = 'several_recent_signals',
  StatementNotSigned = 'statement_not_signed',
  SelfEvaluationOverdue = 'self_evaluation_overdue',
  PeerChallengeOverdue = 'peer_challenge_overdue',
}

export interface Evaluation {
  flagged: boolean;
  reasons: FlagReason[];
  recentSignals: AuthoritySignal[];
}

function monthsBefore(date: Date, months: number): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - months, date.getUTCDate()));
  return d.toISOString().slice(0, 10);
}

/**
 * Pure: whether an authority should be on the early-warning list, and why. Once commitments
 * are recorded, a missing self-evaluation or peer challenge counts as overdue and a missing
 * statement signature is a reason; with none recorded only signals count.
 */
export function evaluateAuthority(signals: SignalObservation[], commitments: Commitments | null, now: Date, rule: EarlyWarningRule): Evaluation {
  const since = monthsBefore(now, rule.signalWindowMonths);
  const today = now.toISOString().slice(0, 10);
  const recentSignals = [...new Set(signals.filter((s) => s.observedOn >= since && s.observedOn <= today).map((s) => s.signal))].sort();
  const reasons: FlagReason[] = [];
  if (recentSignals.length >= rule.minDistinctSignals) reasons.push(FlagReason.SeveralRecentSignals);
  // An authority whose commitments nobody has recorded yet is unknown, not overdue.
  if (commitments) {
    if (!commitments.signedStatementOn) reasons.push(FlagReason.StatementNotSigned);
    if (!commitments.lastSelfEvaluationOn || commitments.lastSelfEvaluationOn < monthsBefore(now, rule.selfEvaluationOverdueMonths)) {
      reasons.push(FlagReason.SelfEvaluationOverdue);
    }
    if (!commitments.lastPeerChallengeOn || commitments.lastPeerChallengeOn < monthsBefore(now, rule.peerChallengeOverdueYears * 12)) {
      reasons.push(FlagReason.PeerChallengeOverdue);
    }
  }
  // Signals flag on their own; overdue commitments flag only alongside at least one recent signal
  // or when two or more are overdue, so the list stays short enough to act on.
  const commitmentReasons = reasons.filter((r) => r !== FlagReason.SeveralRecentSignals);
  const flagged = reasons.includes(FlagReason.SeveralRecentSignals) || commitmentReasons.length >= 2 || (commitmentReasons.length >= 1 && recentSignals.length >= 1);
  return { flagged, reasons, recentSignals };
}
