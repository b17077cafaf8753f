import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { NotFoundError } from '../common/domain-error';
import { AuditAction, AuditOutcome, ResourceType } from './audit-event';
import { AuditQueryService } from './audit-query.service';
import { AuditVerificationService } from './audit-verification.service';
import { AuditWriter } from './audit-writer';
import { AuditExportQueryDto, AuditPageDto, AuditSearchQueryDto, CaseTrailDto, SeqParam, SeqRangeQueryDto, UuidParamDto } from './dto';
import { inclusionProof, verifyInclusion } from './merkle';

const CSV_COLUMNS = ['seq', 'sealed', 'id', 'occurredAt', 'actorId', 'actorName', 'actorRole', 'action', 'resourceType', 'resourceId', 'caseId', 'caseReference', 'outcome', 'rule', 'requestId', 'clientIp', 'userAgent', 'justification', 'leafHash'] as const;

/** CSV cell, quoted, and defused against formula injection when opened in a spreadsheet. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

/** Writes lines with back-pressure, so a large export never sits in memory. */
async function pipeLines(res: Response, lines: AsyncIterable<string>): Promise<void> {
  for await (const line of lines) {
    if (!res.write(line)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** The auditor's toolkit: search, per-case and per-user trails, export, verification. Never case content. */
@ApiTags('audit')
@ApiBearerAuth()
@RequirePermission(Permission.AuditRead)
@Controller('audit')
export class AuditController {
  constructor(
    private readonly queries: AuditQueryService,
    private readonly verification: AuditVerificationService,
    private readonly writer: AuditWriter,
  ) {}

  @Get('events')
  @ApiOperation({ summary: 'Search the trail by actor, case, resource, action, outcome and time range; newest first. Unsealed records say so.' })
  @ApiOkResponse({ type: AuditPageDto })
  async search(@CurrentActor() actor: Actor, @Query() q: AuditSearchQueryDto): Promise<AuditPageDto> {
    await this.writer.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, caseId: q.caseId ?? null, resourceId: q.actorId ?? null });
    return this.queries.search(q);
  }

  @Get('denied')
  @ApiOperation({ summary: 'Every refused attempt (including the 404s the policy answers), newest first' })
  @ApiOkResponse({ type: AuditPageDto })
  async denied(@CurrentActor() actor: Actor, @Query() q: AuditSearchQueryDto): Promise<AuditPageDto> {
    await this.writer.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, rule: 'denied' });
    return this.queries.search({ ...q, outcome: AuditOutcome.Denied });
  }

  @Get('cases/:id')
  @ApiOperation({ summary: 'Who has seen this case: each person with counts and first and last access, and the events' })
  @ApiOkResponse({ type: CaseTrailDto })
  async caseTrail(@CurrentActor() actor: Actor, @Param() p: UuidParamDto, @Query() q: AuditSearchQueryDto): Promise<CaseTrailDto> {
    await this.writer.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, caseId: p.id, rule: 'case_trail' });
    return { caseId: p.id, accessors: await this.queries.caseAccessors(p.id, q), events: await this.queries.search({ ...q, caseId: p.id }) };
  }

  @Get('users/:id')
  @ApiOperation({ summary: "One user's activity, newest first" })
  @ApiOkResponse({ type: AuditPageDto })
  async userActivity(@CurrentActor() actor: Actor, @Param() p: UuidParamDto, @Query() q: AuditSearchQueryDto): Promise<AuditPageDto> {
    await this.writer.recordNow(actor, { action: AuditAction.Search, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, resourceId: p.id, rule: 'user_activity' });
    return this.queries.search({ ...q, actorId: p.id });
  }

  @Get('export')
  @ApiOperation({ summary: 'Export a filtered range as CSV or NDJSON, streamed, oldest first, with each record\'s sequence number and leaf hash and the latest checkpoint (NDJSON: first line; CSV: X-Audit-Checkpoint header) to verify them against' })
  @ApiProduces('text/csv', 'application/x-ndjson')
  async export(@CurrentActor() actor: Actor, @Query() q: AuditExportQueryDto, @Res() res: Response): Promise<void> {
    await this.writer.recordNow(actor, { action: AuditAction.Export, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, caseId: q.caseId ?? null, rule: q.format });
    const checkpoint = await this.verification.latestCheckpoint();
    const { format, ...filters } = q;
    const records = this.queries.stream(filters);
    res.setHeader('Cache-Control', 'no-store');
    if (format === 'csv') {
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', 'attachment; filename="audit-export.csv"');
      res.setHeader('X-Audit-Checkpoint', Buffer.from(JSON.stringify(checkpoint)).toString('base64'));
      await pipeLines(res, (async function* () {
        yield CSV_COLUMNS.join(',') + '\n';
        for await (const r of records) yield CSV_COLUMNS.map((c) => csvCell((r as unknown as Record<string, unknown>)[c])).join(',') + '\n';
      })());
    } else {
      res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
      res.setHeader('Content-Disposition', 'attachment; filename="audit-export.ndjson"');
      await pipeLines(res, (async function* () {
        yield JSON.stringify({ type: 'checkpoint', checkpoint }) + '\n';
        for await (const r of records) yield JSON.stringify({ type: 'record', ...r }) + '\n';
      })());
    }
  }

  @Get('verify')
  @ApiOperation({ summary: 'Verify records, tree, signatures and checkpoint chain over a range; names the first bad sequence number' })
  async verify(@CurrentActor() actor: Actor, @Query() q: SeqRangeQueryDto) {
    const report = await this.verification.verify(q);
    await this.writer.recordNow(actor, { action: AuditAction.Verify, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, rule: report.ok ? 'ok' : `failed:${report.firstBadSeq ?? 'unknown'}` });
    return report;
  }

  @Get('bundle')
  @ApiOperation({ summary: 'Export the sealed trail (whole checkpoint batches) as an NDJSON bundle that `npm run cli -- audit:verify --bundle FILE` checks offline' })
  @ApiProduces('application/x-ndjson')
  async bundle(@CurrentActor() actor: Actor, @Query() q: SeqRangeQueryDto, @Res() res: Response): Promise<void> {
    await this.writer.recordNow(actor, { action: AuditAction.Export, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, rule: 'bundle' });
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit-bundle.ndjson"');
    await pipeLines(res, this.verification.exportBundle(q));
  }

  @Get('checkpoints')
  @ApiOperation({ summary: 'Every signed checkpoint, NDJSON, for safekeeping outside the database' })
  @ApiProduces('application/x-ndjson')
  async checkpoints(@CurrentActor() actor: Actor, @Res() res: Response): Promise<void> {
    await this.writer.recordNow(actor, { action: AuditAction.Export, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, rule: 'checkpoints' });
    res.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    const verification = this.verification;
    await pipeLines(res, (async function* () {
      for await (const c of verification.checkpoints()) yield JSON.stringify(c) + '\n';
    })());
  }

  @Get('public-key')
  @ApiOperation({ summary: 'The public key that checkpoints are signed with (keep a copy outside the database)' })
  publicKey() {
    return { keyId: this.verification.keyId, publicKey: this.verification.publicKey.toString('base64') };
  }

  @Get('proof/:seq')
  @ApiOperation({ summary: 'Inclusion proof of one sealed record in the latest checkpoint (RFC 9162)' })
  async proof(@CurrentActor() actor: Actor, @Param() p: SeqParam) {
    const checkpoint = await this.verification.latestCheckpoint();
    if (!checkpoint || p.seq > checkpoint.treeSize) throw new NotFoundError('Sealed record');
    const leaves = await this.verification.leafHashes(checkpoint.treeSize);
    const proof = inclusionProof(leaves, p.seq - 1, checkpoint.treeSize);
    const ok = verifyInclusion(leaves[p.seq - 1], p.seq - 1, checkpoint.treeSize, proof, Buffer.from(checkpoint.rootHash, 'hex'));
    await this.writer.recordNow(actor, { action: AuditAction.Verify, resourceType: ResourceType.AuditTrail, outcome: AuditOutcome.Allowed, resourceId: String(p.seq), rule: 'inclusion_proof' });
    return { seq: p.seq, leafHash: leaves[p.seq - 1].toString('hex'), treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, proof: proof.map((h) => h.toString('hex')), verified: ok, checkpoint };
  }
}
