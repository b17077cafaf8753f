import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { CaseDeadlinesService } from './case-deadlines.service';
import { DeadlineDto, DeadlineIdParam } from './dto';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case or deadline, or one you may not see' };

@ApiTags('deadlines')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class DeadlinesController {
  constructor(private readonly deadlines: CaseDeadlinesService) {}

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/deadlines')
  @ApiOperation({ summary: "The case's deadlines (triage, first conversation, review dates, agreed actions, pre-intervention meeting) and the reminders sent" })
  @ApiOkResponse({ type: [DeadlineDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  list(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<DeadlineDto[]> {
    return this.deadlines.list(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('deadlines/:id/met')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark an agreed action done or a review held (others are met by their own step); no more reminders for it' })
  @ApiOkResponse({ type: DeadlineDto })
  @ApiNotFoundResponse(NOT_FOUND)
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'PRECONDITION_FAILED: already met or cancelled, or met by its own step' })
  markMet(@CurrentActor() actor: Actor, @Param() p: DeadlineIdParam): Promise<DeadlineDto> {
    return this.deadlines.markMet(actor, p.id);
  }
}
