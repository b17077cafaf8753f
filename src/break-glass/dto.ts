import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class BreakGlassDto {
  @ApiProperty({ description: 'Why you need to see this case now: recorded in the audit trail and reviewed by an auditor', minLength: 20, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(20) @MaxLength(2000)
  reason: string;

  @ApiProperty({ description: 'A current code from your authenticator app (each code is accepted once)', example: '123456' })
  @IsString() @Matches(/^\d{6}$/, { message: 'code must be the six digits the authenticator app shows' })
  code: string;
}

export class BreakGlassGrantDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ example: 'CH-2026-0042' }) caseReference: string;
  @ApiProperty() reason: string;
  @ApiProperty() grantedAt: string;
  @ApiProperty({ description: 'Read access ends at this time' }) expiresAt: string;
}

export class GrantIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class ReviewGrantDto {
  @ApiProperty({ description: "The auditor's conclusion", minLength: 1, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  note: string;
}

export class BreakGlassQueueQueryDto {
  @ApiPropertyOptional({ description: 'true: only reviewed grants; false: only grants awaiting review' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  reviewed?: boolean;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  offset?: number;
}

export class BreakGlassReviewItemDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() caseReference: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() userName: string;
  @ApiProperty({ description: "The manager's justification" }) reason: string;
  @ApiProperty() grantedAt: string;
  @ApiProperty() expiresAt: string;
  @ApiProperty({ description: 'The grant still gives access' }) active: boolean;
  @ApiProperty({ description: 'Audited reads of the case by this manager under the grant' }) readsUnderGrant: number;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) reviewedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewedByName: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewNote: string | null;
}

export class BreakGlassQueueDto {
  @ApiProperty({ type: [BreakGlassReviewItemDto], description: 'Unreviewed grants first, newest first within each' }) items: BreakGlassReviewItemDto[];
  @ApiProperty() total: number;
  @ApiProperty({ description: 'Grants awaiting review (whatever the filter)' }) unreviewed: number;
}
