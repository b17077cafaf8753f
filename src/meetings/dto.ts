import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsDateString, IsEnum, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { GovernmentPower, PreInterventionOutcome } from '../workflow/case-state';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Who attends a pre-intervention meeting, by organisation (seed paper 003, paragraph 19). */
export enum AttendeeOrganisation {
  Authority = 'authority',
  GovernmentDepartment = 'government_department',
  InspectorateOrAuditBody = 'inspectorate_or_audit_body',
  IDeA = 'idea',
  Riep = 'riep',
  GovernmentOffice = 'government_office',
  ClearingHouse = 'clearing_house',
}

export class AttendeeDto {
  @ApiProperty({ enum: AttendeeOrganisation, enumName: 'AttendeeOrganisation' })
  @IsEnum(AttendeeOrganisation)
  organisationType: AttendeeOrganisation;

  @ApiProperty({ example: 'Department for Education' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  organisation: string;

  @ApiPropertyOptional({ example: 'Cllr A. Leader' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ example: 'Leader of the council' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200)
  role?: string;
}

export class RecordMeetingDto {
  @ApiProperty({ example: '2026-12-10' })
  @IsDateString({ strict: true }) @Matches(DATE, { message: 'meetingOn must be a date YYYY-MM-DD' })
  meetingOn: string;

  @ApiProperty({ enum: GovernmentPower, enumName: 'GovernmentPower' })
  @IsEnum(GovernmentPower)
  interventionContemplated: GovernmentPower;

  @ApiProperty({ type: [AttendeeDto] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => AttendeeDto)
  attendees: AttendeeDto[];

  @ApiPropertyOptional({ maxLength: 20000 })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(20000)
  agenda?: string;

  @ApiPropertyOptional({ type: [String], description: 'Users of the system who take part: they attest the agreed record (src/agreed-records)' })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @IsUUID('all', { each: true })
  participantUserIds?: string[];
}

export class MeetingOutcomeDto {
  @ApiProperty({ enum: PreInterventionOutcome, enumName: 'PreInterventionOutcome', description: 'sector_led_alternative_agreed returns the case to improvement support; intervention_proceeds closes it as government intervention (a manager\'s move); deferred keeps it here until deferredUntil' })
  @IsEnum(PreInterventionOutcome)
  outcome: PreInterventionOutcome;

  @ApiProperty({ description: 'The meeting version you read' })
  @IsInt() @Min(1)
  version: number;

  @ApiPropertyOptional({ maxLength: 20000 })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(20000)
  notes?: string;

  @ApiPropertyOptional({ description: 'Required when deferred' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'deferredUntil must be a date YYYY-MM-DD' })
  deferredUntil?: string;

  @ApiPropertyOptional({ description: 'Reason recorded on the case when intervention proceeds and it closes' })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  closeReason?: string;
}

export class MeetingIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class MeetingDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() meetingOn: string;
  @ApiProperty({ enum: GovernmentPower, enumName: 'GovernmentPower' }) interventionContemplated: GovernmentPower;
  @ApiProperty({ type: [AttendeeDto] }) attendees: AttendeeDto[];
  @ApiProperty({ nullable: true, type: String }) agenda: string | null;
  @ApiProperty({ type: [String], description: 'Users who take part (they attest the record)' }) participantUserIds: string[];
  @ApiProperty({ enum: PreInterventionOutcome, enumName: 'PreInterventionOutcome', nullable: true }) outcome: PreInterventionOutcome | null;
  @ApiProperty({ nullable: true, type: String }) outcomeNotes: string | null;
  @ApiProperty({ nullable: true, type: String }) deferredUntil: string | null;
  @ApiProperty({ nullable: true, type: String }) outcomeRecordedAt: string | null;
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
  @ApiProperty() version: number;
}
