import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayUnique, IsArray, IsBoolean, IsDateString, IsEnum, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength, ValidateIf, ValidateNested,
} from 'class-validator';
import { CaseHandling, ItemHandling, TeamRole } from '../access-control/handling';
import { Region } from '../access-control/role';
import { CaseMove, CaseOutcome, CaseState, GovernmentPower } from '../workflow/case-state';
import { ConcernArea, ConcernChannel, EarlyWarningSignal } from './concern.types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
export const CASE_REF_OR_ID = /^(CH-\d{4}-\d{4,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

export class SourceDto {
  @ApiProperty({ description: "Protected: never in a concern's reads; revealed only to a manager with a reason, or released to a colleague by a second manager" })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiPropertyOptional({ example: 'Monitoring officer' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200)
  role?: string;

  @ApiPropertyOptional()
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200)
  organisation?: string;

  @ApiPropertyOptional({ description: 'Telephone or e-mail' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200)
  contact?: string;
}

export class LogConcernDto {
  @ApiProperty({ description: 'Register code or GSS code of the authority', example: 'E08000025' })
  @Matches(/^([A-Z]{3,4}|E\d{8})$/, { message: 'authority must be a register code like BIR or a GSS code like E08000025' })
  authority: string;

  @ApiPropertyOptional({ description: 'Attach to this open case (id or reference) instead of opening a new one' })
  @IsOptional() @Matches(CASE_REF_OR_ID, { message: 'caseId must be a case id or a reference like CH-2026-0042' })
  caseId?: string;

  @ApiProperty({ example: '2026-11-20', description: 'Date the concern was received (not in the future)' })
  @IsDateString({ strict: true }) @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'receivedOn must be a date YYYY-MM-DD' })
  receivedOn: string;

  @ApiProperty({ enum: ConcernChannel, enumName: 'ConcernChannel' })
  @IsEnum(ConcernChannel)
  channel: ConcernChannel;

  @ApiProperty({ enum: ConcernArea, enumName: 'ConcernArea' })
  @IsEnum(ConcernArea)
  area: ConcernArea;

  @ApiProperty({ maxLength: 20000 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(20000)
  description: string;

  @ApiPropertyOptional({ enum: EarlyWarningSignal, enumName: 'EarlyWarningSignal', isArray: true })
  @IsOptional() @IsArray() @ArrayUnique() @IsEnum(EarlyWarningSignal, { each: true })
  signals?: EarlyWarningSignal[];

  @ApiPropertyOptional({ type: SourceDto, description: 'Who raised it; omit for an anonymous concern' })
  @IsOptional() @ValidateNested() @Type(() => SourceDto)
  source?: SourceDto;

  @ApiPropertyOptional({ enum: [ItemHandling.Normal, ItemHandling.NamedOnly], default: ItemHandling.Normal })
  @IsOptional() @IsEnum([ItemHandling.Normal, ItemHandling.NamedOnly], { message: 'handling must be normal or named_only' })
  handling?: ItemHandling;

  @ApiPropertyOptional({ type: [String], description: 'For named_only: the users who may read it (managers always may)' })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @IsUUID('all', { each: true })
  namedUserIds?: string[];

  @ApiPropertyOptional({ enum: CaseHandling, enumName: 'CaseHandling', description: 'Classification of a new case', default: CaseHandling.OfficialSensitive })
  @IsOptional() @IsEnum(CaseHandling)
  caseHandling?: CaseHandling;
}

export class CaseRefParam {
  @ApiProperty({ description: 'Case id or reference, e.g. CH-2026-0042' })
  @Matches(CASE_REF_OR_ID, { message: 'id must be a case id or a reference like CH-2026-0042' })
  id: string;
}

export class UuidParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class TeamMemberParams extends CaseRefParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  userId: string;
}

export class ListCasesQueryDto {
  @ApiPropertyOptional({ enum: CaseState, enumName: 'CaseState' })
  @IsOptional() @IsEnum(CaseState)
  state?: CaseState;

  @ApiPropertyOptional({ description: 'Register code or GSS code' })
  @IsOptional() @Matches(/^([A-Z]{3,4}|E\d{8})$/, { message: 'authority must be a register code or GSS code' })
  authority?: string;

  @ApiPropertyOptional({ enum: Region, enumName: 'Region' })
  @IsOptional() @IsEnum(Region)
  region?: Region;

  @ApiPropertyOptional({ enum: ConcernArea, enumName: 'ConcernArea', description: 'Cases with at least one concern in this area you may see' })
  @IsOptional() @IsEnum(ConcernArea)
  area?: ConcernArea;

  @ApiPropertyOptional({ format: 'uuid', description: 'Cases whose current team includes this user' })
  @IsOptional() @IsUUID()
  teamMember?: string;

  @ApiPropertyOptional({ example: '2026-01-01', description: 'Opened on or after' })
  @IsOptional() @IsDateString({ strict: true })
  openedFrom?: string;

  @ApiPropertyOptional({ example: '2026-12-31', description: 'Opened before the end of this day' })
  @IsOptional() @IsDateString({ strict: true })
  openedTo?: string;

  @ApiPropertyOptional({ default: 25, minimum: 1, maximum: 100 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 100000 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(100000)
  offset?: number;
}

export class MoveCaseDto {
  @ApiProperty({ enum: CaseMove, enumName: 'CaseMove' })
  @IsEnum(CaseMove)
  move: CaseMove;

  @ApiProperty({ description: 'The case version you read; a stale version answers 409' })
  @IsInt() @Min(1)
  version: number;

  @ApiPropertyOptional({ description: 'Why (required for monitor, close and reopen)', maxLength: 2000 })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  reason?: string;

  @ApiPropertyOptional({ enum: CaseOutcome, enumName: 'CaseOutcome', description: 'Required to close' })
  @IsOptional() @IsEnum(CaseOutcome)
  outcome?: CaseOutcome;
}

export class GovernmentTriggerDto {
  @ApiProperty({ example: 'Department for Education' })
  @Transform(trim) @IsString() @MinLength(2) @MaxLength(200)
  department: string;

  @ApiProperty({ enum: GovernmentPower, enumName: 'GovernmentPower' })
  @IsEnum(GovernmentPower)
  power: GovernmentPower;

  @ApiProperty({ description: 'The case version you read' })
  @IsInt() @Min(1)
  version: number;
}

export class AddTeamMemberDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  userId: string;

  @ApiProperty({ enum: TeamRole, enumName: 'TeamRole' })
  @IsEnum(TeamRole)
  teamRole: TeamRole;

  @ApiPropertyOptional({ description: "Add the user despite a declared tie to the case's authority (clearing-house managers; never for yourself; needs overrideReason; audited)" })
  @IsOptional() @IsBoolean()
  overrideConflict?: boolean;

  @ApiPropertyOptional({ description: 'Why the declared tie does not stop this user working on the case: recorded in the audit trail', minLength: 20, maxLength: 2000 })
  @ValidateIf((o: AddTeamMemberDto) => o.overrideConflict === true || o.overrideReason !== undefined)
  @Transform(trim) @IsString() @MinLength(20) @MaxLength(2000)
  overrideReason?: string;
}

export class TeamMemberDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty({ enum: TeamRole, enumName: 'TeamRole' }) teamRole: TeamRole;
  @ApiProperty() displayName: string;
  @ApiProperty() addedAt: string;
}

export class AuthoritySummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() code: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: Region, enumName: 'Region', nullable: true }) region: Region | null;
}

