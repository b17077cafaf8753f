import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { Principal } from '../auth/principal';
import { ApiErrorDto } from '../common/api-error.dto';
import { InboxDto, InboxQueryDto, NotificationIdParam } from './dto';
import { NotificationsService } from './notifications.service';

@ApiTags('inbox')
@ApiBearerAuth()
@Controller('inbox')
export class InboxController {
  constructor(private readonly notifications: NotificationsService) {}

  @RequirePermission(Permission.InboxRead)
  @Get()
  @ApiOperation({ summary: "The caller's in-app notifications, newest first" })
  @ApiOkResponse({ type: InboxDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: InboxQueryDto): Promise<InboxDto> {
    return this.notifications.inbox(principal.userId, query.unreadOnly ?? false, query.limit ?? 50, query.offset ?? 0);
  }

  @RequirePermission(Permission.InboxRead)
  @Post(':id/read')
  @HttpCode(204)
  @ApiOperation({ summary: 'Mark one of your notifications read' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async markRead(@CurrentPrincipal() principal: Principal, @Param() params: NotificationIdParam): Promise<void> {
    await this.notifications.markRead(principal.userId, params.id);
  }
}
