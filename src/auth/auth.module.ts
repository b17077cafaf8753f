import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { BearerStrategy } from './bearer.strategy';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { TokenService } from './token.service';

@Module({
  imports: [PassportModule.register({ session: false })],
  controllers: [AuthController],
  providers: [AuthService, SessionsService, TokenService, PasswordHasher, BearerStrategy],
  exports: [AuthService, SessionsService, PasswordHasher],
})
export class AuthModule {}
