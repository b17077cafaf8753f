import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { PrincipalDto, TokensDto } from '../dto';

export class MfaCodeDto {
  @ApiProperty({ description: 'The current six-digit code from the authenticator app', example: '123456' })
  @IsString() @Matches(/^\d{6}$/, { message: 'code must be the six digits the authenticator app shows' })
  code: string;
}

export class MfaVerifyDto {
  @ApiProperty({ description: 'The challengeToken from POST /auth/sign-in (single use, short-lived)' })
  @IsString() @MaxLength(200)
  challengeToken: string;

  @ApiProperty({ description: 'The current six-digit code from the authenticator app, or one unused recovery code (abcd-efgh-ijkl-mnop)' })
  @IsString() @MinLength(6) @MaxLength(64)
  code: string;
}

export class MfaEnrolmentDto {
  @ApiProperty({ description: 'The TOTP secret (base32). Shown this once: it cannot be read back.' }) secret: string;
  @ApiProperty({ description: 'otpauth:// URI for authenticator apps (show it as a QR code)' }) otpauthUri: string;
  @ApiProperty() issuer: string;
  @ApiProperty() account: string;
  @ApiProperty({ example: 'SHA1' }) algorithm: string;
  @ApiProperty({ example: 6 }) digits: number;
  @ApiProperty({ example: 30, description: 'Seconds per code' }) period: number;
}

export class MfaConfirmedDto {
  @ApiProperty({ type: [String], description: 'Ten single-use recovery codes, each usable once instead of a code. Shown this once: keep them safe.' })
  recoveryCodes: string[];
  @ApiProperty() confirmedAt: string;
}

export class MfaRecoveryCodesDto {
  @ApiProperty({ type: [String], description: 'Ten new single-use recovery codes; the previous ones no longer work. Shown this once.' })
  recoveryCodes: string[];
}

export class MfaStatusDto {
  @ApiProperty({ description: 'A second factor is active on the account' }) enrolled: boolean;
  @ApiProperty({ description: 'Enrolment was started but not yet confirmed with a code' }) enrolmentPending: boolean;
  @ApiProperty({ nullable: true, type: String }) confirmedAt: string | null;
  @ApiProperty({ description: 'Your role must sign in with a second factor' }) requiredForRole: boolean;
  @ApiProperty({ description: 'This session proved a second factor' }) sessionVerified: boolean;
  @ApiProperty() recoveryCodesRemaining: number;
}

export class SignInResultDto {
  @ApiProperty({ description: 'True: no tokens yet; complete the sign-in at POST /auth/mfa/verify with challengeToken and a code' })
  mfaRequired: boolean;

  @ApiPropertyOptional({ description: 'When mfaRequired: single-use, valid until challengeExpiresAt' }) challengeToken?: string;
  @ApiPropertyOptional() challengeExpiresAt?: string;

  @ApiPropertyOptional({ description: 'When tokens are issued: true if your role requires a second factor you have not enrolled; the session may only enrol one (POST /auth/mfa/enrol) until then' })
  mfaEnrolmentRequired?: boolean;

  @ApiPropertyOptional() accessToken?: string;
  @ApiPropertyOptional() accessTokenExpiresAt?: string;
  @ApiPropertyOptional() refreshToken?: string;
  @ApiPropertyOptional() sessionExpiresAt?: string;
  @ApiPropertyOptional({ type: PrincipalDto }) user?: PrincipalDto;
}

export class MfaVerifiedDto extends TokensDto {
  @ApiProperty({ enum: ['totp', 'recovery_code'] }) method: 'totp' | 'recovery_code';
  @ApiProperty({ description: 'Unused recovery codes left' }) recoveryCodesRemaining: number;
}
