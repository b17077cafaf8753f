import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditSealer } from '../audit/sealer';
import { AppConfig } from '../config/app-config';
import { buildFlagRules, CASE_CONTENT_RESOURCES, contextMinutes, Evidence, FlagCandidate, FlagRule, FlagRulesConfig, ScannedRecord } from './flag-rules';

/** Key of the advisory lock that keeps one scan at a time across every instance. */
export const FLAG_SCAN_LOCK_KEY = 7_413_002;
/** New records examined per transaction. */
const SCAN_BATCH = 5_000;
/** Evidence kept per flag (record ids and sequence numbers); `record_count` keeps counting beyond it. */
const EVIDENCE_CAP = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ScanResult {
  scanned: number;
  raised: number;
  lastSeq: number;
}

interface RecordRow {
  seq: string;
  id: string;
  occurred_at: Date;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  resource_type: string;
  case_id: string | null;
  outcome: string;
  rule: string | null;
  client_ip: string | null;
  on_team: boolean;
}

const RECORD_SELECT = `
  SELECT s.seq, e.id, e.occurred_at, e.actor_id, e.actor_role, e.action, e.resource_type, e.case_id, e.outcome, e.rule, e.client_ip,
         -- "On the team": a member at the moment of the record, or the person who logged the case (a definer function: row-level security must not hide the team).
         (e.case_id IS NOT NULL AND e.actor_id IS NOT NULL AND audit_on_case_team(e.case_id, e.actor_id, e.occurred_at)) AS on_team
    FROM audit_seals s JOIN audit_events e ON e.id = s.event_id AND e.occurred_at = s.event_occurred_at`;

export function flagRulesConfig(config: AppConfig): FlagRulesConfig {
  return {
    workingHours: {
      startHour: config.get('AUDIT_FLAG_WORKDAY_START_HOUR'), endHour: config.get('AUDIT_FLAG_WORKDAY_END_HOUR'),
      weekends: config.get('AUDIT_FLAG_WEEKENDS'), timeZone: config.get('AUDIT_FLAG_TIMEZONE'),
    },
    bulkCases: config.get('AUDIT_FLAG_BULK_CASES'),
    bulkWindowMinutes: config.get('AUDIT_FLAG_BULK_WINDOW_MINUTES'),
    refusals: config.get('AUDIT_FLAG_REFUSALS'),
    refusalsWindowMinutes: config.get('AUDIT_FLAG_REFUSALS_WINDOW_MINUTES'),
    offTeamRoles: config.get('AUDIT_FLAG_OFF_TEAM_ROLES').split(',').filter(Boolean),
  };
}

/**
 * Scans sealed audit records past a watermark (their sequence number: gapless, and only ever
 * given to records of ended transactions, so nothing can appear behind it) with the flag rules,
 * and stores each candidate once per rule, subject and window. An open flag gains the evidence
 * of later records in its window; a reviewed one is left as it was reviewed. Running it twice,
 * or from two instances at once, raises nothing twice.
 */
