import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AllowDuringMfaEnrolment, Public, RequirePermission } from '../../access-control/decorators';
import { Permission } from '../../access-control/permission';
import { ApiErrorDto } from '../../common/api-error.dto';
import { toPrincipalDto } from '../auth.controller';
import { clientInfoOf, CurrentPrincipal } from '../current-principal.decorator';
import { AuthenticatedRequest, Principal } from '../principal';
import { SignInThrottle } from '../sign-in-throttle';
import { MfaCodeDto, MfaConfirmedDto, MfaEnrolmentDto, MfaRecoveryCodesDto, MfaStatusDto, MfaVerifiedDto, MfaVerifyDto } from './dto';
import { MfaService } from './mfa.service';

const WRONG_CODE = { type: ApiErrorDto, description: 'VALIDATION_FAILED (field code): the code is not correct or was already used; counts towards the sign-in lock-out' };

@ApiTags('auth')
@Controller('auth/mfa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Public()
  @SignInThrottle()
  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete a sign-in with the challenge token and a current TOTP code (or one unused recovery code)' })
  @ApiOkResponse({ type: MfaVerifiedDto })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'INVALID_CREDENTIALS for a wrong or replayed code (counts towards the lock-out); UNAUTHENTICATED for a used or expired challenge' })
  @ApiTooManyRequestsResponse({ type: ApiErrorDto, description: 'SIGN_IN_LOCKED after repeated wrong passwords or codes' })
  async verify(@Body() dto: MfaVerifyDto, @Req() req: AuthenticatedRequest): Promise<MfaVerifiedDto> {
    const s = await this.mfa.verifyChallenge(dto.challengeToken, dto.code, clientInfoOf(req));
    return {
      accessToken: s.accessToken,
      accessTokenExpiresAt: s.accessTokenExpiresAt.toISOString(),
      refreshToken: s.refreshToken,
      sessionExpiresAt: s.sessionExpiresAt.toISOString(),
      user: toPrincipalDto(s.principal),
      mfaEnrolmentRequired: false,
      method: s.method,
      recoveryCodesRemaining: s.recoveryCodesRemaining,
    };
  }

  @ApiBearerAuth()
  @RequirePermission(Permission.OwnSessionsManage)
  @AllowDuringMfaEnrolment()
  @Get()
  @ApiOperation({ summary: 'Your second factor: enrolled or not, required for your role, proved by this session, recovery codes left' })
  @ApiOkResponse({ type: MfaStatusDto })
  status(@CurrentPrincipal() principal: Principal): Promise<MfaStatusDto> {
    return this.mfa.status(principal);
  }

  @ApiBearerAuth()
  @RequirePermission(Permission.OwnSessionsManage)
  @AllowDuringMfaEnrolment()
  @Post('enrol')
  @HttpCode(200)
  @ApiOperation({ summary: 'Start enrolling an authenticator app: returns the secret and otpauth URI once (any TOTP app: SHA-1, 6 digits, 30 s); confirm with a code' })
  @ApiOkResponse({ type: MfaEnrolmentDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A second factor is already active (an administrator can reset it)' })
  enrol(@CurrentPrincipal() principal: Principal, @Req() req: AuthenticatedRequest): Promise<MfaEnrolmentDto> {
    return this.mfa.enrol(principal, clientInfoOf(req));
  }

  @ApiBearerAuth()
  @SignInThrottle()
  @RequirePermission(Permission.OwnSessionsManage)
  @AllowDuringMfaEnrolment()
  @Post('confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate the enrolled factor with a first code: returns ten recovery codes once, ends your other sessions, and this session gets full access' })
  @ApiOkResponse({ type: MfaConfirmedDto })
  @ApiBadRequestResponse(WRONG_CODE)
  async confirm(@CurrentPrincipal() principal: Principal, @Body() dto: MfaCodeDto, @Req() req: AuthenticatedRequest): Promise<MfaConfirmedDto> {
    return this.mfa.confirm(principal, dto.code, clientInfoOf(req));
  }

  @ApiBearerAuth()
  @SignInThrottle()
  @RequirePermission(Permission.OwnSessionsManage)
  @Post('recovery-codes')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace your recovery codes (with a current code): the old ones stop working; ends your other sessions' })
  @ApiOkResponse({ type: MfaRecoveryCodesDto })
  @ApiBadRequestResponse(WRONG_CODE)
  regenerate(@CurrentPrincipal() principal: Principal, @Body() dto: MfaCodeDto, @Req() req: AuthenticatedRequest): Promise<MfaRecoveryCodesDto> {
    return this.mfa.regenerateRecoveryCodes(principal, dto.code, clientInfoOf(req));
  }
}
