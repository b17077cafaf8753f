import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEnum, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateIf } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class NameLiaisonDto {
  @ApiProperty({ format: 'uuid', description: 'A government liaison (a named official of a government department)' })
  @IsUUID()
  userId: string;

  @ApiProperty({ description: 'Why they are named for this meeting (kept in the audit trail)' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  reason: string;
}

export enum PackItemKind {
  /** A summary written for the pack. */
  Summary = 'summary',
  /** An improvement support item already agreed. */
  Support = 'support',
  /** The pre-intervention meeting: its agenda and record. */
  Meeting = 'meeting',
}

export class ReleasePackItemDto {
  @ApiProperty({ enum: PackItemKind, enumName: 'PackItemKind' })
  @IsEnum(PackItemKind)
  kind: PackItemKind;

  @ApiPropertyOptional({ description: 'A heading for the item' })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  title?: string;

  @ApiPropertyOptional({ description: 'For kind summary: the text written for the pack' })
  @ValidateIf((o: ReleasePackItemDto) => o.kind === PackItemKind.Summary || o.summary !== undefined)
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(20000)
  summary?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'For kind support: the support item (agreed, in progress or completed)' })
  @ValidateIf((o: ReleasePackItemDto) => o.kind === PackItemKind.Support || o.supportId !== undefined)
  @IsUUID()
  supportId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'For kind meeting: the pre-intervention meeting of the case' })
  @ValidateIf((o: ReleasePackItemDto) => o.kind === PackItemKind.Meeting || o.meetingId !== undefined)
  @IsUUID()
  meetingId?: string;
}

export class UuidParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class GrantsQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'One case only' })
  @IsOptional() @IsUUID()
  caseId?: string;
}

export class LiaisonDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ format: 'uuid' }) namedBy: string;
  @ApiProperty() namedAt: string;
  @ApiProperty({ nullable: true, type: String }) removedAt: string | null;
  @ApiProperty({ description: 'Whether the naming is for the stage the case is at now (and not removed)' }) current: boolean;
}

export class PackSupportDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() kind: string;
  @ApiProperty() status: string;
  @ApiProperty() description: string;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) providers: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) outcomes: unknown[];
  @ApiProperty({ nullable: true, type: String }) startsOn: string | null;
  @ApiProperty({ nullable: true, type: String }) endsOn: string | null;
}

export class PackMeetingDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() meetingOn: string;
  @ApiProperty() interventionContemplated: string;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) attendees: unknown[];
  @ApiProperty({ nullable: true, type: String }) agenda: string | null;
  @ApiProperty({ nullable: true, type: String }) outcome: string | null;
  @ApiProperty({ nullable: true, type: String }) outcomeNotes: string | null;
  @ApiProperty({ nullable: true, type: String }) deferredUntil: string | null;
}

export class PackItemDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: PackItemKind, enumName: 'PackItemKind' }) kind: PackItemKind;
  @ApiProperty({ nullable: true, type: String }) title: string | null;
  @ApiProperty() releasedAt: string;
  @ApiPropertyOptional({ nullable: true, type: String }) summary?: string | null;
  @ApiPropertyOptional({ type: PackSupportDto }) support?: PackSupportDto;
  @ApiPropertyOptional({ type: PackMeetingDto }) meeting?: PackMeetingDto;
}

export class PackDto {
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() reference: string;
  @ApiProperty() authorityName: string;
  @ApiProperty({ nullable: true, type: String, description: 'When the case entered its current pre-intervention stage (null: not at that stage; staff only)' })
  stageEnteredAt: string | null;
  @ApiProperty({ type: [PackItemDto] }) items: PackItemDto[];
}

export class PackSummaryDto {
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() reference: string;
  @ApiProperty() authorityName: string;
  @ApiProperty() stageEnteredAt: string;
}

export class StageGrantDto {
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty() reference: string;
  @ApiProperty({ enum: ['government_liaison', 'riep_referral'] }) kind: 'government_liaison' | 'riep_referral';
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The liaison (null for a referral: every RIEP facilitator of the region)' }) userId: string | null;
  @ApiProperty({ nullable: true, type: String }) displayName: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'For a referral: the region whose facilitators gained access' }) region: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) grantedBy: string | null;
  @ApiProperty({ description: 'When access began' }) from: string;
  @ApiProperty({ nullable: true, type: String, description: 'When it ended (null: still open)' }) until: string | null;
  @ApiProperty({ nullable: true, type: String, enum: ['stage_ended', 'removed'] }) endedBecause: 'stage_ended' | 'removed' | null;
  @ApiProperty({ nullable: true, type: String, description: 'The move that ended the stage' }) endedByMove: string | null;
  @ApiProperty({ nullable: true, type: String }) stageEnteredAt: string | null;
  @ApiProperty({ nullable: true, type: String }) stageEndedAt: string | null;
}
