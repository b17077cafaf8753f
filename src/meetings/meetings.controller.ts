import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { IdempotentCreate } from '../idempotency/idempotent-create.decorator';
import { IdempotentResource } from '../idempotency/idempotent-resource';
import { MeetingDto, MeetingIdParam, MeetingOutcomeDto, RecordMeetingDto } from './dto';
import { MeetingsService } from './meetings.service';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case or meeting, or one you may not see' };

@ApiTags('pre-intervention meetings')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class MeetingsController {
  constructor(private readonly meetings: MeetingsService) {}

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/pre-intervention-meetings')
  @IdempotentCreate(IdempotentResource.Meeting)
  @ApiOperation({ summary: 'Record the pre-intervention meeting (case must be at the pre-intervention stage; clearing-house staff)' })
  @ApiCreatedResponse({ type: MeetingDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto })
  record(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: RecordMeetingDto): Promise<MeetingDto> {
    return this.meetings.record(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/pre-intervention-meetings')
  @ApiOkResponse({ type: [MeetingDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  list(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<MeetingDto[]> {
    return this.meetings.list(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('pre-intervention-meetings/:id/outcome')
  @HttpCode(200)
  @ApiOperation({ summary: "Record the meeting's outcome; it drives the case's move in the same transaction" })
  @ApiOkResponse({ type: MeetingDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto })
  outcome(@CurrentActor() actor: Actor, @Param() p: MeetingIdParam, @Body() dto: MeetingOutcomeDto): Promise<MeetingDto> {
    return this.meetings.recordOutcome(actor, p.id, dto);
  }
}
