import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { SourceViewDto } from '../cases/dto';
import { ReleaseState } from './source-identity-policy';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class RevealSourceIdentityDto {
  @ApiProperty({ description: 'Why you need to know who raised this concern now: recorded in the audit trail with the reveal', minLength: 20, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(20) @MaxLength(2000)
  reason: string;
}

export class RequestReleaseDto {
  @ApiProperty({ format: 'uuid', description: 'The colleague to release the identity to: a clearing-house officer or manager who may read this concern' })
  @IsUUID()
  releasedToUserId: string;

  @ApiProperty({ description: 'Why the colleague needs the identity: shown to the approving manager and auditors', minLength: 20, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(20) @MaxLength(2000)
  reason: string;
}

export class ApproveReleaseDto {
  @ApiPropertyOptional({ description: 'A note on the approval (audited)', maxLength: 2000 })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  note?: string;
}

export class RefuseOrRevokeReleaseDto {
  @ApiProperty({ description: 'Why (audited)', minLength: 1, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  reason: string;
}

export class ReleaseIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

/** A page of a list: how many, from where. */
export class AuditListQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 100000 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(100000)
  offset?: number;
}

export class ListReleasesQueryDto extends AuditListQueryDto {
  @ApiPropertyOptional({ enum: ReleaseState, enumName: 'SourceIdentityReleaseState', description: 'expired: approved releases whose time is up' })
  @IsOptional() @IsEnum(ReleaseState)
  state?: ReleaseState;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  concernId?: string;
}

/** A release as its participants, managers and auditors see it: never the identity itself. */
export class ReleaseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) concernId: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ example: 'CH-2026-0042' }) caseReference: string;
  @ApiProperty({ format: 'uuid' }) requestedBy: string;
  @ApiProperty() requestedByName: string;
  @ApiProperty({ format: 'uuid' }) releasedTo: string;
  @ApiProperty() releasedToName: string;
  @ApiProperty({ description: 'Why the release was asked for' }) reason: string;
  @ApiProperty({ enum: ReleaseState, enumName: 'SourceIdentityReleaseState' }) state: ReleaseState;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) approvedBy: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) refusedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) decidedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) decisionNote: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Readable by the colleague until this time' }) expiresAt: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) revokedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) revokeReason: string | null;
  @ApiProperty() createdAt: string;
}

export class ReleasePageDto {
  @ApiProperty({ type: [ReleaseDto] }) items: ReleaseDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

export enum DisclosureBasis {
  RevealedWithReason = 'revealed_with_reason',
  Released = 'released',
}

export class SourceIdentityDto {
  @ApiProperty({ format: 'uuid' }) concernId: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ type: SourceViewDto }) source: SourceViewDto;
  @ApiProperty({ enum: DisclosureBasis, enumName: 'SourceIdentityDisclosureBasis' }) basis: DisclosureBasis;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The release you read it under' }) releaseId: string | null;
  @ApiProperty({ nullable: true, type: String }) releaseExpiresAt: string | null;
}

/** A manager's reveal, as the audit trail recorded it (never the identity). */
export class RevealRecordDto {
  @ApiProperty({ format: 'uuid' }) auditEventId: string;
  @ApiProperty() occurredAt: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) actorId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorName: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) concernId: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) caseId: string | null;
  @ApiProperty({ nullable: true, type: String }) caseReference: string | null;
  @ApiProperty({ enum: ['allowed', 'denied'] }) outcome: string;
  @ApiProperty({ nullable: true, type: String }) rule: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The manager's reason" }) reason: string | null;
}

export class RevealPageDto {
  @ApiProperty({ type: [RevealRecordDto] }) items: RevealRecordDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
