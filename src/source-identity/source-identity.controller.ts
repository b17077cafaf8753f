import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { UuidParam } from '../cases/dto';
import { ApiErrorDto } from '../common/api-error.dto';
import {
  ApproveReleaseDto, AuditListQueryDto, ListReleasesQueryDto, RefuseOrRevokeReleaseDto, ReleaseDto, ReleaseIdParam, ReleasePageDto, RequestReleaseDto, RevealPageDto,
  RevealSourceIdentityDto, SourceIdentityDto,
} from './dto';
import { SourceIdentityService } from './source-identity.service';

const CONCERN_NOT_FOUND = { type: ApiErrorDto, description: 'No such concern, or one you may not see (the two answers are identical)' };
const RELEASE_NOT_FOUND = { type: ApiErrorDto, description: 'No such release, or one on a case or concern you may not see (the two answers are identical)' };
const NO_SOURCE = { type: ApiErrorDto, description: 'The concern has no recorded source (details.precondition: concern_has_source)' };

/**
 * A source's identity, released by two people. Ordinary concern reads show only `hasSource` and
 * the channel; the identity itself is here, for a manager who gives a reason or a colleague under
 * a release approved by a second manager. Never under break-glass; everything audited.
 */
@ApiTags('source identity')
@ApiBearerAuth()
@Controller()
export class SourceIdentityController {
  constructor(private readonly sourceIdentity: SourceIdentityService) {}

