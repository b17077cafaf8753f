import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';
import { Region, Role } from '../access-control/role';

export class SignInDto {
  @ApiProperty({ example: 'officer@clearing-house.example' })
  @IsEmail() @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'a long passphrase', minLength: 1, maxLength: 1024 })
  @IsString() @MinLength(1) @MaxLength(1024)
  password: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token returned by sign-in or the last refresh' })
  @IsString() @MaxLength(200)
  refreshToken: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString() @MinLength(1) @MaxLength(1024)
  currentPassword: string;

  @ApiProperty({ description: 'Must satisfy the password policy (length, not common, not personal)' })
  @IsString() @MinLength(1) @MaxLength(1024)
  newPassword: string;
}

export class PrincipalDto {
  @ApiProperty({ format: 'uuid' }) userId: string;
  @ApiProperty() email: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: Role, enumName: 'Role' }) role: Role;
  @ApiProperty({ enum: Region, enumName: 'Region', nullable: true }) region: Region | null;
  @ApiProperty({ format: 'uuid', nullable: true }) partyId: string | null;
}

export class TokensDto {
  @ApiProperty({ description: 'Bearer token for the Authorization header' }) accessToken: string;
  @ApiProperty() accessTokenExpiresAt: string;
  @ApiProperty({ description: 'Single-use: each refresh returns a new one' }) refreshToken: string;
  @ApiProperty() sessionExpiresAt: string;
  @ApiProperty({ type: PrincipalDto }) user: PrincipalDto;
  @ApiProperty({ description: 'True if your role requires a second factor this session has not proved: it may only enrol one (POST /auth/mfa/enrol)' })
  mfaEnrolmentRequired: boolean;
}
