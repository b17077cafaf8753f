import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreatePartyDto {
  @ApiProperty({ example: 'Labour' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(120)
  name: string;

  @ApiPropertyOptional({ example: 'Lab' })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(20)
  abbreviation?: string;
}

export class UpdatePartyDto {
  @ApiPropertyOptional()
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(120)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(20)
  abbreviation?: string;

  @ApiPropertyOptional({ description: 'An inactive party cannot be given to new peers; existing ones keep it' })
  @IsOptional() @IsBoolean()
  active?: boolean;
}

export class PartyIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class PartyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) abbreviation: string | null;
  @ApiProperty() active: boolean;
}