@Injectable()
export class FlagScanner {
  private readonly logger = new Logger(FlagScanner.name);
  private readonly rulesConfig: FlagRulesConfig;
  private readonly rules: FlagRule[];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sealer: AuditSealer,
    config: AppConfig,
  ) {
    this.rulesConfig = flagRulesConfig(config);
    this.rules = buildFlagRules(this.rulesConfig);
  }

  /** Seals what can be sealed (waiting out another instance's sealing pass), then scans everything sealed. */
  async sealAndScan(): Promise<ScanResult> {
    await this.sealOnly();
    return this.scan();
  }

  /** Seals what can be sealed now; if another instance holds the sealer's lock, waits (a little) for its pass. */
  async sealOnly(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      if (!(await this.sealer.sealAll()).skipped) return;
      await sleep(100);
    }
  }

  async scan(): Promise<ScanResult> {
    const total: ScanResult = { scanned: 0, raised: 0, lastSeq: 0 };
    for (;;) {
      const pass = await this.scanBatch();
      total.scanned += pass.scanned;
      total.raised += pass.raised;
      total.lastSeq = pass.lastSeq;
      if (pass.scanned < SCAN_BATCH) break;
    }
    if (total.raised) this.logger.log({ scanned: total.scanned, raised: total.raised }, 'audit flags raised');
    return total;
  }

  private async scanBatch(): Promise<ScanResult> {
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock($1)`, [FLAG_SCAN_LOCK_KEY]);
      const [{ last_seq }] = await m.query(`SELECT last_seq FROM audit_flag_watermarks WHERE scanner = 'flags' FOR UPDATE`);
      const from = Number(last_seq);
      const fresh: RecordRow[] = await m.query(`${RECORD_SELECT} WHERE s.seq > $1 AND s.seq <= $2 ORDER BY s.seq`, [from, from + SCAN_BATCH]);
      if (fresh.length === 0) return { scanned: 0, raised: 0, lastSeq: from };
      const upTo = Number(fresh[fresh.length - 1].seq);
      const records = [...fresh.map((r) => toScanned(r, true)), ...(await this.context(m, fresh, from))];
      let raised = 0;
      for (const rule of this.rules) {
        for (const candidate of rule.evaluate(records)) raised += (await this.store(m, candidate)) ? 1 : 0;
      }
      await m.query(`UPDATE audit_flag_watermarks SET last_seq = $1, scanned_at = now() WHERE scanner = 'flags'`, [upTo]);
      return { scanned: fresh.length, raised, lastSeq: upTo };
    });
  }

  /**
   * Older sealed records in the windows the new ones fall in, for the window rules (bulk reading,
   * repeated refusals): only those of the same people, and only reads of cases and refusals.
   */
  private async context(m: EntityManager, fresh: RecordRow[], watermark: number): Promise<ScannedRecord[]> {
    const reach = contextMinutes(this.rulesConfig) * 60_000;
    const times = fresh.map((r) => new Date(r.occurred_at).getTime());
    const actors = [...new Set(fresh.map((r) => r.actor_id).filter((a): a is string => a !== null))];
    const ips = [...new Set(fresh.filter((r) => r.actor_id === null && r.client_ip).map((r) => r.client_ip as string))];
    const rows: RecordRow[] = await m.query(
      `${RECORD_SELECT}
        WHERE s.seq <= $1 AND e.occurred_at >= $2 AND e.occurred_at < $3
          AND (e.actor_id = ANY($4::uuid[]) OR (e.actor_id IS NULL AND e.client_ip = ANY($5::text[])))
          AND (e.outcome = 'denied' OR (e.case_id IS NOT NULL AND e.resource_type = ANY($6::text[])))
        ORDER BY s.seq`,
      [watermark, new Date(Math.min(...times) - reach), new Date(Math.max(...times) + reach), actors, ips, CASE_CONTENT_RESOURCES],
    );
    return rows.map((r) => toScanned(r, false));
  }

  /** Inserts a new flag (true) or adds evidence to the open flag of the same rule, subject and window. */
  private async store(m: EntityManager, c: FlagCandidate): Promise<boolean> {
    const inserted: Array<{ id: string }> = await m.query(
      `INSERT INTO audit_flags (rule, subject_key, user_id, case_id, window_start, window_end, evidence, record_count, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (rule, subject_key, coalesce(case_id, '00000000-0000-0000-0000-000000000000'::uuid), window_start) DO NOTHING RETURNING id`,
      [c.rule, c.subjectKey, c.userId, c.caseId, c.windowStart, c.windowEnd, JSON.stringify(c.evidence.slice(0, EVIDENCE_CAP)), c.evidence.length, JSON.stringify(c.details)],
    );
    if (inserted.length) return true;
    const [existing]: Array<{ id: string; state: string; evidence: Evidence[]; record_count: number }> = await m.query(
      `SELECT id, state, evidence, record_count FROM audit_flags
        WHERE rule = $1 AND subject_key = $2 AND case_id IS NOT DISTINCT FROM $3 AND window_start = $4 FOR UPDATE`,
      [c.rule, c.subjectKey, c.caseId, c.windowStart],
    );
    if (!existing || existing.state !== 'open') return false;
    const known = new Set(existing.evidence.map((e) => e.seq));
    const added = c.evidence.filter((e) => !known.has(e.seq));
    if (added.length === 0) return false;
    const merged = [...existing.evidence, ...added].sort((a, b) => a.seq - b.seq).slice(0, EVIDENCE_CAP);
    await m.query(`UPDATE audit_flags SET evidence = $2, record_count = $3, details = $4 WHERE id = $1`, [
      existing.id, JSON.stringify(merged), Math.max(existing.record_count + added.length, c.evidence.length), JSON.stringify(c.details),
    ]);
    return false;
  }
}

function toScanned(r: RecordRow, isNew: boolean): ScannedRecord {
  return {
    seq: Number(r.seq), id: r.id, occurredAt: new Date(r.occurred_at), actorId: r.actor_id, actorRole: r.actor_role, action: r.action,
    resourceType: r.resource_type, caseId: r.case_id, outcome: r.outcome, rule: r.rule, clientIp: r.client_ip, onTeam: r.on_team, isNew,
  };
}
