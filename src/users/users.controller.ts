import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { Actor, CurrentActor } from '../auth/actor.decorator';
import { MfaService } from '../auth/mfa/mfa.service';
import { ApiErrorDto } from '../common/api-error.dto';
import { ChangeRoleDto, CreateUserDto, ListUsersQueryDto, ResetPasswordDto, UserDto, UserIdParam, UserPageDto, VersionDto } from './dto';
import { UsersService } from './users.service';

/** User administration: administrators only. */
@ApiTags('users')
@ApiBearerAuth()
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Only administrators manage users' })
@RequirePermission(Permission.UsersManage)
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly mfa: MfaService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a user with a role (and region or party where the role needs one)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ type: ApiErrorDto })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.users.create(actor, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List users' })
  @ApiOkResponse({ type: UserPageDto })
  list(@Query() q: ListUsersQueryDto): Promise<UserPageDto> {
    return this.users.list({ role: q.role, includeDisabled: q.includeDisabled, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Get(':id')
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  get(@Param() p: UserIdParam): Promise<UserDto> {
    return this.users.get(p.id);
  }

  @Patch(':id/role')
  @ApiOperation({ summary: "Change a user's role; ends their sessions at once" })
  @ApiOkResponse({ type: UserDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'VERSION_CONFLICT when the version is stale' })
  changeRole(@CurrentActor() actor: Actor, @Param() p: UserIdParam, @Body() dto: ChangeRoleDto): Promise<UserDto> {
    return this.users.changeRole(actor, p.id, dto);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable a user; ends their sessions at once' })
  @ApiOkResponse({ type: UserDto })
  disable(@CurrentActor() actor: Actor, @Param() p: UserIdParam, @Body() dto: VersionDto): Promise<UserDto> {
    return this.users.disable(actor, p.id, dto.version);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOkResponse({ type: UserDto })
  enable(@CurrentActor() actor: Actor, @Param() p: UserIdParam, @Body() dto: VersionDto): Promise<UserDto> {
    return this.users.enable(actor, p.id, dto.version);
  }

  @Post(':id/password')
  @HttpCode(204)
  @ApiOperation({ summary: "Set a new password for a user; ends their sessions and lifts a sign-in lock" })
  async resetPassword(@CurrentActor() actor: Actor, @Param() p: UserIdParam, @Body() dto: ResetPasswordDto): Promise<void> {
    await this.users.resetPassword(actor, p.id, dto.password);
  }

  @Post(':id/unlock')
  @HttpCode(204)
  @ApiOperation({ summary: 'Lift a sign-in lock-out early' })
  async unlock(@CurrentActor() actor: Actor, @Param() p: UserIdParam): Promise<void> {
    await this.users.unlockSignIn(actor, p.id);
  }

  @Post(':id/mfa/reset')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove a user's second factor and recovery codes (a lost phone); ends all their sessions. They enrol again at next sign-in." })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async resetMfa(@CurrentActor() actor: Actor, @Param() p: UserIdParam): Promise<void> {
    await this.mfa.reset(actor, p.id);
  }
}
