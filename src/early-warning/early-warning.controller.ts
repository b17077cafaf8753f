import { Body, Controller, Get, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { AuthorityEarlyWarningDto, AuthorityParam, CommitmentsDto, FlagListDto, RecordSignalDto, SignalDto } from './dto';
import { EarlyWarningService } from './early-warning.service';

@ApiTags('early warning')
@ApiBearerAuth()
@RequirePermission(Permission.EarlyWarning)
@Controller('early-warning')
export class EarlyWarningController {
  constructor(private readonly earlyWarning: EarlyWarningService) {}

  @Get('flags')
  @ApiOperation({ summary: 'Authorities with several recent signals or overdue commitments, with the reasons and the rule used' })
  @ApiOkResponse({ type: FlagListDto })
  flags(@CurrentActor() actor: Actor): Promise<FlagListDto> {
    return this.earlyWarning.flagged(actor);
  }

  @Get('authorities/:code')
  @ApiOperation({ summary: "One authority's signals over time, its commitments and how the rule reads them" })
  @ApiOkResponse({ type: AuthorityEarlyWarningDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  get(@CurrentActor() actor: Actor, @Param() p: AuthorityParam): Promise<AuthorityEarlyWarningDto> {
    return this.earlyWarning.get(actor, p.code);
  }

  @Post('authorities/:code/signals')
  @ApiOperation({ summary: 'Record a signal seen at an authority (kept for ever, never edited)' })
  @ApiCreatedResponse({ type: SignalDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  recordSignal(@CurrentActor() actor: Actor, @Param() p: AuthorityParam, @Body() dto: RecordSignalDto): Promise<SignalDto> {
    return this.earlyWarning.recordSignal(actor, p.code, dto);
  }

  @Put('authorities/:code/commitments')
  @ApiOperation({ summary: "Set an authority's commitments: statement signed, last self-evaluation, last peer challenge" })
  @ApiOkResponse({ type: AuthorityEarlyWarningDto })
  @ApiConflictResponse({ type: ApiErrorDto })
  setCommitments(@CurrentActor() actor: Actor, @Param() p: AuthorityParam, @Body() dto: CommitmentsDto): Promise<AuthorityEarlyWarningDto> {
    return this.earlyWarning.setCommitments(actor, p.code, dto);
  }
}
