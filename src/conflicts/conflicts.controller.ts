import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags,
} from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { CaseRefParam, UuidParam } from '../cases/dto';
import { ConflictsService } from './conflicts.service';
import { CaseRecusalDto, DeclareTieDto, EndTieDto, RecusalDto, RecuseDto, TieDto, WithdrawRecusalDto } from './dto';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case, or one you may not see (the two answers are identical); a case you recused yourself from reads the same' };

/** Your own declared ties (conflicts of interest), and other users' for those who compose teams or manage accounts. */
@ApiTags('conflicts')
@ApiBearerAuth()
@Controller()
export class ConflictsController {
  constructor(private readonly conflicts: ConflictsService) {}

  @RequirePermission(Permission.ConflictsDeclare)
  @Get('conflicts/declarations')
  @ApiOperation({ summary: 'Your declared ties, current and ended' })
  @ApiOkResponse({ type: [TieDto] })
  listOwn(@CurrentActor() actor: Actor): Promise<TieDto[]> {
    return this.conflicts.listOwn(actor);
  }

  @RequirePermission(Permission.ConflictsDeclare)
  @Post('conflicts/declarations')
  @ApiOperation({
    summary: 'Declare a tie: a council you work for or represent, an employer, a party role, a personal tie to named people',
    description: 'A current tie that names a council stops your addition to a case team on that council unless a clearing-house manager overrides it with a reason. Managers and administrators can see your declarations. Audited (never the detail).',
  })
  @ApiCreatedResponse({ type: TieDto })
  declare(@CurrentActor() actor: Actor, @Body() dto: DeclareTieDto): Promise<TieDto> {
    return this.conflicts.declare(actor, dto);
  }

  @RequirePermission(Permission.ConflictsDeclare)
  @Post('conflicts/declarations/end')
  @HttpCode(200)
  @ApiOperation({ summary: 'End one of your declared ties (kept, with the time it ended)' })
  @ApiOkResponse({ type: TieDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such declaration of yours' })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'Already ended' })
  end(@CurrentActor() actor: Actor, @Body() dto: EndTieDto): Promise<TieDto> {
    return this.conflicts.end(actor, dto.declarationId);
  }

  @RequirePermission(Permission.ConflictsReview)
  @Get('users/:id/conflict-declarations')
  @ApiOperation({ summary: "A user's declared ties, current and ended (clearing-house managers and administrators; audited)" })
  @ApiOkResponse({ type: [TieDto] })
  @ApiForbiddenResponse({ type: ApiErrorDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such user' })
  listOfUser(@CurrentActor() actor: Actor, @Param() p: UuidParam): Promise<TieDto[]> {
    return this.conflicts.listOfUser(actor, p.id);
  }
}

/** Recusal from a case. */
@ApiTags('cases')
@ApiBearerAuth()
@Controller('cases')
export class RecusalsController {
  constructor(private readonly conflicts: ConflictsService) {}

  @RequirePermission(Permission.CaseFileRead)
  @Post(':id/recusal')
  @ApiOperation({
    summary: 'Recuse yourself from a case you may see',
    description:
      'Your access ends at once, whatever your role: the case answers 404 as if it did not exist and leaves your lists and counts; you leave its team. ' +
      'Only a clearing-house manager can withdraw it (POST /cases/{id}/recusals/withdraw). Audited, with your reason if you give one.',
  })
  @ApiCreatedResponse({ type: RecusalDto })
  @ApiNotFoundResponse(NOT_FOUND)
  recuse(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: RecuseDto): Promise<RecusalDto> {
    return this.conflicts.recuse(actor, p.id, dto.reason ?? null);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Get(':id/recusals')
  @ApiOperation({ summary: 'Who recused themselves from the case, and which recusals were withdrawn (clearing-house managers)' })
  @ApiOkResponse({ type: [CaseRecusalDto] })
  @ApiForbiddenResponse({ type: ApiErrorDto })
  @ApiNotFoundResponse(NOT_FOUND)
  list(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<CaseRecusalDto[]> {
    return this.conflicts.listForCase(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post(':id/recusals/withdraw')
  @HttpCode(200)
  @ApiOperation({ summary: "Withdraw a user's recusal, with a reason (clearing-house managers; audited): their access is back as their role gives it" })
  @ApiOkResponse({ type: CaseRecusalDto })
  @ApiForbiddenResponse({ type: ApiErrorDto })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such case you may see, or the user has no current recusal from it' })
  withdraw(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: WithdrawRecusalDto): Promise<CaseRecusalDto> {
    return this.conflicts.withdraw(actor, p.id, dto);
  }
}