export class CaseSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'CH-2026-0042' }) reference: string;
  @ApiProperty({ type: AuthoritySummaryDto }) authority: AuthoritySummaryDto;
  @ApiProperty({ enum: CaseState, enumName: 'CaseState' }) state: CaseState;
  @ApiProperty({ enum: CaseHandling, enumName: 'CaseHandling' }) handling: CaseHandling;
  @ApiProperty() openedAt: string;
  @ApiProperty() updatedAt: string;
  @ApiProperty() version: number;
}

export class CasePageDto {
  @ApiProperty({ type: [CaseSummaryDto] }) items: CaseSummaryDto[];
  @ApiProperty({
    description:
      'The cases matching the filters that you may see: exact when totalIsLowerBound is false; otherwise more than this many match ' +
      '(the count stops at CASE_LIST_COUNT_CAP, 1,000 by default, or at the end of the page asked for when that is further)',
  })
  total: number;
  @ApiProperty({ description: 'True when the count stopped early: more than `total` cases match (show it as, e.g., "1,000+")' })
  totalIsLowerBound: boolean;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export class SourceViewDto {
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) role: string | null;
  @ApiProperty({ nullable: true, type: String }) organisation: string | null;
  @ApiProperty({ nullable: true, type: String }) contact: string | null;
}

