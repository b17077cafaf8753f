import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDateString, IsEnum, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ReviewDecision } from './access-review-sample';
import { FlagRuleId } from './flag-rules';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class IdParam {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id: string;
}

export class ItemParams {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id: string;
  @ApiProperty({ format: 'uuid' }) @IsUUID() itemId: string;
}

export class FlagsQueryDto {
  @ApiPropertyOptional({ enum: FlagRuleId, enumName: 'FlagRuleId' }) @IsOptional() @IsEnum(FlagRuleId) rule?: FlagRuleId;
  @ApiPropertyOptional({ enum: ['open', 'reviewed'] }) @IsOptional() @IsIn(['open', 'reviewed'], { message: 'state must be open or reviewed' }) state?: 'open' | 'reviewed';
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() userId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() caseId?: string;
  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 1000000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(1_000_000) offset?: number;
}

export class NoteDto {
  @ApiProperty({ description: 'What you found (kept with the flag and in the audit trail)', minLength: 3, maxLength: 2000 })
  @Transform(trim) @IsString() @MinLength(3) @MaxLength(2000)
  note: string;
}

export class EvidenceDto {
  @ApiProperty() seq: number;
  @ApiProperty({ format: 'uuid' }) id: string;
}

export class FlagDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: FlagRuleId, enumName: 'FlagRuleId', description: 'The rule that raised it' }) rule: string;
  @ApiProperty({ description: 'A user id, or ip:<address> for refusals when nobody was signed in' }) subjectKey: string;
  @ApiProperty({ nullable: true, type: String }) userId: string | null;
  @ApiProperty({ nullable: true, type: String }) userName: string | null;
  @ApiProperty({ nullable: true, type: String }) caseId: string | null;
  @ApiProperty({ nullable: true, type: String }) caseReference: string | null;
  @ApiProperty() windowStart: string;
  @ApiProperty() windowEnd: string;
  @ApiProperty() raisedAt: string;
  @ApiProperty({ type: [EvidenceDto], description: 'The audit records that raised it (sequence numbers and ids; never content)' }) evidence: EvidenceDto[];
  @ApiProperty() recordCount: number;
  @ApiProperty({ type: Object }) details: Record<string, unknown>;
  @ApiProperty({ enum: ['open', 'reviewed'] }) state: string;
  @ApiProperty({ nullable: true, type: String }) reviewedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) reviewNote: string | null;
}

export class ScanResultDto {
  @ApiProperty() scanned: number;
  @ApiProperty() raised: number;
  @ApiProperty({ description: 'The last sealed sequence number scanned (the watermark)' }) lastSeq: number;
}

export class CreateAccessReviewDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z', description: 'Period start (inclusive)' }) @IsDateString() from: string;
  @ApiProperty({ example: '2026-12-01T00:00:00Z', description: 'Period end (exclusive)' }) @IsDateString() to: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'Default AUDIT_REVIEW_SAMPLE_SIZE' })
  @IsOptional() @IsInt() @Min(1) @Max(1000) sampleSize?: number;
  @ApiPropertyOptional({ description: '64 hex digits, to draw a sample again; default a fresh random seed' })
  @IsOptional() @Matches(/^[0-9a-f]{64}$/, { message: 'seed must be 64 lowercase hex digits' }) seed?: string;
}

export class DecideItemDto {
  @ApiProperty({ enum: ReviewDecision, enumName: 'ReviewDecision' }) @IsEnum(ReviewDecision) decision: ReviewDecision;
  @ApiPropertyOptional({ description: 'Required when queried', maxLength: 2000 })
  @IsOptional() @Transform(trim) @IsString() @MinLength(3) @MaxLength(2000) note?: string;
}

export class SignOffDto {
  @ApiPropertyOptional({ maxLength: 2000 }) @IsOptional() @Transform(trim) @IsString() @MinLength(3) @MaxLength(2000) note?: string;
}

export class AccessReviewItemDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() position: number;
  @ApiProperty() seq: number;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty() occurredAt: string;
  @ApiProperty({ nullable: true, type: String }) actorId: string | null;
  @ApiProperty({ nullable: true, type: String }) actorName: string | null;
  @ApiProperty({ nullable: true, type: String }) actorRole: string | null;
  @ApiProperty() action: string;
  @ApiProperty() resourceType: string;
  @ApiProperty({ nullable: true, type: String }) resourceId: string | null;
  @ApiProperty({ nullable: true, type: String }) caseId: string | null;
  @ApiProperty({ nullable: true, type: String }) caseReference: string | null;
  @ApiProperty({ nullable: true, type: String }) rule: string | null;
  @ApiProperty({ nullable: true, enum: ReviewDecision, enumName: 'ReviewDecision' }) decision: string | null;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({ nullable: true, type: String }) decidedBy: string | null;
  @ApiProperty({ nullable: true, type: String }) decidedAt: string | null;
}

export class AccessReviewDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty() sampleSize: number;
  @ApiProperty({ description: 'The seed the sample was drawn with (64 hex digits): draw it again with the same seed' }) seed: string;
  @ApiProperty({ description: 'Case accesses sealed up to this tree size formed the population' }) populationTreeSize: number;
  @ApiProperty() populationCount: number;
  @ApiProperty({ enum: ['open', 'signed_off'] }) state: string;
  @ApiProperty() createdBy: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) signedOffBy: string | null;
  @ApiProperty({ nullable: true, type: String }) signedOffAt: string | null;
  @ApiProperty({ nullable: true, type: String }) signOffNote: string | null;
  @ApiProperty() undecided: number;
  @ApiPropertyOptional({ type: [AccessReviewItemDto] }) items?: AccessReviewItemDto[];
}

export class EvidenceQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'One case (give caseId or userId)' }) @IsOptional() @IsUUID() caseId?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'One user (give caseId or userId)' }) @IsOptional() @IsUUID() userId?: string;
}

export class CertificatesQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() caseId?: string;
}

export class DeletionCertificateDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ format: 'uuid' }) reviewId: string;
  @ApiProperty() issuedAt: string;
  @ApiProperty({ description: 'SHA-256 of the certificate text (hex)' }) certificateHash: string;
  @ApiProperty({ description: 'The certificate exactly as hashed (canonical JSON)' }) certificateText: string;
  @ApiProperty({ type: Object, description: 'The certificate: what was destroyed (tables, row counts), when, under which rule, approved by whom' }) certificate: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, description: 'Its audit record' }) auditEventId: string | null;
  @ApiProperty({ nullable: true, type: Number, description: "Its audit record's sequence number; null until sealed" }) seq: number | null;
}

export class CertificateVerificationDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ format: 'uuid' }) certificateId: string;
  @ApiProperty() certificateHash: string;
  @ApiProperty({ description: 'The stored text hashes to the stored hash' }) hashMatches: boolean;
  @ApiProperty({ description: 'Its audit record carries that hash' }) auditRecordMatches: boolean;
  @ApiProperty({ description: 'The audit record is sealed and hashes to its leaf' }) sealed: boolean;
  @ApiProperty({ nullable: true, type: Number }) seq: number | null;
  @ApiProperty({ description: "The leaf is included under the latest checkpoint's root, and that checkpoint's signature is valid" }) included: boolean;
  @ApiProperty({ nullable: true, type: Number }) treeSize: number | null;
  @ApiProperty({ type: [String] }) problems: string[];
}
