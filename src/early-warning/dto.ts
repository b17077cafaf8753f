import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDateString, IsEnum, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateIf } from 'class-validator';
import { AuthoritySignal, FlagReason } from './early-warning-rule';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class AuthorityParam {
  @ApiProperty({ description: 'Register code or GSS code', example: 'BIR' })
  @Matches(/^([A-Z]{3,4}|E\d{8})$/, { message: 'code must be a register code like BIR or a GSS code like E08000025' })
  code: string;
}

export class RecordSignalDto {
  @ApiProperty({ enum: AuthoritySignal, enumName: 'AuthoritySignal' })
  @IsEnum(AuthoritySignal)
  signal: AuthoritySignal;

  @ApiProperty({ example: '2026-11-01' })
  @IsDateString({ strict: true }) @Matches(DATE, { message: 'observedOn must be a date YYYY-MM-DD' })
  observedOn: string;

  @ApiPropertyOptional({ maxLength: 2000, description: 'Where it was seen (e.g. "Ofsted letter, October"); no case content' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(2000)
  note?: string;
}

export class CommitmentsDto {
  @ApiPropertyOptional({ nullable: true, description: 'Signed the sector-led improvement statement' })
  @IsOptional() @ValidateIf((_, v) => v !== null) @Matches(DATE, { message: 'signedStatementOn must be a date YYYY-MM-DD' })
  signedStatementOn?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional() @ValidateIf((_, v) => v !== null) @Matches(DATE, { message: 'lastSelfEvaluationOn must be a date YYYY-MM-DD' })
  lastSelfEvaluationOn?: string | null;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional() @ValidateIf((_, v) => v !== null) @Matches(DATE, { message: 'lastPeerChallengeOn must be a date YYYY-MM-DD' })
  lastPeerChallengeOn?: string | null;

  @ApiPropertyOptional({ description: 'The version you read (omit when there are no commitments yet)' })
  @IsOptional() @IsInt() @Min(1)
  version?: number;
}

export class SignalDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: AuthoritySignal, enumName: 'AuthoritySignal' }) signal: AuthoritySignal;
  @ApiProperty() observedOn: string;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
}

export class CommitmentsViewDto {
  @ApiProperty({ nullable: true, type: String }) signedStatementOn: string | null;
  @ApiProperty({ nullable: true, type: String }) lastSelfEvaluationOn: string | null;
  @ApiProperty({ nullable: true, type: String }) lastPeerChallengeOn: string | null;
  @ApiProperty({ nullable: true, type: Number }) version: number | null;
}

export class EvaluationDto {
  @ApiProperty() flagged: boolean;
  @ApiProperty({ enum: FlagReason, enumName: 'FlagReason', isArray: true }) reasons: FlagReason[];
  @ApiProperty({ enum: AuthoritySignal, enumName: 'AuthoritySignal', isArray: true }) recentSignals: AuthoritySignal[];
}

export class AuthorityEarlyWarningDto {
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) region: string | null;
  @ApiProperty({ type: [SignalDto] }) signals: SignalDto[];
  @ApiProperty({ type: CommitmentsViewDto }) commitments: CommitmentsViewDto;
  @ApiProperty({ type: EvaluationDto }) evaluation: EvaluationDto;
}

export class FlaggedAuthorityDto {
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) region: string | null;
  @ApiProperty({ enum: FlagReason, enumName: 'FlagReason', isArray: true }) reasons: FlagReason[];
  @ApiProperty({ enum: AuthoritySignal, enumName: 'AuthoritySignal', isArray: true }) recentSignals: AuthoritySignal[];
}

export class EarlyWarningRuleDto {
  @ApiProperty() signalWindowMonths: number;
  @ApiProperty() minDistinctSignals: number;
  @ApiProperty() selfEvaluationOverdueMonths: number;
  @ApiProperty() peerChallengeOverdueYears: number;
}

export class FlagListDto {
  @ApiProperty({ type: EarlyWarningRuleDto, description: 'The rule that produced this list' }) rule: EarlyWarningRuleDto;
  @ApiProperty({ type: [FlaggedAuthorityDto] }) authorities: FlaggedAuthorityDto[];
}
