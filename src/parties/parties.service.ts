import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConflictError, NotFoundError } from '../common/domain-error';
import { PartyDto } from './dto';

@Injectable()
export class PartiesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  list(): Promise<PartyDto[]> {
    return this.dataSource.query(`SELECT id, name, abbreviation, active FROM parties ORDER BY name`);
  }

  async create(name: string, abbreviation?: string): Promise<PartyDto> {
    const [row] = await this.dataSource.query(
      `INSERT INTO parties (name, abbreviation) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id, name, abbreviation, active`,
      [name, abbreviation ?? null],
    );
    if (!row) throw new ConflictError('A party with this name already exists');
    return row;
  }

  async update(id: string, change: { name?: string; abbreviation?: string; active?: boolean }): Promise<PartyDto> {
    try {
      const [rows] = await this.dataSource.query(
        `UPDATE parties SET name = coalesce($2, name), abbreviation = coalesce($3, abbreviation), active = coalesce($4, active)
          WHERE id = $1 RETURNING id, name, abbreviation, active`,
        [id, change.name ?? null, change.abbreviation ?? null, change.active ?? null],
      );
      if (rows.length === 0) throw new NotFoundError('Party');
      return rows[0];
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new ConflictError('A party with this name already exists');
      throw error;
    }
  }
}
