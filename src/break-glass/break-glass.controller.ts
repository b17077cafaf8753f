import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { CaseRefParam } from '../cases/dto';
import { BreakGlassService } from './break-glass.service';
import { BreakGlassDto, BreakGlassGrantDto, BreakGlassQueueDto, BreakGlassQueueQueryDto, BreakGlassReviewItemDto, GrantIdParam, ReviewGrantDto } from './dto';

@ApiTags('cases')
@ApiBearerAuth()
@Controller('cases')
export class BreakGlassController {
  constructor(private readonly breakGlass: BreakGlassService) {}

  @RequirePermission(Permission.CaseFileRead)
  @Post(':id/break-glass')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Break-glass: read a case restricted to its team that you cannot otherwise see (clearing-house managers)',
    description:
      'Needs a reason (at least 20 characters) and a current code from your authenticator app. Grants read-only access for BREAK_GLASS_MINUTES ' +
      "(default 60), never to the source's identity. The grant and every read under it are audited; every auditor is notified and reviews it.",
  })
  @ApiCreatedResponse({ type: BreakGlassGrantDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'Not a clearing-house manager, or the code is wrong or was already used (audited; counts towards the sign-in lock-out)' })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such case' })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'You can already see the case (details.precondition: case_hidden_from_you)' })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'You already hold an unexpired grant on it' })
  open(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: BreakGlassDto): Promise<BreakGlassGrantDto> {
    return this.breakGlass.breakGlass(actor, p.id, dto);
  }
}

/** The auditors' review of break-glass use. */
@ApiTags('audit')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Auditors only' })
@RequirePermission(Permission.AuditRead)
@Controller('audit/break-glass')
export class BreakGlassReviewController {
  constructor(private readonly breakGlass: BreakGlassService) {}

  @Get()
  @ApiOperation({ summary: 'Break-glass grants: who, which case, why, until when, reads under it; unreviewed first' })
  @ApiOkResponse({ type: BreakGlassQueueDto })
  queue(@CurrentActor() actor: Actor, @Query() q: BreakGlassQueueQueryDto): Promise<BreakGlassQueueDto> {
    return this.breakGlass.queue(actor, { reviewed: q.reviewed, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Post(':id/review')
  @HttpCode(200)
  @ApiOperation({ summary: 'Record your review of a break-glass grant (once)' })
  @ApiOkResponse({ type: BreakGlassReviewItemDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'Already reviewed' })
  review(@CurrentActor() actor: Actor, @Param() p: GrantIdParam, @Body() dto: ReviewGrantDto): Promise<BreakGlassReviewItemDto> {
    return this.breakGlass.review(actor, p.id, dto.note);
  }
}
