import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Region } from '../access-control/role';
import { NotFoundError } from '../common/domain-error';
import { AuthorityType } from './authority.entity';
import { AuthorityDto, AuthorityPageDto } from './dto';

const COLUMNS = `id, code, gss_code AS "gssCode", official_name AS "officialName", short_name AS "shortName", type,
  type_name AS "typeName", region, to_char(start_date, 'YYYY-MM-DD') AS "startDate", to_char(end_date, 'YYYY-MM-DD') AS "endDate",
  is_current AS "isCurrent", replaced_by AS "replacedBy"`;

export interface AuthoritySearch {
  name?: string;
  region?: Region;
  type?: AuthorityType;
  current?: boolean;
  limit: number;
  offset: number;
}

@Injectable()
export class AuthoritiesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async search(s: AuthoritySearch): Promise<AuthorityPageDto> {
    // LIKE metacharacters in the user's text are matched literally.
    const pattern = s.name ? `%${s.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const where = `($1::text IS NULL OR lower(official_name) LIKE $1 OR lower(short_name) LIKE $1)
          AND ($2::text IS NULL OR region = $2)
          AND ($3::text IS NULL OR type = $3)
          AND ($4::boolean IS NULL OR is_current = $4)`;
    const params = [pattern, s.region ?? null, s.type ?? null, s.current ?? null];
    const rows: Array<AuthorityDto & { total: string }> = await this.dataSource.query(
      `SELECT ${COLUMNS}, count(*) OVER () AS total FROM authorities WHERE ${where} ORDER BY short_name, code LIMIT $5 OFFSET $6`,
      [...params, s.limit, s.offset],
    );
    // Past the last page there is no row to carry the count: count separately.
    const total = rows.length > 0 ? Number(rows[0].total) : s.offset === 0 ? 0 : Number((await this.dataSource.query(`SELECT count(*) AS total FROM authorities WHERE ${where}`, params))[0].total);
    return { items: rows.map(({ total: _total, ...a }) => a), total, limit: s.limit, offset: s.offset };
  }

  async byCode(code: string): Promise<AuthorityDto> {
    const [row]: AuthorityDto[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM authorities WHERE code = $1 OR gss_code = $1`, [code]);
    if (!row) throw new NotFoundError('Authority');
    return row;
  }
}
