import { AuditAction, AuditOutcome, ResourceType } from '../audit/audit-event';

/**
 * The rules that flag unusual access for an auditor to look at. Each is a plain class over
 * audit records (ids, times, actions: never content) with its thresholds given to it, so that
 * it can be tested on its own; the scanner (flag-scanner.service.ts) feeds them the records
 * sealed since its last scan, and stores each candidate once per rule, subject and window.
 */
export enum FlagRuleId {
  OutsideWorkingHours = 'outside_working_hours',
  BulkReading = 'bulk_reading',
  OffTeamRead = 'off_team_read',
  BreakGlassUse = 'break_glass_use',
  RepeatedRefusals = 'repeated_refusals',
}

/** Records that are about a case's content (not the auditors' searches that name a case). */
export const CASE_CONTENT_RESOURCES: readonly string[] = [
  ResourceType.Case, ResourceType.Concern, ResourceType.ConcernSource, ResourceType.Conversation, ResourceType.Meeting,
  ResourceType.Support, ResourceType.ProgressNote, ResourceType.Team, ResourceType.History,
];

const READ_ACTIONS: readonly string[] = [AuditAction.Read, AuditAction.List];

/** One sealed audit record as the rules see it. */
export interface ScannedRecord {
  seq: number;
  id: string;
  occurredAt: Date;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  resourceType: string;
  caseId: string | null;
  outcome: string;
  rule: string | null;
  clientIp: string | null;
  /** The actor was a current member of the case's team at the moment of the record. */
  onTeam: boolean;
  /** Sealed since the last scan (older records are given only as context for window rules). */
  isNew: boolean;
}

export interface Evidence {
  seq: number;
  id: string;
}

export interface FlagCandidate {
  rule: FlagRuleId;
  /** A user id, or `ip:<address>` for refusals when nobody was signed in. */
  subjectKey: string;
  userId: string | null;
  caseId: string | null;
  windowStart: Date;
  windowEnd: Date;
  evidence: Evidence[];
  details: Record<string, unknown>;
}

export interface FlagRule {
  readonly id: FlagRuleId;
  evaluate(records: readonly ScannedRecord[]): FlagCandidate[];
}

/** An allowed access to a case's content by a signed-in person. */
export function isCaseAccess(r: ScannedRecord): boolean {
  return r.outcome === AuditOutcome.Allowed && r.actorId !== null && r.caseId !== null && CASE_CONTENT_RESOURCES.includes(r.resourceType);
}

export function isCaseRead(r: ScannedRecord): boolean {
  return isCaseAccess(r) && READ_ACTIONS.includes(r.action);
}

interface LocalTime {
  date: string; // YYYY-MM-DD
  hour: number;
  weekday: number; // 0 Sunday .. 6 Saturday
  /** The zone's offset from UTC at that instant, in milliseconds. */
  offsetMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock date, hour and weekday of an instant in a time zone (daylight saving included). */
export function localTime(at: Date, timeZone: string): LocalTime {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday);
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return { date: `${p.year}-${p.month}-${p.day}`, hour: Number(p.hour), weekday, offsetMs: wall - Math.floor(at.getTime() / 1000) * 1000 };
}

/** The instant a local date starts in a time zone (its midnight). */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number);
  const wallMidnight = Date.UTC(y, m - 1, d);
  // The offset at UTC midnight is a first guess; the offset at that guess settles it (clock changes happen at night, not at midnight, in Europe).
  const guess = wallMidnight - localTime(new Date(wallMidnight), timeZone).offsetMs;
  return new Date(wallMidnight - localTime(new Date(guess), timeZone).offsetMs);
}

function localDayWindow(at: Date, timeZone: string): { key: string; start: Date; end: Date } {
  const { date } = localTime(at, timeZone);
  const start = startOfLocalDay(date, timeZone);
  const next = new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)) + 1)).toISOString().slice(0, 10);
  return { key: date, start, end: startOfLocalDay(next, timeZone) };
}

function fixedWindow(at: Date, minutes: number): { key: string; start: Date; end: Date } {
  const size = minutes * 60_000;
  const start = Math.floor(at.getTime() / size) * size;
  return { key: String(start), start: new Date(start), end: new Date(start + size) };
}

