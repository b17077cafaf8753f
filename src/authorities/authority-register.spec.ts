import { readFileSync } from 'node:fs';
import { Region } from '../access-control/role';
import { parseRegister, readRegister, REGISTER_CSV } from './authority-register';
import { AuthorityType } from './authority.entity';

describe('the authority register', () => {
  const rows = readRegister();
  const csvLines = readFileSync(REGISTER_CSV, 'utf8').split('\n');
  const header = csvLines[0];
  const lineOf = (code: string) => {
    const line = csvLines.find((l) => l.startsWith(`${code},`));
    if (!line) throw new Error(`no line for ${code} in the register`);
    return line;
  };

  it('has 380 English authorities, 332 of them current', () => {
    expect(rows).toHaveLength(380);
    expect(rows.filter((r) => r.isCurrent)).toHaveLength(332);
    expect(new Set(rows.map((r) => r.code)).size).toBe(380);
    expect(new Set(rows.map((r) => r.gssCode)).size).toBe(380);
  });

  it('reads Birmingham correctly', () => {
    expect(rows.find((r) => r.code === 'BIR')).toEqual({
      code: 'BIR',
      gssCode: 'E08000025',
      officialName: 'Birmingham City Council',
      shortName: 'Birmingham',
      type: AuthorityType.MetropolitanDistrict,
      typeName: 'Metropolitan district',
      region: Region.WestMidlands,
      startDate: '1996-07-01',
      endDate: null,
      isCurrent: true,
      replacedBy: [],
    });
  });

  it('leaves out the authorities of Scotland, Wales and Northern Ireland', () => {
    const codes = new Set(rows.map((r) => r.code));
    expect(codes.has('ABD')).toBe(false); // Aberdeenshire
    expect(codes.has('ABC')).toBe(false); // Armagh City, Banbridge and Craigavon
    expect(codes.has('CRF')).toBe(false); // Cardiff
    expect(rows.every((r) => /^E\d{8}$/.test(r.gssCode))).toBe(true);
    expect(csvLines.filter((l) => l.includes(',Scotland,')).length).toBeGreaterThan(0);

    const mixed = parseRegister([header, lineOf('ABD'), lineOf('BIR'), lineOf('ABC')].join('\n'));
    expect(mixed.map((r) => r.code)).toEqual(['BIR']);
  });

  it('reads abolished authorities with their end date and successors', () => {
    const abolished = rows.filter((r) => !r.isCurrent);
    expect(abolished).toHaveLength(48);
    expect(abolished.every((r) => r.endDate !== null)).toBe(true);
    expect(abolished.some((r) => r.replacedBy.length > 0)).toBe(true);
    const codes = new Set(rows.map((r) => r.code));
    for (const r of abolished) for (const successor of r.replacedBy) expect(codes.has(successor)).toBe(true);
  });

  it('throws on a row of unknown type, naming the row and its code', () => {
    const bad = lineOf('BIR').replace(',MD,Metropolitan district,', ',XYZ,Mystery council,').replace(/^BIR,/, 'BAD,');
    // Line 4 of the file: after the header, a Scottish row and a good English row.
    const csv = [header, lineOf('ABD'), lineOf('BIR'), bad].join('\n');
    expect(() => parseRegister(csv)).toThrow('register row 4 (BAD): unknown authority type XYZ');
  });

  it('throws on a malformed GSS code or an unknown region, naming the row', () => {
    const badGss = lineOf('BIR').replace('E08000025', 'E0800002');
    expect(() => parseRegister([header, badGss].join('\n'))).toThrow('register row 2 (BIR): malformed GSS code');
    const badRegion = lineOf('BIR').replace(',England,West Midlands,', ',England,Middle Earth,');
    expect(() => parseRegister([header, badRegion].join('\n'))).toThrow('register row 2 (BIR): unknown region Middle Earth');
  });
});
