import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { CaseRefParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import { ApproveDestructionDto, LegalHoldDto, ListDueResultDto, RetentionReviewDto, ReviewIdParam, ReviewsQueryDto } from './dto';
import { RetentionService } from './retention.service';

@ApiTags('retention')
@ApiBearerAuth()
@RequirePermission(Permission.RetentionManage)
@Controller()
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Get('retention/reviews')
  @ApiOperation({ summary: 'Cases whose content the retention schedule makes due for destruction (listed daily), or past decisions' })
  @ApiOkResponse({ type: [RetentionReviewDto] })
  reviews(@CurrentActor() actor: Actor, @Query() q: ReviewsQueryDto): Promise<RetentionReviewDto[]> {
    return this.retention.reviews(actor, q.status ?? 'pending');
  }

  @Post('retention/run')
  @HttpCode(200)
  @ApiOperation({ summary: 'List what is due now (the daily job does this on its own)' })
  @ApiOkResponse({ type: ListDueResultDto })
  async run(): Promise<ListDueResultDto> {
    return { listed: await this.retention.listDue() };
  }

  @Post('retention/reviews/:id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: "Approve destruction: the case's content is destroyed at once, keeping its skeleton and the audit trail. Cannot be undone." })
  @ApiOkResponse({ type: RetentionReviewDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'On legal hold, reopened, or already decided' })
  approve(@CurrentActor() actor: Actor, @Param() p: ReviewIdParam, @Body() dto: ApproveDestructionDto): Promise<RetentionReviewDto> {
    return this.retention.approve(actor, p.id, dto.reason);
  }

  @Put('cases/:id/legal-hold')
  @ApiOperation({ summary: 'Put a case on legal hold (stops destruction) or lift the hold' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  legalHold(@CurrentActor() actor: Actor, @Param() p: CaseRefParam, @Body() dto: LegalHoldDto) {
    return this.retention.setLegalHold(actor, p.id, dto.hold, dto.reason, dto.version);
  }
}
