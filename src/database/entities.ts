import { Authority } from '../authorities/authority.entity';
import { Session } from '../auth/session.entity';
import { SignInLock } from '../auth/sign-in-lock.entity';
import { Notification } from '../notifications/notification.entity';
import { Party } from '../parties/party.entity';
import { User } from '../users/user.entity';

export const ENTITIES = [Party, User, Session, SignInLock, Authority, Notification];
