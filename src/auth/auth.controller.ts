import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AllowDuringMfaEnrolment, Public, RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { ApiErrorDto } from '../common/api-error.dto';
import { DomainError } from '../common/domain-error';
import { ErrorCode } from '../common/error-code';
import { AuthService } from './auth.service';
import { clientInfoOf, CurrentPrincipal } from './current-principal.decorator';
import { ChangePasswordDto, PrincipalDto, RefreshDto, SignInDto, TokensDto } from './dto';
import { SignInResultDto } from './mfa/dto';
import { mustEnrolMfa } from './mfa/mfa-policy';
import { AuthenticatedRequest, Principal } from './principal';
import { SessionsService } from './sessions.service';
import { SignInThrottle } from './sign-in-throttle';

export function toPrincipalDto(p: Principal): PrincipalDto {
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
  @ApiOperation({
    summary: 'Sign in with e-mail and password',
    description:
      'For a user with a second factor: answers mfaRequired: true and a short-lived, single-use challengeToken instead of tokens; ' +
      'complete the sign-in at POST /auth/mfa/verify. Otherwise starts a server-side session. Managers, administrators and auditors ' +
      'without a second factor get a session that may only enrol one (mfaEnrolmentRequired: true; every other route answers 403 MFA_ENROLMENT_REQUIRED).',
  })
  @ApiOkResponse({ type: SignInResultDto })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'INVALID_CREDENTIALS: the same answer for an unknown address, a wrong password and a disabled account' })
  @ApiTooManyRequestsResponse({ type: ApiErrorDto, description: 'SIGN_IN_LOCKED after repeated failures for the address, or TOO_MANY_REQUESTS from one client address' })
  async signIn(@Body() dto: SignInDto, @Req() req: AuthenticatedRequest): Promise<SignInResultDto> {
    const s = await this.auth.signIn(dto.email, dto.password, clientInfoOf(req));
    if (s.kind === 'mfa_required') {
      return { mfaRequired: true, challengeToken: s.challengeToken, challengeExpiresAt: s.challengeExpiresAt.toISOString() };
    }
    return {
      mfaRequired: false,
      mfaEnrolmentRequired: s.mfaEnrolmentRequired,
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
      mfaEnrolmentRequired: mustEnrolMfa(principal),
    };
  }

  @ApiBearerAuth()
  @RequirePermission(Permission.OwnSessionsManage)
  @AllowDuringMfaEnrolment()
  @Post('sign-out')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session; its tokens are refused from now on' })
  async signOut(@CurrentPrincipal() principal: Principal, @Req() req: AuthenticatedRequest): Promise<void> {
    await this.auth.signOut(principal, clientInfoOf(req));
  }

  @ApiBearerAuth()
  @RequirePermission(Permission.OwnSessionsManage)
  @AllowDuringMfaEnrolment()
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
