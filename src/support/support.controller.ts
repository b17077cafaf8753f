import { Body, Controller, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { IdempotentCreate } from '../idempotency/idempotent-create.decorator';
import { IdempotentResource } from '../idempotency/idempotent-resource';
import { CreateSupportDto, ProgressNoteDto, ProgressNoteViewDto, SupportDto, SupportIdParam, UpdateSupportDto } from './dto';
import { SupportService } from './support.service';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case or support item, or one you may not see' };

@ApiTags('improvement support')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class SupportController {
  constructor(private readonly support: SupportService) {}

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/support')
  @IdempotentCreate(IdempotentResource.Support)
  @ApiOperation({ summary: 'Record improvement support (the agreed way forward): clearing-house staff and the RIEP facilitator' })
  @ApiCreatedResponse({ type: SupportDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto })
  create(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: CreateSupportDto): Promise<SupportDto> {
    return this.support.create(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/support')
  @ApiOkResponse({ type: [SupportDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  list(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<SupportDto[]> {
    return this.support.list(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Patch('support/:id')
  @ApiOperation({ summary: 'Update support: status (proposed → agreed → in_progress → completed, or withdrawn), dates, providers, outcomes' })
  @ApiOkResponse({ type: SupportDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto })
  update(@CurrentActor() actor: Actor, @Param() p: SupportIdParam, @Body() dto: UpdateSupportDto): Promise<SupportDto> {
    return this.support.update(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('support/:id/progress-notes')
  @IdempotentCreate(IdempotentResource.ProgressNote)
  @ApiOperation({ summary: 'Add a progress note (never edited or deleted)' })
  @ApiCreatedResponse({ type: ProgressNoteViewDto })
  @ApiNotFoundResponse(NOT_FOUND)
  addNote(@CurrentActor() actor: Actor, @Param() p: SupportIdParam, @Body() dto: ProgressNoteDto): Promise<ProgressNoteViewDto> {
    return this.support.addProgressNote(actor, p.id, dto.note);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('support/:id/progress-notes')
  @ApiOkResponse({ type: [ProgressNoteViewDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  notes(@CurrentActor() actor: Actor, @Param() p: SupportIdParam): Promise<ProgressNoteViewDto[]> {
    return this.support.progressNotes(actor, p.id);
  }
}
