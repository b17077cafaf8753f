import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';
import { MfaController } from './mfa/mfa.controller';
import { MfaService } from './mfa/mfa.service';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { SignInLocks } from './sign-in-locks';
import { TokenService } from './token.service';

@Module({
  imports: [PassportModule.register({ session: false })],
  controllers: [AuthController, MfaController],
  providers: [AuthService, SessionsService, TokenService, PasswordHasher, BearerStrategy, SignInLocks, MfaService],
  exports: [AuthService, SessionsService, PasswordHasher, SignInLocks, MfaService],
})
export class AuthModule {}
