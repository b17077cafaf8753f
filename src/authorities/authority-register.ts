import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_REGIONS, Region } from '../access-control/role';
import { repoRoot } from '../common/repo-root';
import { AuthorityType } from './authority.entity';

export const REGISTER_CSV = join(repoRoot(), 'src', 'authorities', 'data', 'uk_local_authorities_current.csv');

export interface RegisterRow {
  code: string;
  gssCode: string;
  officialName: string;
  shortName: string;
  type: AuthorityType;
  typeName: string;
  region: Region | null;
  startDate: string | null;
  endDate: string | null;
  isCurrent: boolean;
  replacedBy: string[];
}

const TYPES = new Set<string>(Object.values(AuthorityType));
const REGIONS = new Set<string>(ALL_REGIONS);

/**
 * The English rows of the register. Rows of the other nations are left out: the clearing
 * house serves English councils only. Throws, naming the line, on a row it cannot read.
 */
export function parseRegister(csv: string): RegisterRow[] {
  // `info` gives each record's line in the file, so that an error names the line even though
  // the other nations' rows are filtered out first.
  const records: Array<{ record: Record<string, string>; info: { lines: number } }> = parse(csv, { columns: true, skip_empty_lines: true, trim: true, info: true });
  return records
    .filter(({ record }) => record['nation'] === 'England')
    .map(({ record: r, info }) => {
      const where = `register row ${info.lines} (${r['local-authority-code']})`;
      const type = r['local-authority-type'];
      if (!TYPES.has(type)) throw new Error(`${where}: unknown authority type ${type}`);
      const region = r['region'] || null;
      if (region !== null && !REGIONS.has(region)) throw new Error(`${where}: unknown region ${region}`);
      if (!/^E\d{8}$/.test(r['gss-code'])) throw new Error(`${where}: malformed GSS code`);
      return {
        code: r['local-authority-code'],
        gssCode: r['gss-code'],
        officialName: r['official-name'],
        shortName: r['nice-name'] || r['official-name'],
        type: type as AuthorityType,
        typeName: r['local-authority-type-name'],
        region: region as Region | null,
        startDate: r['start-date'] || null,
        endDate: r['end-date'] || null,
        isCurrent: r['current-authority'] === 'True',
        replacedBy: r['replaced-by'] ? r['replaced-by'].split(',').map((s) => s.trim()).filter(Boolean) : [],
      };
    });
}

export function readRegister(path = REGISTER_CSV): RegisterRow[] {
  return parseRegister(readFileSync(path, 'utf8'));
}
