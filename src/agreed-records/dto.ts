import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDateString, IsEnum, IsInt, IsOptional, IsString, IsUUID, Matches, MaxLength, Min, MinLength } from 'class-validator';
import { AgreedRecordType, AgreementState } from './agreed-record-policy';
import { SealVerificationState } from './seal-verification';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Who, other than the participants, the record was agreed with. */
export enum ExternalCounterparty {
  Authority = 'authority',
  Government = 'government',
}

/** How that agreement was given (a fact, never its content). */
export enum ExternalAgreementMethod {
  InMeeting = 'in_meeting',
  InWriting = 'in_writing',
  Email = 'email',
  Call = 'call',
}

export class ConversationRecordIdParam {
  @ApiProperty({ format: 'uuid', description: 'The conversation record' })
  @IsUUID()
  recordId: string;
}

export class MeetingRecordIdParam {
  @ApiProperty({ format: 'uuid', description: 'The pre-intervention meeting' })
  @IsUUID()
  id: string;
}

export class AttestDto {
  @ApiProperty({ description: 'The version you read and attest (the latest); a stale one answers 409 VERSION_CONFLICT' })
  @IsInt() @Min(1)
  version: number;
}

export class RecordExternalAgreementDto {
  @ApiProperty({ enum: ExternalCounterparty, enumName: 'ExternalCounterparty' })
  @IsEnum(ExternalCounterparty)
  counterparty: ExternalCounterparty;

  @ApiProperty({ example: 'Department for Education', description: 'The authority or government body that agreed it' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  organisation: string;

  @ApiPropertyOptional({ example: 'Chief executive', description: 'The role of whoever agreed it for them (a role, not content)' })
  @IsOptional() @Transform(trim) @IsString() @MinLength(1) @MaxLength(200)
  agreedByRole?: string;

  @ApiProperty({ example: '2026-11-25' })
  @IsDateString({ strict: true }) @Matches(DATE, { message: 'agreedOn must be a date YYYY-MM-DD' })
  agreedOn: string;

  @ApiProperty({ enum: ExternalAgreementMethod, enumName: 'ExternalAgreementMethod' })
  @IsEnum(ExternalAgreementMethod)
  method: ExternalAgreementMethod;
}

export class AddAddendumDto {
  @ApiProperty({ maxLength: 20000, description: 'The correction or addition; the agreed record itself never changes' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(20000)
  text: string;
}

export class AttestationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: AgreedRecordType, enumName: 'AgreedRecordType' }) recordType: AgreedRecordType;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ description: 'The version attested' }) version: number;
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() attestedAt: string;
}

export class ExternalAgreementDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: AgreedRecordType, enumName: 'AgreedRecordType' }) recordType: AgreedRecordType;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ enum: ExternalCounterparty, enumName: 'ExternalCounterparty' }) counterparty: ExternalCounterparty;
  @ApiProperty() organisation: string;
  @ApiProperty({ nullable: true, type: String }) agreedByRole: string | null;
  @ApiProperty() agreedOn: string;
  @ApiProperty({ enum: ExternalAgreementMethod, enumName: 'ExternalAgreementMethod' }) method: ExternalAgreementMethod;
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
}

export class AddendumDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid', description: 'The agreement of the record it is linked to' }) agreementId: string;
  @ApiProperty({ enum: AgreedRecordType, enumName: 'AgreedRecordType' }) recordType: AgreedRecordType;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty() text: string;
  @ApiProperty({ format: 'uuid' }) recordedBy: string;
  @ApiProperty() recordedAt: string;
}

export class AgreementDto {
  @ApiProperty({ format: 'uuid', description: 'The agreement; the id of its audit record\'s resource' }) id: string;
  @ApiProperty({ description: 'The version agreed' }) version: number;
  @ApiProperty({ description: 'The canonical form hashed' }) hashFormat: string;
  @ApiProperty({ description: 'SHA-256 (hex) of the record\'s canonical content and metadata, carried by the audit record' }) contentHash: string;
  @ApiProperty() agreedAt: string;
}

export class AgreementStatusDto {
  @ApiProperty({ enum: AgreedRecordType, enumName: 'AgreedRecordType' }) recordType: AgreedRecordType;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ description: 'The latest version' }) version: number;
  @ApiProperty({ enum: AgreementState, enumName: 'AgreementState' }) state: AgreementState;
  @ApiProperty({ type: [String], description: 'Users named on the latest version as taking part: who must attest' }) participantIds: string[];
  @ApiProperty({ type: [String], description: 'Of those, who has not attested the latest version' }) pendingParticipantIds: string[];
  @ApiProperty({ type: [AttestationDto], description: 'Every attestation, of any version' }) attestations: AttestationDto[];
  @ApiProperty({ type: [ExternalAgreementDto] }) externalAgreements: ExternalAgreementDto[];
  @ApiProperty({ type: AgreementDto, nullable: true }) agreement: AgreementDto | null;
  @ApiProperty({ type: [AddendumDto], description: 'Addenda to the agreed record, oldest first' }) addenda: AddendumDto[];
}

export class AgreementProblemDto {
  @ApiProperty({ enum: ['content_hash_mismatch', 'audit_record_missing', 'audit_hash_mismatch', 'audit_record_not_sealed', 'audit_leaf_mismatch', 'not_in_checkpoint'] })
  code: string;
  @ApiProperty() message: string;
  @ApiPropertyOptional({ type: [String], description: 'For content_hash_mismatch: the fields whose content changed' }) fields?: string[];
}

/** When and on which certificate retention destroyed the content of the record's case. */
export class ContentDestructionDto {
  @ApiProperty() destroyedAt: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The deletion certificate of the destruction (auditors read and verify it under /audit/deletion-certificates)' })
  deletionCertificateId: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'SHA-256 (hex) of that certificate, carried by its sealed audit record' })
  deletionCertificateHash: string | null;
}

export class AgreementVerificationDto {
  @ApiProperty({ enum: AgreedRecordType, enumName: 'AgreedRecordType' }) recordType: AgreedRecordType;
  @ApiProperty({ format: 'uuid' }) recordId: string;
  @ApiProperty({ format: 'uuid' }) agreementId: string;
  @ApiProperty({
    enum: SealVerificationState, enumName: 'SealVerificationState',
    description: 'intact; broken (see problems); content_destroyed: the content was destroyed under the retention schedule (see destruction), so it is not compared, and the agreement\'s audit record is intact',
  })
  state: SealVerificationState;
  @ApiProperty({ description: 'True only when state is intact: the record still hashes to the agreement and the agreement\'s audit record is sealed in the tree' }) valid: boolean;
  @ApiProperty() storedHash: string;
  @ApiProperty({ nullable: true, type: String, description: 'Null when the content was destroyed under retention: there is nothing left to hash' }) recomputedHash: string | null;
  @ApiProperty({ type: ContentDestructionDto, nullable: true }) destruction: ContentDestructionDto | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) auditRecordId: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Its position in the Merkle tree' }) auditSeq: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The size of the signed checkpoint the inclusion was checked against' }) checkpointTreeSize: number | null;
  @ApiProperty({ type: [AgreementProblemDto] }) problems: AgreementProblemDto[];
}
