import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { GrantsQueryDto, LiaisonDto, NameLiaisonDto, PackDto, PackItemDto, PackSummaryDto, ReleasePackItemDto, StageGrantDto, UuidParam } from './dto';
import { StageAccessService } from './stage-access.service';

const NOT_FOUND = { type: ApiErrorDto, description: 'No such case or item, or one you may not see (the answers are identical)' };

@ApiTags('stage-access')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto })
@Controller()
export class StageAccessController {
  constructor(private readonly stageAccess: StageAccessService) {}

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/liaisons')
  @ApiOperation({ summary: "Name a government liaison for the case's pre-intervention meeting (managers; only at that stage; with a reason)" })
  @ApiCreatedResponse({ type: LiaisonDto })
  @ApiNotFoundResponse(NOT_FOUND)
  nameLiaison(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: NameLiaisonDto): Promise<LiaisonDto> {
    return this.stageAccess.nameLiaison(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileRead)
  @Get('cases/:id/liaisons')
  @ApiOperation({ summary: 'The government liaisons named on the case, for this and earlier stages' })
  @ApiOkResponse({ type: [LiaisonDto] })
  @ApiNotFoundResponse(NOT_FOUND)
  listLiaisons(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<LiaisonDto[]> {
    return this.stageAccess.listLiaisons(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('liaisons/:id/removal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Remove a liaison from the meeting: their access ends at once (managers)' })
  @ApiOkResponse({ type: LiaisonDto })
  @ApiNotFoundResponse(NOT_FOUND)
  removeLiaison(@CurrentActor() actor: Actor, @Param() p: UuidParam): Promise<LiaisonDto> {
    return this.stageAccess.removeLiaison(actor, p.id);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('cases/:id/pack/items')
  @ApiOperation({ summary: 'Release an item into the pre-intervention pack: a summary written for it, agreed support, or the meeting (clearing-house staff)' })
  @ApiCreatedResponse({ type: PackItemDto })
  @ApiNotFoundResponse(NOT_FOUND)
  release(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: ReleasePackItemDto): Promise<PackItemDto> {
    return this.stageAccess.release(actor, p.id, dto);
  }

  @RequirePermission(Permission.CaseFileWrite)
  @Post('pack-items/:id/withdrawal')
  @HttpCode(204)
  @ApiOperation({ summary: 'Withdraw an item from the pack (clearing-house staff)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse(NOT_FOUND)
  withdraw(@CurrentActor() actor: Actor, @Param() p: UuidParam): Promise<void> {
    return this.stageAccess.withdraw(actor, p.id);
  }

  @RequirePermission(Permission.StagePackRead)
  @Get('cases/:id/pack')
  @ApiOperation({ summary: "The pre-intervention meeting's pack: for a government liaison, only while the case is at that stage and they are named for it" })
  @ApiOkResponse({ type: PackDto })
  @ApiNotFoundResponse(NOT_FOUND)
  pack(@CurrentActor() actor: Actor, @Param() p: CaseRefParam): Promise<PackDto> {
    return this.stageAccess.pack(actor, p.id);
  }

  @RequirePermission(Permission.StagePackRead)
  @Get('stage-access/packs')
  @ApiOperation({ summary: 'The packs open to you now (a government liaison: the cases at a stage you are named for)' })
  @ApiOkResponse({ type: [PackSummaryDto] })
  myPacks(@CurrentActor() actor: Actor): Promise<PackSummaryDto[]> {
    return this.stageAccess.myPacks(actor);
  }

  @RequirePermission(Permission.AuditRead)
  @Get('stage-access/grants')
  @ApiOperation({ summary: 'Auditors: stage-driven access per case (liaisons for pre-intervention meetings, RIEP referrals), when it began and ended' })
  @ApiOkResponse({ type: [StageGrantDto] })
  grants(@CurrentActor() actor: Actor, @Query() q: GrantsQueryDto): Promise<StageGrantDto[]> {
    return this.stageAccess.grants(actor, q.caseId);
  }
}
