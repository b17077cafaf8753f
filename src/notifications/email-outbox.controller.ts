import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { ApiErrorDto } from '../common/api-error.dto';
import { EmailOutboxService, EmailStatus } from './email-outbox.service';

class DeadEmailQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  offset?: number;
}

class EmailIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

class DeadEmailDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) notificationId: string;
  @ApiProperty() toAddress: string;
  @ApiProperty({ description: 'Names the case reference and what is due; never case content' }) subject: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String, description: 'The last failure as an error code (e.g. ESOCKET/ECONNREFUSED, EENVELOPE 550), never a server message' })
  lastError: string | null;
  @ApiProperty() createdAt: string;
}

class DeadEmailPageDto {
  @ApiProperty({ type: [DeadEmailDto] }) items: DeadEmailDto[];
  @ApiProperty() total: number;
}

class RetriedEmailDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: EmailStatus, enumName: 'EmailStatus' }) status: EmailStatus;
  @ApiProperty() attempts: number;
}

/** The e-mail outbox's dead letters: e-mails that could not be delivered, for administrators. */
@ApiTags('operations')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Administrators only' })
@RequirePermission(Permission.QueuesInspect)
@Controller('admin/email')
export class EmailOutboxController {
  constructor(private readonly outbox: EmailOutboxService) {}

  @Get('dead')
  @ApiOperation({ summary: 'E-mails that could not be delivered, newest first (administrators; the read is audited)' })
  @ApiOkResponse({ type: DeadEmailPageDto })
  dead(@CurrentActor() actor: Actor, @Query() q: DeadEmailQueryDto): Promise<DeadEmailPageDto> {
    return this.outbox.dead(actor, q.limit ?? 50, q.offset ?? 0);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a dead e-mail back to the outbox with a fresh set of attempts (audited)' })
  @ApiOkResponse({ type: RetriedEmailDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The e-mail is not dead (pending or sent)' })
  retry(@CurrentActor() actor: Actor, @Param() p: EmailIdParam): Promise<RetriedEmailDto> {
    return this.outbox.retry(actor, p.id);
  }
}
