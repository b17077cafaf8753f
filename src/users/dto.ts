import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsEmail, IsEnum, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Region, Role } from '../access-control/role';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateUserDto {
  @ApiProperty({ example: 'j.smith@clearing-house.example' })
  @Transform(trim) @IsEmail() @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'Jo Smith' })
  @Transform(trim) @IsString() @MinLength(1) @MaxLength(120)
  displayName: string;

  @ApiProperty({ enum: Role, enumName: 'Role' })
  @IsEnum(Role)
  role: Role;

  @ApiPropertyOptional({ enum: Region, enumName: 'Region', description: 'Required for riep_facilitator, refused otherwise' })
  @IsOptional() @IsEnum(Region)
  region?: Region;

  @ApiPropertyOptional({ format: 'uuid', description: 'Required for lead_political_peer, refused otherwise' })
  @IsOptional() @IsUUID()
  partyId?: string;

  @ApiProperty({ description: 'Initial password, given to the user out of band; must satisfy the password policy' })
  @IsString() @MaxLength(1024)
  password: string;
}

export class ChangeRoleDto {
  @ApiProperty({ enum: Role, enumName: 'Role' })
  @IsEnum(Role)
  role: Role;

  @ApiPropertyOptional({ enum: Region, enumName: 'Region' })
  @IsOptional() @IsEnum(Region)
  region?: Region;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  partyId?: string;

  @ApiProperty({ description: 'The version you read; a stale version answers 409' })
  @IsInt() @Min(1)
  version: number;
}

export class VersionDto {
  @ApiProperty({ description: 'The version you read; a stale version answers 409' })
  @IsInt() @Min(1)
  version: number;
}

export class ResetPasswordDto {
  @ApiProperty({ description: 'A new password, given to the user out of band' })
  @IsString() @MaxLength(1024)
  password: string;
}

export class UserIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class ListUsersQueryDto {
  @ApiPropertyOptional({ enum: Role, enumName: 'Role' })
  @IsOptional() @IsEnum(Role)
  role?: Role;

  @ApiPropertyOptional({ description: 'Include disabled accounts' })
  @IsOptional() @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value)) @IsBoolean()
  includeDisabled?: boolean;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  offset?: number;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: Role, enumName: 'Role' }) role: Role;
  @ApiProperty({ enum: Region, enumName: 'Region', nullable: true }) region: Region | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) partyId: string | null;
  @ApiProperty({ nullable: true, type: String }) disabledAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() version: number;
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) items: UserDto[];
  @ApiProperty() total: number;
}
