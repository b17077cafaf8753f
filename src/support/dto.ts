import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayUnique, IsArray, IsDateString, IsEnum, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { ProviderKind, SupportKind, SupportStatus } from './support.types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class ProviderDto {
  @ApiProperty({ enum: ProviderKind, enumName: 'ProviderKind' })
  @IsEnum(ProviderKind)
  kind: ProviderKind;

  @ApiProperty({ example: 'Cllr Sam Mentor (Leeds City Council)' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name: string;
}

export class PlannedOutcomeDto {
  @ApiProperty({ example: 'A balanced medium-term financial plan' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  outcome: string;

  @ApiProperty({ example: 'Section 151 officer signs off the plan by March' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  measure: string;
}

class SupportFieldsDto {
  @ApiPropertyOptional({ type: [ProviderDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => ProviderDto)
  providers?: ProviderDto[];

  @ApiPropertyOptional({ type: [PlannedOutcomeDto], description: 'For an improvement plan: outcomes with their measures' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => PlannedOutcomeDto)
  outcomes?: PlannedOutcomeDto[];

  @ApiPropertyOptional({ example: '2027-01-05' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'startsOn must be a date YYYY-MM-DD' })
  startsOn?: string;

  @ApiPropertyOptional({ example: '2027-06-30' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'endsOn must be a date YYYY-MM-DD' })
  endsOn?: string;

  @ApiPropertyOptional({ type: [String], example: ['2027-03-01'] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @Matches(DATE, { each: true, message: 'reviewDates must be dates YYYY-MM-DD' })
  reviewDates?: string[];
}

export class CreateSupportDto extends SupportFieldsDto {
  @ApiProperty({ enum: SupportKind, enumName: 'SupportKind' })
  @IsEnum(SupportKind)
  kind: SupportKind;

  @ApiProperty({ maxLength: 20000 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(20000)
  description: string;

  @ApiPropertyOptional({ enum: [SupportStatus.Proposed, SupportStatus.Agreed], default: SupportStatus.Proposed })
  @IsOptional() @IsIn([SupportStatus.Proposed, SupportStatus.Agreed], { message: 'status must be proposed or agreed' })
  status?: SupportStatus;
}

export class UpdateSupportDto extends SupportFieldsDto {
  @ApiProperty({ description: 'The version you read; a stale one answers 409' })
  @IsInt() @Min(1)
  version: number;

  @ApiPropertyOptional({ enum: SupportStatus, enumName: 'SupportStatus', description: 'proposed → agreed → in_progress → completed; any → withdrawn' })
  @IsOptional() @IsEnum(SupportStatus)
  status?: SupportStatus;

  @ApiPropertyOptional()
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(20000)
  description?: string;
}

export class ProgressNoteDto {
  @ApiProperty({ maxLength: 20000 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(20000)
  note: string;
}

export class SupportIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class SupportDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ enum: SupportKind, enumName: 'SupportKind' }) kind: SupportKind;
  @ApiProperty({ enum: SupportStatus, enumName: 'SupportStatus' }) status: SupportStatus;
  @ApiProperty() description: string;
  @ApiProperty({ type: [ProviderDto] }) providers: ProviderDto[];
  @ApiProperty({ type: [PlannedOutcomeDto] }) outcomes: PlannedOutcomeDto[];
  @ApiProperty({ nullable: true, type: String }) startsOn: string | null;
  @ApiProperty({ nullable: true, type: String }) endsOn: string | null;
  @ApiProperty({ type: [String] }) reviewDates: string[];
  @ApiProperty({ nullable: true, type: String }) agreedAt: string | null;
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty() version: number;
}

export class ProgressNoteViewDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) supportId: string;
  @ApiProperty() note: string;
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
}
