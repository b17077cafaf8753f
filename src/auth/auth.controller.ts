import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public, RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { ApiErrorDto } from '../common/api-error.dto';
import { DomainError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { AuthService } from './auth.service';
import { clientInfoOf, CurrentPrincipal } from './current-principal.decorator';
import { ChangePasswordDto, PrincipalDto, RefreshDto, SignInDto, TokensDto } from './dto';
import { AuthenticatedRequest, Principal } from './principal';
import { SessionsService } from './sessions.service';
import { SignInThrottle } from './sign-in-throttle';

function toPrincipalDto(p: Principal): PrincipalDto {
  return { userId: p.userId, email: p.email, displayName: p.displayName, role: p.role, region: p.region, partyId: p.partyId };
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  @Public()
  @SignInThrottle()
  @Post('sign-in')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with e-mail and password; starts a server-side session' })
  @ApiOkResponse({ type: TokensDto })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'INVALID_CREDENTIALS: the same answer for an unknown address, a wrong password and a disabled account' })
  @ApiTooManyRequestsResponse({ type: ApiErrorDto, description: 'SIGN_IN_LOCKED after repeated failures for the address, or TOO_MANY_REQUESTS from one client address' })
  async signIn(@Body() dto: SignInDto, @Req() req: AuthenticatedRequest): Promise<TokensDto> {
    const s = await this.auth.signIn(dto.email, dto.password, clientInfoOf(req));
    return {
      accessToken: s.accessToken,
      accessTokenExpiresAt: s.accessTokenExpiresAt.toISOString(),
      refreshToken: s.refreshToken,
      sessionExpiresAt: s.sessionExpiresAt.toISOString(),
      user: toPrincipalDto(s.principal),
    };
  }

  @Public()
  @SignInThrottle()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for a new access token and refresh token (rotation; a reused token ends the session)' })
  @ApiOkResponse({ type: TokensDto })
  @ApiUnauthorizedResponse({ type: ApiErrorDto })
  async refresh(@Body() dto: RefreshDto): Promise<TokensDto> {
    const result = await this.sessions.refresh(dto.refreshToken);
    if (!result) throw new DomainError(ErrorCode.Unauthenticated, 'The refresh token is not valid; sign in again');
    const principal = await this.sessions.principalOf(result.issued.accessToken);
    if (!principal) throw new DomainError(ErrorCode.Unauthenticated, 'The refresh token is not valid; sign in again');
    return {
      accessToken: result.issued.accessToken,
      accessTokenExpiresAt: result.issued.accessTokenExpiresAt.toISOString(),
      refreshToken: result.issued.refreshToken,
      sessionExpiresAt: result.issued.sessionExpiresAt.toISOString(),
      user: toPrincipalDto(principal),
    };
  }

  @ApiBearerAuth()
  @RequirePermission(Permission.OwnSessionsManage)
  @Post('sign-out')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session; its tokens are refused from now on' })
  async signOut(@CurrentPrincipal() principal: Principal, @Req() req: AuthenticatedRequest): Promise<void> {
    await this.auth.signOut(principal, clientInfoOf(req));
  }

  @ApiBearerAuth()
  @RequirePermission(Permission.OwnSessionsManage)
  @Get('me')
  @ApiOperation({ summary: 'Who the current session belongs to' })
  @ApiOkResponse({ type: PrincipalDto })
  me(@CurrentPrincipal() principal: Principal): PrincipalDto {
    return toPrincipalDto(principal);
  }

  @ApiBearerAuth()
  @SignInThrottle()
  @RequirePermission(Permission.OwnSessionsManage)
  @Post('password')
  @HttpCode(204)
  @ApiOperation({ summary: "Change the caller's password; ends their other sessions" })
  async changePassword(@CurrentPrincipal() principal: Principal, @Body() dto: ChangePasswordDto, @Req() req: AuthenticatedRequest): Promise<void> {
    await this.auth.changePassword(principal, dto.currentPassword, dto.newPassword, clientInfoOf(req));
  }
}