function evidenceOf(records: readonly ScannedRecord[]): Evidence[] {
  return [...records].sort((a, b) => a.seq - b.seq).map((r) => ({ seq: r.seq, id: r.id }));
}

function groupBy<K extends string>(records: readonly ScannedRecord[], key: (r: ScannedRecord) => K | null): Map<K, ScannedRecord[]> {
  const groups = new Map<K, ScannedRecord[]>();
  for (const r of records) {
    const k = key(r);
    if (k === null) continue;
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

export interface WorkingHours {
  startHour: number;
  endHour: number;
  weekends: boolean;
  timeZone: string;
}

/** A case access before the working day starts, from its end on, or (when so configured) at a weekend; one flag per user per local day. */
export class OutsideWorkingHoursRule implements FlagRule {
  readonly id = FlagRuleId.OutsideWorkingHours;

  constructor(private readonly hours: WorkingHours) {}

  isOutside(at: Date): boolean {
    const t = localTime(at, this.hours.timeZone);
    if (this.hours.weekends && (t.weekday === 0 || t.weekday === 6)) return true;
    return t.hour < this.hours.startHour || t.hour >= this.hours.endHour;
  }

  evaluate(records: readonly ScannedRecord[]): FlagCandidate[] {
    const hits = records.filter((r) => r.isNew && isCaseAccess(r) && this.isOutside(r.occurredAt));
    const groups = groupBy(hits, (r) => `${r.actorId}|${localTime(r.occurredAt, this.hours.timeZone).date}`);
    return [...groups.values()].map((group) => {
      const w = localDayWindow(group[0].occurredAt, this.hours.timeZone);
      return {
        rule: this.id, subjectKey: group[0].actorId!, userId: group[0].actorId, caseId: null, windowStart: w.start, windowEnd: w.end,
        evidence: evidenceOf(group),
        details: { workingHours: `${this.hours.startHour}:00-${this.hours.endHour}:00 ${this.hours.timeZone}`, weekends: this.hours.weekends, cases: new Set(group.map((r) => r.caseId)).size },
      };
    });
  }
}

/** More than `maxCases` distinct cases read by one user within one fixed window. */
export class BulkReadingRule implements FlagRule {
  readonly id = FlagRuleId.BulkReading;

  constructor(private readonly maxCases: number, private readonly windowMinutes: number) {}

  evaluate(records: readonly ScannedRecord[]): FlagCandidate[] {
    const reads = records.filter(isCaseRead);
    const groups = groupBy(reads, (r) => `${r.actorId}|${fixedWindow(r.occurredAt, this.windowMinutes).key}`);
    const out: FlagCandidate[] = [];
    for (const group of groups.values()) {
      if (!group.some((r) => r.isNew)) continue; // an old window: judged when its records were new
      const cases = new Set(group.map((r) => r.caseId));
      if (cases.size <= this.maxCases) continue;
      const w = fixedWindow(group[0].occurredAt, this.windowMinutes);
      out.push({
        rule: this.id, subjectKey: group[0].actorId!, userId: group[0].actorId, caseId: null, windowStart: w.start, windowEnd: w.end,
        evidence: evidenceOf(group), details: { distinctCases: cases.size, threshold: this.maxCases, windowMinutes: this.windowMinutes },
      });
    }
    return out;
  }
}

/**
 * A read of a case by someone who was not on its team at that moment, for the configured roles
 * (README explains the default for each role). Reads under break-glass are the break-glass rule's.
 * One flag per user, case and local day.
 */
export class OffTeamReadRule implements FlagRule {
  readonly id = FlagRuleId.OffTeamRead;

  constructor(private readonly roles: ReadonlySet<string>, private readonly timeZone: string) {}

  evaluate(records: readonly ScannedRecord[]): FlagCandidate[] {
    const hits = records.filter((r) => r.isNew && isCaseRead(r) && !r.onTeam && r.rule !== 'break_glass' && r.actorRole !== null && this.roles.has(r.actorRole));
    const groups = groupBy(hits, (r) => `${r.actorId}|${r.caseId}|${localTime(r.occurredAt, this.timeZone).date}`);
    return [...groups.values()].map((group) => {
      const w = localDayWindow(group[0].occurredAt, this.timeZone);
      return {
        rule: this.id, subjectKey: group[0].actorId!, userId: group[0].actorId, caseId: group[0].caseId, windowStart: w.start, windowEnd: w.end,
        evidence: evidenceOf(group), details: { role: group[0].actorRole },
      };
    });
  }
}

/** Every break-glass grant (or refused attempt) and the reads made under it; one flag per user, case and local day. */
export class BreakGlassUseRule implements FlagRule {
  readonly id = FlagRuleId.BreakGlassUse;

  constructor(private readonly timeZone: string) {}

  evaluate(records: readonly ScannedRecord[]): FlagCandidate[] {
    const hits = records.filter((r) => r.isNew && r.actorId !== null && r.caseId !== null && (r.action === AuditAction.BreakGlass || r.rule === 'break_glass'));
    const groups = groupBy(hits, (r) => `${r.actorId}|${r.caseId}|${localTime(r.occurredAt, this.timeZone).date}`);
    return [...groups.values()].map((group) => {
      const w = localDayWindow(group[0].occurredAt, this.timeZone);
      const grants = group.filter((r) => r.action === AuditAction.BreakGlass);
      return {
        rule: this.id, subjectKey: group[0].actorId!, userId: group[0].actorId, caseId: group[0].caseId, windowStart: w.start, windowEnd: w.end,
        evidence: evidenceOf(group),
        details: { granted: grants.filter((r) => r.outcome === AuditOutcome.Allowed).length, refused: grants.filter((r) => r.outcome === AuditOutcome.Denied).length, readsUnderGrant: group.length - grants.length },
      };
    });
  }
}

/** At least `minRefusals` refused requests by one user (or from one address, signed out) within one fixed window. */
export class RepeatedRefusalsRule implements FlagRule {
  readonly id = FlagRuleId.RepeatedRefusals;

  constructor(private readonly minRefusals: number, private readonly windowMinutes: number) {}

  static subjectOf(r: Pick<ScannedRecord, 'actorId' | 'clientIp'>): string | null {
    if (r.actorId) return r.actorId;
    return r.clientIp ? `ip:${r.clientIp}` : null;
  }

  evaluate(records: readonly ScannedRecord[]): FlagCandidate[] {
    const denied = records.filter((r) => r.outcome === AuditOutcome.Denied);
    const groups = groupBy(denied, (r) => {
      const subject = RepeatedRefusalsRule.subjectOf(r);
      return subject ? `${subject}|${fixedWindow(r.occurredAt, this.windowMinutes).key}` : null;
    });
    const out: FlagCandidate[] = [];
    for (const group of groups.values()) {
      if (!group.some((r) => r.isNew) || group.length < this.minRefusals) continue;
      const w = fixedWindow(group[0].occurredAt, this.windowMinutes);
      out.push({
        rule: this.id, subjectKey: RepeatedRefusalsRule.subjectOf(group[0])!, userId: group[0].actorId, caseId: null, windowStart: w.start, windowEnd: w.end,
        evidence: evidenceOf(group), details: { refusals: group.length, threshold: this.minRefusals, windowMinutes: this.windowMinutes },
      });
    }
    return out;
  }
}

export interface FlagRulesConfig {
  workingHours: WorkingHours;
  bulkCases: number;
  bulkWindowMinutes: number;
  refusals: number;
  refusalsWindowMinutes: number;
  offTeamRoles: string[];
}

export function buildFlagRules(c: FlagRulesConfig): FlagRule[] {
  return [
    new OutsideWorkingHoursRule(c.workingHours),
    new BulkReadingRule(c.bulkCases, c.bulkWindowMinutes),
    new OffTeamReadRule(new Set(c.offTeamRoles), c.workingHours.timeZone),
    new BreakGlassUseRule(c.workingHours.timeZone),
    new RepeatedRefusalsRule(c.refusals, c.refusalsWindowMinutes),
  ];
}

/** The longest window any rule looks back over, for loading context records. */
export function contextMinutes(c: FlagRulesConfig): number {
  return Math.max(c.bulkWindowMinutes, c.refusalsWindowMinutes);
}