  @RequirePermission(Permission.SourceIdentityRelease)
  @Post('concerns/:id/source-identity/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: "Reveal who raised a concern (clearing-house managers, with a reason; audited with the reason; never under break-glass)" })
  @ApiOkResponse({ type: SourceIdentityDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'Not a clearing-house manager, or you see the case only through break-glass (audited)' })
  @ApiNotFoundResponse(CONCERN_NOT_FOUND)
  @ApiUnprocessableEntityResponse(NO_SOURCE)
  reveal(@CurrentActor() actor: Actor, @Param() p: UuidParam, @Body() dto: RevealSourceIdentityDto): Promise<SourceIdentityDto> {
    return this.sourceIdentity.reveal(actor, p.id, dto.reason);
  }

  @RequirePermission(Permission.SourceIdentityRead)
  @Get('concerns/:id/source-identity')
  @ApiOperation({ summary: 'Read a source identity released to you (an approved release, until it expires or is revoked; every read audited)' })
  @ApiOkResponse({ type: SourceIdentityDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'No approved, unexpired release to you (managers: use reveal with a reason)' })
  @ApiNotFoundResponse(CONCERN_NOT_FOUND)
  read(@CurrentActor() actor: Actor, @Param() p: UuidParam): Promise<SourceIdentityDto> {
    return this.sourceIdentity.readReleased(actor, p.id);
  }

  @RequirePermission(Permission.SourceIdentityRelease)
  @Post('concerns/:id/source-identity/releases')
  @ApiOperation({ summary: "Ask for a source's identity to be released to a colleague (a clearing-house officer or manager who may read the concern); a second manager decides" })
  @ApiCreatedResponse({ type: ReleaseDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'Not a clearing-house manager, or under break-glass' })
  @ApiNotFoundResponse(CONCERN_NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The colleague already has a release of this source asked for or approved (details.releaseId)' })
  @ApiUnprocessableEntityResponse(NO_SOURCE)
  request(@CurrentActor() actor: Actor, @Param() p: UuidParam, @Body() dto: RequestReleaseDto): Promise<ReleaseDto> {
    return this.sourceIdentity.request(actor, p.id, dto);
  }

  @RequirePermission(Permission.SourceIdentityRead)
  @Get('concerns/:id/source-identity/releases')
  @ApiOperation({ summary: "The releases of a concern's source you may see (managers: all; officers: those to you); never the identity" })
  @ApiOkResponse({ type: ReleasePageDto })
  @ApiNotFoundResponse(CONCERN_NOT_FOUND)
  listForConcern(@CurrentActor() actor: Actor, @Param() p: UuidParam, @Query() q: ListReleasesQueryDto): Promise<ReleasePageDto> {
    return this.sourceIdentity.listForConcern(actor, p.id, q);
  }

  @RequirePermission(Permission.SourceIdentityRead)
  @Get('source-identity/releases')
  @ApiOperation({ summary: 'Releases you may see, newest first (managers: every release on cases you may see, e.g. ?state=requested to decide; officers: those to you); never the identity' })
  @ApiOkResponse({ type: ReleasePageDto })
  list(@CurrentActor() actor: Actor, @Query() q: ListReleasesQueryDto): Promise<ReleasePageDto> {
    return this.sourceIdentity.list(actor, q);
  }

  @RequirePermission(Permission.SourceIdentityRelease)
  @Post('source-identity/releases/:id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a release (a second manager: not the one who asked, not the colleague); readable for SOURCE_IDENTITY_RELEASE_HOURS' })
  @ApiOkResponse({ type: ReleaseDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'You asked for it, it is for you, or you are not a manager (audited)' })
  @ApiNotFoundResponse(RELEASE_NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'Already decided or revoked' })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'The colleague may no longer read the concern (details.precondition: recipient_may_read_concern)' })
  approve(@CurrentActor() actor: Actor, @Param() p: ReleaseIdParam, @Body() dto: ApproveReleaseDto): Promise<ReleaseDto> {
    return this.sourceIdentity.approve(actor, p.id, dto.note ?? null);
  }

  @RequirePermission(Permission.SourceIdentityRelease)
  @Post('source-identity/releases/:id/refuse')
  @HttpCode(200)
  @ApiOperation({ summary: 'Refuse a release, with a reason (a second manager, as for approval)' })
  @ApiOkResponse({ type: ReleaseDto })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'You asked for it, it is for you, or you are not a manager (audited)' })
  @ApiNotFoundResponse(RELEASE_NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'Already decided or revoked' })
  refuse(@CurrentActor() actor: Actor, @Param() p: ReleaseIdParam, @Body() dto: RefuseOrRevokeReleaseDto): Promise<ReleaseDto> {
    return this.sourceIdentity.refuse(actor, p.id, dto.reason);
  }

  @RequirePermission(Permission.SourceIdentityRelease)
  @Post('source-identity/releases/:id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a request or end an approved release now, with a reason (any manager who may see the case)' })
  @ApiOkResponse({ type: ReleaseDto })
  @ApiNotFoundResponse(RELEASE_NOT_FOUND)
  @ApiConflictResponse({ type: ApiErrorDto, description: 'Already refused, revoked or expired' })
  revoke(@CurrentActor() actor: Actor, @Param() p: ReleaseIdParam, @Body() dto: RefuseOrRevokeReleaseDto): Promise<ReleaseDto> {
    return this.sourceIdentity.revoke(actor, p.id, dto.reason);
  }
}

/** The auditors' view: every release and every reveal, with reasons and decisions, never the identity. */
@ApiTags('audit')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Auditors only' })
@RequirePermission(Permission.AuditRead)
@Controller('audit/source-identity')
export class SourceIdentityAuditController {
  constructor(private readonly sourceIdentity: SourceIdentityService) {}

  @Get('releases')
  @ApiOperation({ summary: 'Every source identity release, newest first: who asked, for whom, why, who decided, until when; never the identity' })
  @ApiOkResponse({ type: ReleasePageDto })
  releases(@CurrentActor() actor: Actor, @Query() q: ListReleasesQueryDto): Promise<ReleasePageDto> {
    return this.sourceIdentity.auditReleases(actor, q);
  }

  @Get('reveals')
  @ApiOperation({ summary: "Every manager's reveal of a source identity (and refused attempt), newest first, with the reason; never the identity" })
  @ApiOkResponse({ type: RevealPageDto })
  reveals(@CurrentActor() actor: Actor, @Query() q: AuditListQueryDto): Promise<RevealPageDto> {
    return this.sourceIdentity.auditReveals(actor, q);
  }
}
