import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsEnum, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Region } from '../access-control/role';
import { AuthorityType } from './authority.entity';

export class SearchAuthoritiesQueryDto {
  @ApiPropertyOptional({ description: 'Part of the official or short name, case-insensitive', example: 'birmingham' })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(100)
  name?: string;

  @ApiPropertyOptional({ enum: Region, enumName: 'Region' })
  @IsOptional() @IsEnum(Region)
  region?: Region;

  @ApiPropertyOptional({ enum: AuthorityType, enumName: 'AuthorityType' })
  @IsOptional() @IsEnum(AuthorityType)
  type?: AuthorityType;

  @ApiPropertyOptional({ description: 'true: current authorities only; false: abolished ones only; absent: both' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  current?: boolean;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  offset?: number;
}

export class AuthorityCodeParam {
  @ApiProperty({ description: 'Register code (e.g. BIR) or GSS code (e.g. E08000025)', example: 'E08000025' })
  @Matches(/^([A-Z]{3,4}|E\d{8})$/, { message: 'code must be a register code like BIR or a GSS code like E08000025' })
  code: string;
}

export class AuthorityDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'BIR' }) code: string;
  @ApiProperty({ example: 'E08000025' }) gssCode: string;
  @ApiProperty({ example: 'Birmingham City Council' }) officialName: string;
  @ApiProperty({ example: 'Birmingham' }) shortName: string;
  @ApiProperty({ enum: AuthorityType, enumName: 'AuthorityType' }) type: AuthorityType;
  @ApiProperty({ example: 'Metropolitan district' }) typeName: string;
  @ApiProperty({ enum: Region, enumName: 'Region', nullable: true }) region: Region | null;
  @ApiProperty({ nullable: true, type: String, example: '1996-07-01' }) startDate: string | null;
  @ApiProperty({ nullable: true, type: String }) endDate: string | null;
  @ApiProperty() isCurrent: boolean;
  @ApiProperty({ type: [String], description: 'Codes of the authorities that replaced an abolished one' }) replacedBy: string[];
}

export class AuthorityPageDto {
  @ApiProperty({ type: [AuthorityDto] }) items: AuthorityDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
