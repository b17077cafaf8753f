import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { IdempotentCreate } from '../idempotency/idempotent-create.decorator';
import { IdempotentResource } from '../idempotency/idempotent-resource';
import { AgreedRecordType } from './agreed-record-policy';
import { AgreedRecordsService } from './agreed-records.service';
import {
  AddAddendumDto, AddendumDto, AgreementStatusDto, AgreementVerificationDto, AttestationDto, AttestDto, ConversationRecordIdParam, ExternalAgreementDto,
  MeetingRecordIdParam, RecordExternalAgreementDto,
} from './dto';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such record, or one you may not see (the answers are identical)' };
const NOT_AGREED = { type: ApiErrorDto, description: 'The record has not been agreed (details.precondition record_agreed)' };
const SEALED = { type: ApiErrorDto, description: 'details.rule names the rule: agreed_record_sealed, attest_once_per_version, addendum_only_after_agreement; or VERSION_CONFLICT' };

/*
 * The same five routes under each kind of record that can be agreed: a conversation record
 * (/conversations/:recordId/...) and a pre-intervention meeting (/pre-intervention-meetings/:id/...).
 */
const SUMMARY = {
  status: 'Whether the record is a draft or agreed: participants, attestations, external agreements, the seal and the addenda',
  attest: 'Attest the latest version (participants named on the record only); the last attestation agrees and seals it',
  external: 'Record that the draft was agreed with the authority or with government: who, when, how (never content)',
  addendum: 'Add an addendum to the agreed record: the only way to correct it once agreed',
  verify: "Recompute the record's hash and check it against its agreement, and that the agreement's audit record is sealed in the Merkle tree",
};

@ApiTags('agreed records')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class AgreedRecordsController {
  constructor(private readonly agreedRecords: AgreedRecordsService) {}

  @RequirePermission(Permission.CaseFileRead)
  @Get('conversations/:recordId/agreement')
  @ApiOperation({ summary: SUMMARY.status })
  @ApiOkResponse({ type: AgreementStatusDto })
  @ApiNotFoundResponse(NOT_FOUND)
  conversationStatus(@CurrentActor() actor: Actor, @Param() p: ConversationRecordIdParam): Promise<AgreementStatusDto> {
    return this.agreedRecords.status(actor, AgreedRecordType.Conversation, p.recordId);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Post('conversations/:recordId/attestations')
  @IdempotentCreate(IdempotentResource.RecordAttestation)
  @ApiOperation({ summary: SUMMARY.attest })
  @ApiCreatedResponse({ type: AttestationDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(SEALED)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'The record names no participant who is a user' })
  attestConversation(@CurrentActor() actor: Actor, @Param() p: ConversationRecordIdParam, @Body() dto: AttestDto): Promise<AttestationDto> {
    return this.agreedRecords.attest(actor, AgreedRecordType.Conversation, p.recordId, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('conversations/:recordId/external-agreements')
  @IdempotentCreate(IdempotentResource.RecordExternalAgreement)
  @ApiOperation({ summary: SUMMARY.external })
  @ApiCreatedResponse({ type: ExternalAgreementDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(SEALED)
  conversationExternalAgreement(@CurrentActor() actor: Actor, @Param() p: ConversationRecordIdParam, @Body() dto: RecordExternalAgreementDto): Promise<ExternalAgreementDto> {
    return this.agreedRecords.recordExternalAgreement(actor, AgreedRecordType.Conversation, p.recordId, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('conversations/:recordId/addenda')
  @IdempotentCreate(IdempotentResource.RecordAddendum)
  @ApiOperation({ summary: SUMMARY.addendum })
  @ApiCreatedResponse({ type: AddendumDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(SEALED)
  conversationAddendum(@CurrentActor() actor: Actor, @Param() p: ConversationRecordIdParam, @Body() dto: AddAddendumDto): Promise<AddendumDto> {
    return this.agreedRecords.addAddendum(actor, AgreedRecordType.Conversation, p.recordId, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('conversations/:recordId/agreement/verification')
  @ApiOperation({ summary: SUMMARY.verify })
  @ApiOkResponse({ type: AgreementVerificationDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse(NOT_AGREED)
  verifyConversation(@CurrentActor() actor: Actor, @Param() p: ConversationRecordIdParam): Promise<AgreementVerificationDto> {
    return this.agreedRecords.verify(actor, AgreedRecordType.Conversation, p.recordId);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('pre-intervention-meetings/:id/agreement')
  @ApiOperation({ summary: SUMMARY.status })
  @ApiOkResponse({ type: AgreementStatusDto })
  @ApiNotFoundResponse(NOT_FOUND)
  meetingStatus(@CurrentActor() actor: Actor, @Param() p: MeetingRecordIdParam): Promise<AgreementStatusDto> {
    return this.agreedRecords.status(actor, AgreedRecordType.Meeting, p.id);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Post('pre-intervention-meetings/:id/attestations')
  @IdempotentCreate(IdempotentResource.RecordAttestation)
  @ApiOperation({ summary: SUMMARY.attest })
  @ApiCreatedResponse({ type: AttestationDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(SEALED)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'The meeting names no participant who is a user' })
  attestMeeting(@CurrentActor() actor: Actor, @Param() p: MeetingRecordIdParam, @Body() dto: AttestDto): Promise<AttestationDto> {
    return this.agreedRecords.attest(actor, AgreedRecordType.Meeting, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('pre-intervention-meetings/:id/external-agreements')
  @IdempotentCreate(IdempotentResource.RecordExternalAgreement)
  @ApiOperation({ summary: SUMMARY.external })
  @ApiCreatedResponse({ type: ExternalAgreementDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(SEALED)
  meetingExternalAgreement(@CurrentActor() actor: Actor, @Param() p: MeetingRecordIdParam, @Body() dto: RecordExternalAgreementDto): Promise<ExternalAgreementDto> {
    return this.agreedRecords.recordExternalAgreement(actor, AgreedRecordType.Meeting, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('pre-intervention-meetings/:id/addenda')
  @IdempotentCreate(IdempotentResource.RecordAddendum)
  @ApiOperation({ summary: SUMMARY.addendum })
  @ApiCreatedResponse({ type: AddendumDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse(SEALED)
  meetingAddendum(@CurrentActor() actor: Actor, @Param() p: MeetingRecordIdParam, @Body() dto: AddAddendumDto): Promise<AddendumDto> {
    return this.agreedRecords.addAddendum(actor, AgreedRecordType.Meeting, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('pre-intervention-meetings/:id/agreement/verification')
  @ApiOperation({ summary: SUMMARY.verify })
  @ApiOkResponse({ type: AgreementVerificationDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse(NOT_AGREED)
  verifyMeeting(@CurrentActor() actor: Actor, @Param() p: MeetingRecordIdParam): Promise<AgreementVerificationDto> {
    return this.agreedRecords.verify(actor, AgreedRecordType.Meeting, p.id);
  }
}
