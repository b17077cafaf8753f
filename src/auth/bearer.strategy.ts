import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { Principal } from './principal';
import { SessionsService } from './sessions.service';

/** Passport strategy: a bearer access token whose server-side session is still open. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly sessions: SessionsService) {
    super();
  }

  async validate(token: string): Promise<Principal | false> {
    return (await this.sessions.principalOf(token)) ?? false;
  }
}
