import { DataSource } from 'typeorm';
import { readRegister, RegisterRow } from './authority-register';

/** Upserts the register by its code; running it twice changes nothing the second time. */
export async function importAuthorities(dataSource: DataSource, rows: RegisterRow[] = readRegister()): Promise<{ total: number; inserted: number; updated: number }> {
  return dataSource.transaction(async (manager) => {
    const result: Array<{ inserted: boolean }> = await manager.query(
      `INSERT INTO authorities (code, gss_code, official_name, short_name, type, type_name, region, start_date, end_date, is_current, replaced_by)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
         code text, "gssCode" text, "officialName" text, "shortName" text, type text, "typeName" text,
         region text, "startDate" date, "endDate" date, "isCurrent" boolean, "replacedBy" text[])
       ON CONFLICT (code) DO UPDATE SET
         gss_code = EXCLUDED.gss_code, official_name = EXCLUDED.official_name, short_name = EXCLUDED.short_name,
         type = EXCLUDED.type, type_name = EXCLUDED.type_name, region = EXCLUDED.region,
         start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, is_current = EXCLUDED.is_current,
         replaced_by = EXCLUDED.replaced_by
       WHERE (authorities.gss_code, authorities.official_name, authorities.short_name, authorities.type, authorities.type_name,
              authorities.region, authorities.start_date, authorities.end_date, authorities.is_current, authorities.replaced_by)
         IS DISTINCT FROM
             (EXCLUDED.gss_code, EXCLUDED.official_name, EXCLUDED.short_name, EXCLUDED.type, EXCLUDED.type_name,
              EXCLUDED.region, EXCLUDED.start_date, EXCLUDED.end_date, EXCLUDED.is_current, EXCLUDED.replaced_by)
       RETURNING (xmax = 0) AS inserted`,
      [JSON.stringify(rows)],
    );
    const inserted = result.filter((r) => r.inserted).length;
    return { total: rows.length, inserted, updated: result.length - inserted };
  });
}
