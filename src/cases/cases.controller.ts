import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { IdempotentCreate } from '../idempotency/idempotent-create.decorator';
import { IdempotentResource } from '../idempotency/idempotent-resource';
import { CasesService } from './cases.service';
import {
  AddTeamMemberDto, CaseDto, CasePageDto, CaseRefParam, CaseRestrictionDto, ConcernDto, GovernmentTriggerDto, ListCasesQueryDto, LoggedConcernDto, LogConcernDto, MoveCaseDto,
  TeamMemberParams, TransitionDto, UuidParam,
} from './dto';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case, or one you may not see (the two answers are identical)' };

@ApiTags('cases')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Your role may not do this (auditors and administrators never read case content)' })
@Controller()
export class CasesController {
  constructor(private readonly cases: CasesService) {}

  @RequirePermission(Permission.ConcernsLog)
  @Post('concerns')
  @IdempotentCreate(IdempotentResource.Concern)
  @ApiOperation({ summary: 'Log a concern: opens a new case, or joins the open case given as caseId. Warns when the authority already has an open case.' })
  @ApiCreatedResponse({ type: LoggedConcernDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'The case named by caseId is closed' })
  logConcern(@CurrentActor() actor: Actor, @Body() dto: LogConcernDto): Promise<LoggedConcernDto> {
    return this.cases.logConcern(actor, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('concerns/:id')
  @ApiOperation({ summary: "One concern: whether it has a source and how it arrived, never the source's identity (see /concerns/{id}/source-identity)" })
  @ApiOkResponse({ type: ConcernDto })
  @ApiNotFoundResponse(NOT_FOUND)
  getConcern(@CurrentActor() actor: Actor, @Param() p: UuidParam): Promise<ConcernDto> {
    return this.cases.getConcern(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases')
  @ApiOperation({ summary: 'The case register as you may see it: filtered, newest first, paged; total counts only what you may see' })
  @ApiOkResponse({ type: CasePageDto })
  list(@CurrentActor() actor: Actor, @Query() q: ListCasesQueryDto): Promise<CasePageDto> {
    return this.cases.list(actor, q);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id')
  @ApiOperation({ summary: 'One case by id or reference, with its team and the concerns you may see' })
  @ApiOkResponse({ type: CaseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  get(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<CaseDto> {
    return this.cases.get(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/history')
  @ApiOperation({ summary: 'Every move of the case: who, when, from, to and why' })
  @ApiOkResponse({ type: [TransitionDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  history(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<TransitionDto[]> {
    return this.cases.history(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/moves')
  @HttpCode(200)
  @ApiOperation({ summary: 'Move the case through the workflow (see the CaseMove and CaseState enums and the README workflow table)' })
  @ApiOkResponse({ type: CaseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'VERSION_CONFLICT: someone else changed the case since you read it' })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'PRECONDITION_FAILED: details.precondition names what is missing, or the move does not start from this state' })
  move(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: MoveCaseDto): Promise<CaseDto> {
    return this.cases.move(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Put('cases/:id/government-trigger')
  @ApiOperation({ summary: 'Record that a government department contemplates intervention (needed before a pre-intervention meeting)' })
  @ApiOkResponse({ type: CaseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto })
  governmentTrigger(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: GovernmentTriggerDto): Promise<CaseDto> {
    return this.cases.recordGovernmentTrigger(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Put('cases/:id/restriction')
  @ApiOperation({
    summary: 'Restrict the case to its team, or lift the restriction (clearing-house managers)',
    description: 'While restricted, only current team members and the manager who restricted it see the case; everyone else gets 404, and other managers may open it only through break-glass (POST /cases/:id/break-glass).',
  })
  @ApiOkResponse({ type: CaseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'VERSION_CONFLICT: someone else changed the case since you read it' })
  setRestriction(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: CaseRestrictionDto): Promise<CaseDto> {
    return this.cases.setRestriction(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/team')
  @IdempotentCreate(IdempotentResource.TeamMember)
  @ApiOperation({ summary: 'Add a user to the case team (clearing-house managers)' })
  @ApiCreatedResponse({ type: CaseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto })
  addTeamMember(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: AddTeamMemberDto): Promise<CaseDto> {
    return this.cases.addTeamMember(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Delete('cases/:id/team/:userId')
  @ApiOperation({ summary: 'Remove a user from the case team (clearing-house managers); their access ends at once' })
  @ApiOkResponse({ type: CaseDto })
  @ApiNotFoundResponse(NOT_FOUND)
  removeTeamMember(@CurrentActor() actor: Actor, @Param() p: TeamMemberParams): Promise<CaseDto> {
    return this.cases.removeTeamMember(actor, p.id, p.userId);
  }
}
