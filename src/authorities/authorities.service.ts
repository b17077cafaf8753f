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
    const rows: Array<AuthorityDto & { total: string }> = await this.dataSource.query(
      `SELECT ${COLUMNS}, count(*) OVER () AS total FROM authorities
        WHERE ($1::text IS NULL OR lower(official_name) LIKE $1 OR lower(short_name) LIKE $1)
          AND ($2::text IS NULL OR region = $2)
          AND ($3::text IS NULL OR type = $3)
          AND ($4::boolean IS NULL OR is_current = $4)
        ORDER BY short_name, code
        LIMIT $5 OFFSET $6`,
      [pattern, s.region ?? null, s.type ?? null, s.current ?? null, s.limit, s.offset],
    );
    const total = rows.length > 0 ? Number(rows[0].total) : 0;
    return { items: rows.map(({ total: _total, ...a }) => a), total, limit: s.limit, offset: s.offset };
  }

  async byCode(code: string): Promise<AuthorityDto> {
    const [row]: AuthorityDto[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM authorities WHERE code = $1 OR gss_code = $1`, [code]);
    if (!row) throw new NotFoundError('Authority');
    return row;
  }
}
