import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsEnum, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { AuditAction, AuditOutcome, ResourceType } from './audit-event';

export class AuditSearchQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() actorId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() caseId?: string;
  @ApiPropertyOptional({ enum: ResourceType, enumName: 'ResourceType' }) @IsOptional() @IsEnum(ResourceType) resourceType?: ResourceType;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) resourceId?: string;
  @ApiPropertyOptional({ enum: AuditAction, enumName: 'AuditAction' }) @IsOptional() @IsEnum(AuditAction) action?: AuditAction;
  @ApiPropertyOptional({ enum: AuditOutcome, enumName: 'AuditOutcome' }) @IsOptional() @IsEnum(AuditOutcome) outcome?: AuditOutcome;
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'From (inclusive)' }) @IsOptional() @IsDateString() from?: string;
  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'To (exclusive)' }) @IsOptional() @IsDateString() to?: string;
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page (newest first)' })
  @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is not valid' }) cursor?: string;
}

export class AuditExportQueryDto extends AuditSearchQueryDto {
  @ApiProperty({ enum: ['csv', 'ndjson'] }) @IsIn(['csv', 'ndjson'], { message: 'format must be csv or ndjson' }) format: 'csv' | 'ndjson';
}

export class SeqRangeQueryDto {
  @ApiPropertyOptional({ minimum: 1 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) fromSeq?: number;
  @ApiPropertyOptional({ minimum: 1 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) toSeq?: number;
}

export class SeqParam {
  @ApiProperty() @Type(() => Number) @IsInt() @Min(1) seq: number;
}

export class UuidParamDto {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id: string;
}

export class AuditEventDto {
  @ApiProperty({ nullable: true, type: Number, description: 'Position in the sealed trail; null while not yet sealed' }) seq: number | null;
  @ApiProperty() sealed: boolean;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() occurredAt: string;
  @ApiProperty({ nullable: true, type: String }) actorId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorName: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Role at that moment' }) actorRole: string | null;
  @ApiProperty({ enum: AuditAction, enumName: 'AuditAction' }) action: string;
  @ApiProperty({ enum: ResourceType, enumName: 'ResourceType' }) resourceType: string;
  @ApiProperty({ nullable: true, type: String }) resourceId: string | null;
  @ApiProperty({ nullable: true, type: String }) caseId: string | null;
  @ApiProperty({ nullable: true, type: String }) caseReference: string | null;
  @ApiProperty({ enum: AuditOutcome, enumName: 'AuditOutcome' }) outcome: string;
  @ApiProperty({ nullable: true, type: String, description: 'The policy rule that decided it' }) rule: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
  @ApiProperty({ nullable: true, type: String }) clientIp: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent: string | null;
  @ApiProperty({ nullable: true, type: String }) justification: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class CaseAccessorDto {
  @ApiProperty({ format: 'uuid' }) actorId: string;
  @ApiProperty({ nullable: true, type: String }) actorName: string | null;
  @ApiProperty({ type: [String] }) roles: string[];
  @ApiProperty() allowed: number;
  @ApiProperty() denied: number;
  @ApiProperty() firstAccess: string;
  @ApiProperty() lastAccess: string;
}

export class CaseTrailDto {
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ type: [CaseAccessorDto], description: 'Who has seen (or tried to see) this case' }) accessors: CaseAccessorDto[];
  @ApiProperty({ type: AuditPageDto }) events: AuditPageDto;
}
