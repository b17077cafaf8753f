import { CaseHandling, ItemHandling } from '../access-control/handling';
import { CaseRow } from '../access-control/case-file-transaction';
import { CaseOutcome, CaseState, GovernmentPower } from '../workflow/case-state';
import { ConcernArea, ConcernChannel, EarlyWarningSignal } from './concern.types';
import { CaseSummaryDto, ConcernDto } from './dto';

export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
export const isoDate = (d: Date | string): string => (typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

export function toCaseSummary(row: Pick<CaseRow, 'id' | 'reference' | 'authority_id' | 'authority_code' | 'authority_name' | 'authority_region' | 'state' | 'handling' | 'opened_at' | 'updated_at' | 'version'>): CaseSummaryDto {
  return {
    id: row.id,
    reference: row.reference,
    authority: { id: row.authority_id, code: row.authority_code, name: row.authority_name, region: row.authority_region },
    state: row.state,
    handling: row.handling as CaseHandling,
    openedAt: iso(row.opened_at)!,
    updatedAt: iso(row.updated_at)!,
    version: row.version,
  };
}

export function caseExtras(row: CaseRow) {
  return {
    team: row.team.map((m) => ({ ...m, addedAt: iso(m.addedAt)! })),
    governmentTrigger:
      row.government_department && row.government_power
        ? { department: row.government_department, power: row.government_power as GovernmentPower, recordedAt: iso(row.government_trigger_at)! }
        : null,
    referredToRiepAt: iso(row.referred_to_riep_at),
    outcome: row.outcome as CaseOutcome | null,
    outcomeReason: row.outcome_reason,
    closedAt: iso(row.closed_at),
    restriction: { restrictedToTeam: row.restricted_to_team, restrictedBy: row.restricted_by, restrictedAt: iso(row.restricted_at) },
  };
}

export interface ConcernRow {
  id: string;
  case_id: string;
  received_on: string;
  channel: ConcernChannel;
  area: ConcernArea;
  description: string;
  signals: EarlyWarningSignal[];
  handling: ItemHandling;
  named_user_ids: string[];
  logged_by: string;
  logged_at: Date;
  has_source: boolean;
}

/** Never the source's identity: only whether there is one (its identity is in src/source-identity). */
export function toConcernDto(r: ConcernRow): ConcernDto {
  return {
    id: r.id,
    caseId: r.case_id,
    receivedOn: isoDate(r.received_on),
    channel: r.channel,
    area: r.area,
    description: r.description,
    signals: r.signals,
    handling: r.handling,
    namedUserIds: r.named_user_ids,
    hasSource: r.has_source,
    loggedBy: r.logged_by,
    loggedAt: iso(r.logged_at)!,
  };
}

export type { CaseState };
