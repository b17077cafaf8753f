import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { NotFoundError, ValidationError, VersionConflictError } from '../common/domain-error';
import { AppConfig } from '../config/app-config';
import { AuthorityEarlyWarningDto, CommitmentsDto, FlagListDto, RecordSignalDto, SignalDto } from './dto';
import { AuthoritySignal, Commitments, EarlyWarningRule, evaluateAuthority } from './early-warning-rule';

interface AuthorityRow {
  id: string;
  code: string;
  name: string;
  region: string | null;
}

const COMMITMENT_COLUMNS = `to_char(signed_statement_on, 'YYYY-MM-DD') AS "signedStatementOn", to_char(last_self_evaluation_on, 'YYYY-MM-DD') AS "lastSelfEvaluationOn",
  to_char(last_peer_challenge_on, 'YYYY-MM-DD') AS "lastPeerChallengeOn", version`;

@Injectable()
export class EarlyWarningService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly audit: AuditWriter,
  ) {}

  get rule(): EarlyWarningRule {
    return {
      signalWindowMonths: this.config.get('EW_SIGNAL_WINDOW_MONTHS'),
      minDistinctSignals: this.config.get('EW_MIN_DISTINCT_SIGNALS'),
      selfEvaluationOverdueMonths: this.config.get('EW_SELF_EVALUATION_OVERDUE_MONTHS'),
      peerChallengeOverdueYears: this.config.get('EW_PEER_CHALLENGE_OVERDUE_YEARS'),
    };
  }

  recordSignal(actor: RequestActor, code: string, dto: RecordSignalDto): Promise<SignalDto> {
    if (dto.observedOn > new Date().toISOString().slice(0, 10)) {
      throw new ValidationError([{ field: 'observedOn', messages: ['observedOn must not be in the future'] }]);
    }
    return this.dataSource.transaction(async (m) => {
      const authority = await this.authority(m, code);
      const [row] = await m.query(
        `INSERT INTO authority_signals (authority_id, signal, observed_on, note, recorded_by) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, signal, to_char(observed_on, 'YYYY-MM-DD') AS "observedOn", note, recorded_by AS "recordedBy", recorded_at AS "recordedAt"`,
        [authority.id, dto.signal, dto.observedOn, dto.note ?? null, actor.userId],
      );
      await this.record(m, actor, AuditAction.Create, authority.code);
      return { ...row, recordedAt: new Date(row.recordedAt).toISOString() };
    });
  }

  setCommitments(actor: RequestActor, code: string, dto: CommitmentsDto): Promise<AuthorityEarlyWarningDto> {
    return this.dataSource.transaction(async (m) => {
      const authority = await this.authority(m, code);
      const [current]: Array<{ version: number }> = await m.query(`SELECT version FROM authority_commitments WHERE authority_id = $1 FOR UPDATE`, [authority.id]);
      if (current && current.version !== dto.version) throw new VersionConflictError('The commitments');
      if (!current && dto.version !== undefined) throw new VersionConflictError('The commitments');
      // Absent fields keep their value; null clears one.
      await m.query(
        `INSERT INTO authority_commitments (authority_id, signed_statement_on, last_self_evaluation_on, last_peer_challenge_on, updated_by)
         VALUES ($1, $2::date, $3::date, $4::date, $5)
         ON CONFLICT (authority_id) DO UPDATE SET
           signed_statement_on = CASE WHEN $6 THEN EXCLUDED.signed_statement_on ELSE authority_commitments.signed_statement_on END,
           last_self_evaluation_on = CASE WHEN $7 THEN EXCLUDED.last_self_evaluation_on ELSE authority_commitments.last_self_evaluation_on END,
           last_peer_challenge_on = CASE WHEN $8 THEN EXCLUDED.last_peer_challenge_on ELSE authority_commitments.last_peer_challenge_on END,
           updated_by = EXCLUDED.updated_by, updated_at = now(), version = authority_commitments.version + 1`,
        [
          authority.id, dto.signedStatementOn ?? null, dto.lastSelfEvaluationOn ?? null, dto.lastPeerChallengeOn ?? null, actor.userId,
          dto.signedStatementOn !== undefined, dto.lastSelfEvaluationOn !== undefined, dto.lastPeerChallengeOn !== undefined,
        ],
      );
      await this.record(m, actor, AuditAction.Update, authority.code);
      return this.view(m, authority);
    });
  }

  get(actor: RequestActor, code: string): Promise<AuthorityEarlyWarningDto> {
    return this.dataSource.transaction(async (m) => {
      const authority = await this.authority(m, code);
      await this.record(m, actor, AuditAction.Read, authority.code);
      return this.view(m, authority);
    });
  }

  /** Authorities the rule flags, with the reasons; the rule itself travels with the list. */
  flagged(actor: RequestActor, now = new Date()): Promise<FlagListDto> {
    return this.dataSource.transaction(async (m) => {
      const rule = this.rule;
      const rows: Array<AuthorityRow & { signals: Array<{ signal: AuthoritySignal; observedOn: string }>; commitments: Commitments | null }> = await m.query(
        `SELECT a.id, a.code, a.official_name AS name, a.region,
                coalesce((SELECT jsonb_agg(jsonb_build_object('signal', s.signal, 'observedOn', to_char(s.observed_on, 'YYYY-MM-DD')))
                            FROM authority_signals s WHERE s.authority_id = a.id AND s.observed_on >= $1::date - make_interval(months => $2)), '[]') AS signals,
                (SELECT jsonb_build_object('signedStatementOn', c.signed_statement_on, 'lastSelfEvaluationOn', c.last_self_evaluation_on, 'lastPeerChallengeOn', c.last_peer_challenge_on)
                   FROM authority_commitments c WHERE c.authority_id = a.id) AS commitments
           FROM authorities a WHERE a.is_current ORDER BY a.official_name`,
        [now.toISOString().slice(0, 10), rule.signalWindowMonths],
      );
      await this.record(m, actor, AuditAction.List, null);
      return {
        rule,
        authorities: rows
          .map((r) => ({ r, e: evaluateAuthority(r.signals, r.commitments, now, rule) }))
          // Sorted: most recent signals first, then most reasons.
          .filter(({ e }) => e.flagged)
          .sort((x, y) => y.e.recentSignals.length - x.e.recentSignals.length || y.e.reasons.length - x.e.reasons.length || x.r.name.localeCompare(y.r.name))
          .map(({ r, e }) => ({ code: r.code, name: r.name, region: r.region, reasons: e.reasons, recentSignals: e.recentSignals })),
      };
    });
  }

  private async view(m: EntityManager, authority: AuthorityRow): Promise<AuthorityEarlyWarningDto> {
    const signals = await m.query(
      `SELECT id, signal, to_char(observed_on, 'YYYY-MM-DD') AS "observedOn", note, recorded_by AS "recordedBy", recorded_at AS "recordedAt"
         FROM authority_signals WHERE authority_id = $1 ORDER BY observed_on DESC, recorded_at DESC`,
      [authority.id],
    );
    const [commitments] = await m.query(`SELECT ${COMMITMENT_COLUMNS} FROM authority_commitments WHERE authority_id = $1`, [authority.id]);
    const view = commitments ?? { signedStatementOn: null, lastSelfEvaluationOn: null, lastPeerChallengeOn: null, version: null };
    return {
      code: authority.code,
      name: authority.name,
      region: authority.region,
      signals: signals.map((s: SignalDto & { recordedAt: Date | string }) => ({ ...s, recordedAt: new Date(s.recordedAt).toISOString() })),
      commitments: view,
      evaluation: evaluateAuthority(signals, commitments ?? null, new Date(), this.rule),
    };
  }

  private async authority(m: EntityManager, code: string): Promise<AuthorityRow> {
    const [row]: AuthorityRow[] = await m.query(`SELECT id, code, official_name AS name, region FROM authorities WHERE code = $1 OR gss_code = $1`, [code]);
    if (!row) throw new NotFoundError('Authority');
    return row;
  }

  private record(m: EntityManager, actor: RequestActor, action: AuditAction, authorityCode: string | null): Promise<void> {
    return this.audit.record(m, actor, { action, resourceType: ResourceType.EarlyWarning, resourceId: authorityCode, outcome: AuditOutcome.Allowed });
  }
}
