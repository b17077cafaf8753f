import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { IdempotentCreate } from '../idempotency/idempotent-create.decorator';
import { IdempotentResource } from '../idempotency/idempotent-resource';
import { ConversationsService } from './conversations.service';
import { ConversationDto, ConversationWithHistoryDto, CorrectConversationDto, RecordConversationDto, RecordIdParam } from './dto';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case or record, or one you may not see (the answers are identical)' };

@ApiTags('conversations')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/conversations')
  @IdempotentCreate(IdempotentResource.Conversation)
  @ApiOperation({ summary: 'Record a sensitive conversation, confidential discussion, facilitated meeting or call' })
  @ApiCreatedResponse({ type: ConversationDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'The case is closed' })
  record(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: RecordConversationDto): Promise<ConversationDto> {
    return this.conversations.record(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/conversations')
  @ApiOperation({ summary: 'The latest version of each conversation record on the case that you may see' })
  @ApiOkResponse({ type: [ConversationDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  list(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<ConversationDto[]> {
    return this.conversations.list(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('conversations/:recordId')
  @ApiOperation({ summary: 'One record: its latest version and every earlier one' })
  @ApiOkResponse({ type: ConversationWithHistoryDto })
  @ApiNotFoundResponse(NOT_FOUND)
  get(@CurrentActor() actor: Actor, @Param() p: RecordIdParam): Promise<ConversationWithHistoryDto> {
    return this.conversations.get(actor, p.recordId);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('conversations/:recordId/corrections')
  @IdempotentCreate(IdempotentResource.Conversation)
  @ApiOperation({ summary: 'Correct a record: a new version; the earlier ones stay. Its recorder or a manager only.' })
  @ApiCreatedResponse({ type: ConversationDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'VERSION_CONFLICT: the record was corrected since you read it' })
  correct(@CurrentActor() actor: Actor, @Param() p: RecordIdParam, @Body() dto: CorrectConversationDto): Promise<ConversationDto> {
    return this.conversations.correct(actor, p.recordId, dto);
  }
}
