import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { ValidationError } from '../common/domain-error';
import { AccessReviewsService } from './access-reviews.service';
import { DeletionCertificatesService } from './deletion-certificates.service';
import {
  AccessReviewDto, CertificatesQueryDto, CertificateVerificationDto, CreateAccessReviewDto, DecideItemDto, DeletionCertificateDto, EvidenceQueryDto, FlagDto,
  FlagsQueryDto, IdParam, ItemParams, NoteDto, ScanResultDto, SignOffDto,
} from './dto';
import { EvidenceService } from './evidence.service';
import { FlagsService } from './flags.service';

/** The auditor's workbench: flags for unusual access, sampled access reviews, evidence packs, deletion certificates. Auditors only; never case content. */
@ApiTags('audit')
@ApiBearerAuth()
@RequirePermission(Permission.AuditRead)
@Controller('audit')
export class AuditWorkbenchController {
  constructor(
    private readonly flags: FlagsService,
    private readonly reviews: AccessReviewsService,
    private readonly evidence: EvidenceService,
    private readonly certificates: DeletionCertificatesService,
  ) {}

  @Get('flags')
  @ApiOperation({ summary: 'Flags for unusual access, open first; each names the rule that raised it and its evidence (audit record sequence numbers)' })
  @ApiOkResponse({ type: [FlagDto] })
  listFlags(@CurrentActor() actor: Actor, @Query() q: FlagsQueryDto): Promise<FlagDto[]> {
    return this.flags.list(actor, q);
  }

  @Post('flags/scan')
  @HttpCode(200)
  @ApiOperation({ summary: 'Seal, then scan the audit records sealed since the last scan now (a scheduled job also does this)' })
  @ApiOkResponse({ type: ScanResultDto })
  scan(@CurrentActor() actor: Actor): Promise<ScanResultDto> {
    return this.flags.scan(actor);
  }

  @Get('flags/:id')
  @ApiOkResponse({ type: FlagDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  flag(@CurrentActor() actor: Actor, @Param() p: IdParam): Promise<FlagDto> {
    return this.flags.get(actor, p.id);
  }

  @Post('flags/:id/review')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a flag reviewed with a note (once; audited)' })
  @ApiOkResponse({ type: FlagDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'Already reviewed' })
  reviewFlag(@CurrentActor() actor: Actor, @Param() p: IdParam, @Body() dto: NoteDto): Promise<FlagDto> {
    return this.flags.review(actor, p.id, dto.note);
  }

  @Post('access-reviews')
  @ApiOperation({ summary: "Draw a sampled access review of a period's case accesses (random, reproducible from its seed)" })
  @ApiOkResponse({ type: AccessReviewDto })
  createReview(@CurrentActor() actor: Actor, @Body() dto: CreateAccessReviewDto): Promise<AccessReviewDto> {
    return this.reviews.create(actor, dto);
  }

  @Get('access-reviews')
  @ApiOkResponse({ type: [AccessReviewDto] })
  listReviews(@CurrentActor() actor: Actor): Promise<AccessReviewDto[]> {
    return this.reviews.list(actor);
  }

  @Get('access-reviews/:id')
  @ApiOkResponse({ type: AccessReviewDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  review(@CurrentActor() actor: Actor, @Param() p: IdParam): Promise<AccessReviewDto> {
    return this.reviews.get(actor, p.id);
  }

  @Post('access-reviews/:id/items/:itemId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm or query one sampled access (a query needs a note); until sign-off' })
  @ApiOkResponse({ type: AccessReviewDto })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto, description: 'Signed off already' })
  decide(@CurrentActor() actor: Actor, @Param() p: ItemParams, @Body() dto: DecideItemDto): Promise<AccessReviewDto> {
    return this.reviews.decide(actor, p.id, p.itemId, dto.decision, dto.note);
  }

  @Post('access-reviews/:id/sign-off')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign off a review: refused (422) while any item is undecided, 409 when signed off already' })
  @ApiOkResponse({ type: AccessReviewDto })
  @ApiUnprocessableEntityResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto })
  signOff(@CurrentActor() actor: Actor, @Param() p: IdParam, @Body() dto: SignOffDto): Promise<AccessReviewDto> {
    return this.reviews.signOff(actor, p.id, dto.note);
  }

  @Get('evidence')
  @ApiOperation({ summary: 'Evidence pack for one case or one user: its sealed records with inclusion proofs, the signed checkpoint, the public key and a summary; `npm run cli -- audit:verify --evidence FILE` checks it offline' })
  @ApiProduces('application/json')
  async evidencePack(@CurrentActor() actor: Actor, @Query() q: EvidenceQueryDto, @Res() res: Response): Promise<void> {
    if (!!q.caseId === !!q.userId) throw new ValidationError([{ field: 'caseId', messages: ['give exactly one of caseId and userId'] }]);
    const pack = await this.evidence.pack(actor, q.caseId ? { type: 'case', id: q.caseId } : { type: 'user', id: q.userId! });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="evidence-${pack.subject.type}-${pack.subject.id}.json"`);
    res.send(JSON.stringify(pack, null, 1));
  }

  @Get('deletion-certificates')
  @ApiOperation({ summary: 'Deletion certificates issued when retention destroyed a case\'s content, newest first' })
  @ApiOkResponse({ type: [DeletionCertificateDto] })
  listCertificates(@CurrentActor() actor: Actor, @Query() q: CertificatesQueryDto): Promise<DeletionCertificateDto[]> {
    return this.certificates.list(actor, q.caseId);
  }

  @Get('deletion-certificates/:id')
  @ApiOkResponse({ type: DeletionCertificateDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  certificate(@CurrentActor() actor: Actor, @Param() p: IdParam): Promise<DeletionCertificateDto> {
    return this.certificates.get(actor, p.id);
  }

  @Get('deletion-certificates/:id/verify')
  @ApiOperation({ summary: 'Verify a certificate: its hash, its audit record carrying that hash, sealed and included under the signed checkpoint' })
  @ApiOkResponse({ type: CertificateVerificationDto })
  verifyCertificate(@CurrentActor() actor: Actor, @Param() p: IdParam): Promise<CertificateVerificationDto> {
    return this.certificates.verify(actor, p.id);
  }
}
