import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEnum, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { TieKind } from './conflict-policy';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class DeclareTieDto {
  @ApiProperty({ enum: TieKind, enumName: 'TieKind', description: 'authority_employment and authority_representation need authority; employer, party_role and personal_tie need detail' })
  @IsEnum(TieKind)
  kind: TieKind;

  @ApiPropertyOptional({ description: 'The council the tie is to: register code or GSS code. Adding you to a case team on this council is then refused unless a manager overrides it', example: 'E08000025' })
  @IsOptional() @Matches(/^([A-Z]{3,4}|E\d{8})$/, { message: 'authority must be a register code like BIR or a GSS code like E08000025' })
  authority?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'For a party role: the party' })
  @IsOptional() @IsUUID()
  partyId?: string;

  @ApiPropertyOptional({ description: 'Who or what: the employer, the party role, the named people and how you know them', minLength: 1, maxLength: 500 })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(500)
  detail?: string;
}

export class EndTieDto {
  @ApiProperty({ format: 'uuid', description: 'One of your own declarations' })
  @IsUUID()
  declarationId: string;
}

export class TieAuthorityDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() code: string;
  @ApiProperty() name: string;
}

export class TiePartyDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
}

export class TieDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ enum: TieKind, enumName: 'TieKind' }) kind: TieKind;
  @ApiProperty({ type: TieAuthorityDto, nullable: true }) authority: TieAuthorityDto | null;
  @ApiProperty({ type: TiePartyDto, nullable: true }) party: TiePartyDto | null;
  @ApiProperty({ nullable: true, type: String }) detail: string | null;
  @ApiProperty() declaredAt: string;
  @ApiProperty({ nullable: true, type: String, description: 'Set when the tie was ended; ended ties stop nothing' }) endedAt: string | null;
}

export class RecuseDto {
  @ApiPropertyOptional({ description: 'Why (optional): kept with the recusal and in the audit trail, shown to managers', maxLength: 2000 })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  reason?: string;
}

export class RecusalDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() caseReference: string;
  @ApiProperty() recusedAt: string;
  @ApiProperty({ description: 'You were on the case team and left it' }) leftTeam: boolean;
}

export class CaseRecusalDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() userName: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty() recusedAt: string;
  @ApiProperty({ nullable: true, type: String }) withdrawnAt: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) withdrawnBy: string | null;
  @ApiProperty({ nullable: true, type: String }) withdrawReason: string | null;
}

export class WithdrawRecusalDto {
  @ApiProperty({ format: 'uuid', description: 'The recused user' })
  @IsUUID()
  userId: string;

  @ApiProperty({ description: 'Why the user may work on the case again: recorded in the audit trail', minLength: 20, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(20) @MaxLength(2000)
  reason: string;
}
