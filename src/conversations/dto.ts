import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayUnique, IsArray, IsDateString, IsEnum, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min, MinLength, ValidateNested,
} from 'class-validator';
import { ItemHandling } from '../access-control/handling';
import { ConversationKind } from './conversation.types';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class ExternalParticipantDto {
  @ApiProperty({ example: 'Cllr J. Bloggs' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'Leader of the council', description: 'Their role at the authority (or their organisation)' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  role: string;

  @ApiPropertyOptional({ example: 'Birmingham City Council' })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(200)
  organisation?: string;
}

export class AgreedActionDto {
  @ApiProperty({ example: 'Share the draft budget recovery plan' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  description: string;

  @ApiProperty({ example: 'Chief executive', description: 'Who owns the action (a person or a role)' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  owner: string;

  @ApiPropertyOptional({ example: '2026-12-15' })
  @IsOptional() @IsDateString({ strict: true }) @Matches(DATE, { message: 'dueOn must be a date YYYY-MM-DD' })
  dueOn?: string;
}

export class RecordConversationDto {
  @ApiProperty({ enum: ConversationKind, enumName: 'ConversationKind' })
  @IsEnum(ConversationKind)
  kind: ConversationKind;

  @ApiProperty({ example: '2026-11-20' })
  @IsDateString({ strict: true }) @Matches(DATE, { message: 'heldOn must be a date YYYY-MM-DD' })
  heldOn: string;

  @ApiPropertyOptional({ type: [String], description: 'Users of the system who took part' })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @IsUUID('all', { each: true })
  internalParticipantIds?: string[];

  @ApiPropertyOptional({ type: [ExternalParticipantDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => ExternalParticipantDto)
  externalParticipants?: ExternalParticipantDto[];

  @ApiProperty({ maxLength: 50000 })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(50000)
  summary: string;

  @ApiPropertyOptional({ type: [AgreedActionDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => AgreedActionDto)
  agreedActions?: AgreedActionDto[];

  @ApiProperty({ enum: ItemHandling, enumName: 'ItemHandling', description: 'party_confidential only by a lead political peer (for their own party)' })
  @IsEnum(ItemHandling)
  handling: ItemHandling;

  @ApiPropertyOptional({ type: [String], description: 'For named_only: who may read it (managers always may)' })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @IsUUID('all', { each: true })
  namedUserIds?: string[];

  @ApiPropertyOptional({ format: 'uuid', description: 'A lead political peer: record it in your compartment on this case (src/compartments)' })
  @IsOptional() @IsUUID()
  compartmentId?: string;
}

/** A correction restates the whole record; its marking stays that of the original. */
export class CorrectConversationDto {
  @ApiProperty({ description: 'The version being corrected (the latest you read); a stale one answers 409' })
  @IsInt() @Min(1)
  version: number;

  @ApiProperty({ description: 'Why the record is corrected' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(2000)
  correctionReason: string;

  @ApiProperty({ enum: ConversationKind, enumName: 'ConversationKind' })
  @IsEnum(ConversationKind)
  kind: ConversationKind;

  @ApiProperty()
  @IsDateString({ strict: true }) @Matches(DATE, { message: 'heldOn must be a date YYYY-MM-DD' })
  heldOn: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ArrayUnique() @IsUUID('all', { each: true })
  internalParticipantIds?: string[];

  @ApiPropertyOptional({ type: [ExternalParticipantDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(50) @ValidateNested({ each: true }) @Type(() => ExternalParticipantDto)
  externalParticipants?: ExternalParticipantDto[];

  @ApiProperty()
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(50000)
  summary: string;

  @ApiPropertyOptional({ type: [AgreedActionDto] })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => AgreedActionDto)
  agreedActions?: AgreedActionDto[];
}

export class ConversationDto {
  @ApiProperty({ format: 'uuid', description: 'The record (stable across corrections)' }) recordId: string;
  @ApiProperty({ description: 'Version of this text; 1 is the original' }) version: number;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ enum: ConversationKind, enumName: 'ConversationKind' }) kind: ConversationKind;
  @ApiProperty() heldOn: string;
  @ApiProperty({ type: [String] }) internalParticipantIds: string[];
  @ApiProperty({ type: [ExternalParticipantDto] }) externalParticipants: ExternalParticipantDto[];
  @ApiProperty() summary: string;
  @ApiProperty({ type: [AgreedActionDto] }) agreedActions: AgreedActionDto[];
  @ApiProperty({ enum: ItemHandling, enumName: 'ItemHandling' }) handling: ItemHandling;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) partyId: string | null;
  @ApiProperty({ type: [String] }) namedUserIds: string[];
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
  @ApiProperty({ nullable: true, type: String }) correctionReason: string | null;
}

export class ConversationWithHistoryDto extends ConversationDto {
  @ApiProperty({ type: [ConversationDto], description: 'Earlier versions, newest first' }) earlierVersions: ConversationDto[];
}

export class RecordIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  recordId: string;
}