export class ConcernDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() receivedOn: string;
  @ApiProperty({ enum: ConcernChannel, enumName: 'ConcernChannel' }) channel: ConcernChannel;
  @ApiProperty({ enum: ConcernArea, enumName: 'ConcernArea' }) area: ConcernArea;
  @ApiProperty() description: string;
  @ApiProperty({ enum: EarlyWarningSignal, enumName: 'EarlyWarningSignal', isArray: true }) signals: EarlyWarningSignal[];
  @ApiProperty({ enum: [ItemHandling.Normal, ItemHandling.NamedOnly] }) handling: ItemHandling;
  @ApiProperty({ type: [String] }) namedUserIds: string[];
  @ApiProperty({
    description: "Whether a source was recorded (shown to everyone who sees the concern). The source's identity is never in a concern: " +
      'a manager reveals it with a reason, a colleague reads it under a release approved by a second manager (/concerns/{id}/source-identity)',
  })
  hasSource: boolean;
  @ApiProperty({ format: 'uuid' }) loggedBy: string;
  @ApiProperty() loggedAt: string;
}

export class GovernmentTriggerViewDto {
  @ApiProperty() department: string;
  @ApiProperty({ enum: GovernmentPower, enumName: 'GovernmentPower' }) power: GovernmentPower;
  @ApiProperty() recordedAt: string;
}

export class CaseRestrictionViewDto {
  @ApiProperty({ description: 'Only the case team and the manager who restricted it see the case' }) restrictedToTeam: boolean;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The manager who restricted it' }) restrictedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) restrictedAt: string | null;
}

export class CaseRestrictionDto {
  @ApiProperty({ description: 'true: only the case team and you see the case; false: lift the restriction' })
  @IsBoolean()
  restricted: boolean;

  @ApiProperty({ description: 'The version you read; a stale version answers 409' })
  @IsInt() @Min(1)
  version: number;
}

export class CaseDto extends CaseSummaryDto {
  @ApiProperty({ type: [TeamMemberDto] }) team: TeamMemberDto[];
  @ApiProperty({ type: GovernmentTriggerViewDto, nullable: true }) governmentTrigger: GovernmentTriggerViewDto | null;
  @ApiProperty({ nullable: true, type: String }) referredToRiepAt: string | null;
  @ApiProperty({ enum: CaseOutcome, enumName: 'CaseOutcome', nullable: true }) outcome: CaseOutcome | null;
  @ApiProperty({ nullable: true, type: String }) outcomeReason: string | null;
  @ApiProperty({ nullable: true, type: String }) closedAt: string | null;
  @ApiProperty({ enum: CaseMove, enumName: 'CaseMove', isArray: true, description: 'Moves your role could make from this state (preconditions still apply)' })
  availableMoves: CaseMove[];
  @ApiProperty({ type: [ConcernDto], description: 'The concerns you may see' }) concerns: ConcernDto[];
  @ApiProperty({ type: CaseRestrictionViewDto }) restriction: CaseRestrictionViewDto;
  @ApiProperty({ description: 'You see this case only through a break-glass grant: read-only, without the source of any concern' })
  readViaBreakGlass: boolean;
}

export class CaseWarningDto {
  @ApiProperty({ example: 'OPEN_CASE_EXISTS' }) code: string;
  @ApiProperty() message: string;
  @ApiProperty({ type: [String] }) caseReferences: string[];
}

export class LoggedConcernDto {
  @ApiProperty({ type: ConcernDto }) concern: ConcernDto;
  @ApiProperty({ type: CaseSummaryDto }) case: CaseSummaryDto;
  @ApiProperty({ description: 'True when this concern opened a new case' }) openedNewCase: boolean;
  @ApiProperty({ type: [CaseWarningDto] }) warnings: CaseWarningDto[];
}

export class TransitionDto {
  @ApiProperty() sequence: number;
  @ApiProperty({ description: 'A workflow move, or "open" for the case being opened' }) move: string;
  @ApiProperty({ enum: CaseState, enumName: 'CaseState', nullable: true }) from: CaseState | null;
  @ApiProperty({ enum: CaseState, enumName: 'CaseState' }) to: CaseState;
  @ApiProperty({ format: 'uuid' }) actorId: string;
  @ApiProperty() actorName: string;
  @ApiProperty() actorRole: string;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty() occurredAt: string;
}
