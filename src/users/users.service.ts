import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Region, Role, roleNeedsParty, roleNeedsRegion } from '../access-control/role';
import { AuditAction, AuditOutcome, RequestActor, ResourceType } from '../audit/audit-event';
import { AuditWriter } from '../audit/audit-writer';
import { AuthService } from '../auth/auth.service';
import { PasswordHasher } from '../auth/password-hasher';
import { SessionEndReason } from '../auth/session.entity';
import { SessionsService } from '../auth/sessions.service';
import { ConflictError, NotFoundError, ValidationError, VersionConflictError } from '../common/domain-error';
import { NotificationsService } from '../notifications/notifications.service';
import { UserDto } from './dto';
import { StoredUser } from './stored-user';

interface UserRow extends StoredUser {
  created_at: Date;
  version: number;
}

const USER_COLUMNS = 'id, email, display_name, role, region, party_id, disabled_at, created_at, version';

function toDto(r: UserRow): UserDto {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    role: r.role,
    region: r.region,
    partyId: r.party_id,
    disabledAt: r.disabled_at ? new Date(r.disabled_at).toISOString() : null,
    createdAt: new Date(r.created_at).toISOString(),
    version: r.version,
  };
}

export interface NewUser {
  email: string;
  displayName: string;
  role: Role;
  region?: Region;
  partyId?: string;
  password: string;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly notifications: NotificationsService,
    private readonly audit: AuditWriter,
  ) {}

  /** Every change to an account is audited in the transaction that makes it. */
  private record(manager: EntityManager, actor: RequestActor, action: AuditAction, userId: string, rule: string | null = null): Promise<void> {
    return this.audit.record(manager, actor, { action, resourceType: ResourceType.User, resourceId: userId, outcome: AuditOutcome.Allowed, rule });
  }

  async create(actor: RequestActor, input: NewUser): Promise<UserDto> {
    const email = input.email.trim().toLowerCase();
    this.auth.assertPasswordAcceptable('password', input.password, [email.split('@')[0], input.displayName]);
    const hash = await this.hasher.hash(input.password);
    const user = await this.dataSource.transaction(async (manager) => {
      await this.assertRoleAttributes(manager, input.role, input.region, input.partyId);
      const [existing] = await manager.query(`SELECT 1 FROM users WHERE email = $1`, [email]);
      if (existing) throw new ConflictError('A user with this e-mail address already exists');
      const [row]: UserRow[] = await manager.query(
        `INSERT INTO users (email, display_name, password_hash, role, region, party_id)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (email) DO NOTHING
         RETURNING ${USER_COLUMNS}`,
        [email, input.displayName, hash, input.role, input.region ?? null, input.partyId ?? null],
      );
      if (!row) throw new ConflictError('A user with this e-mail address already exists');
      await this.record(manager, actor, AuditAction.CreateUser, row.id, input.role);
      return row;
    });
    await this.notifications.enqueueWelcome(user.id);
    return toDto(user);
  }

  async list(filter: { role?: Role; includeDisabled?: boolean; limit: number; offset: number }): Promise<{ items: UserDto[]; total: number }> {
    const rows: Array<UserRow & { total: string }> = await this.dataSource.query(
      `SELECT ${USER_COLUMNS}, count(*) OVER () AS total FROM users
        WHERE ($1::text IS NULL OR role = $1) AND ($2::boolean OR disabled_at IS NULL)
        ORDER BY email, id LIMIT $3 OFFSET $4`,
      [filter.role ?? null, filter.includeDisabled ?? false, filter.limit, filter.offset],
    );
    // Past the last page there is no row to carry the count: count separately.
    const total = rows.length > 0 ? Number(rows[0].total) : filter.offset === 0 ? 0 : Number((await this.dataSource.query(
      `SELECT count(*) AS total FROM users WHERE ($1::text IS NULL OR role = $1) AND ($2::boolean OR disabled_at IS NULL)`,
      [filter.role ?? null, filter.includeDisabled ?? false],
    ))[0].total);
    return { items: rows.map(toDto), total };
  }

  async get(id: string): Promise<UserDto> {
    const [row]: UserRow[] = await this.dataSource.query(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError('User');
    return toDto(row);
  }

  /** Re-roles a user and ends their sessions, so the new role applies from their next sign-in. */
  async changeRole(actor: RequestActor, id: string, change: { role: Role; region?: Region; partyId?: string; version: number }): Promise<UserDto> {
    return this.dataSource.transaction(async (manager) => {
      await this.assertRoleAttributes(manager, change.role, change.region, change.partyId);
      const [before]: Array<{ role: Role }> = await manager.query(`SELECT role FROM users WHERE id = $1`, [id]);
      const row = await this.updateVersioned(manager, id, change.version, `role = $3, region = $4, party_id = $5`, [change.role, change.region ?? null, change.partyId ?? null]);
      await this.sessions.endAllForUser(manager, id, SessionEndReason.RoleChanged);
      await this.record(manager, actor, AuditAction.ChangeRole, id, `${before?.role}->${change.role}`);
      return toDto(row);
    });
  }

  async disable(actor: RequestActor, id: string, version: number): Promise<UserDto> {
    if (id === actor.userId) throw new ValidationError([{ field: 'id', messages: ['you cannot disable your own account'] }]);
    return this.dataSource.transaction(async (manager) => {
      const row = await this.updateVersioned(manager, id, version, `disabled_at = coalesce(disabled_at, now())`, []);
      await this.sessions.endAllForUser(manager, id, SessionEndReason.UserDisabled);
      await this.record(manager, actor, AuditAction.DisableUser, id);
      return toDto(row);
    });
  }

  async enable(actor: RequestActor, id: string, version: number): Promise<UserDto> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.updateVersioned(manager, id, version, `disabled_at = NULL`, []);
      await this.record(manager, actor, AuditAction.EnableUser, id);
      return toDto(row);
    });
  }

  /** Sets a new password (for a user who forgot theirs), ends their sessions and lifts any sign-in lock. */
  async resetPassword(actor: RequestActor, id: string, password: string): Promise<void> {
    const user = await this.get(id);
    this.auth.assertPasswordAcceptable('password', password, [user.email.split('@')[0], user.displayName]);
    const hash = await this.hasher.hash(password);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE users SET password_hash = $2, updated_at = now(), version = version + 1 WHERE id = $1`, [id, hash]);
      await manager.query(`DELETE FROM sign_in_locks WHERE email_key = $1`, [user.email]);
      await this.sessions.endAllForUser(manager, id, SessionEndReason.PasswordChanged);
      await this.record(manager, actor, AuditAction.ResetPassword, id);
    });
  }

  /** Lifts a sign-in lock-out early: the way back for a legitimate user locked out by someone else's guesses. */
  async unlockSignIn(actor: RequestActor, id: string): Promise<void> {
    const user = await this.get(id);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`DELETE FROM sign_in_locks WHERE email_key = $1`, [user.email]);
      await this.record(manager, actor, AuditAction.UnlockSignIn, id);
    });
  }

  private async updateVersioned(manager: EntityManager, id: string, version: number, set: string, params: unknown[]): Promise<UserRow> {
    const [rows]: [UserRow[], number] = await manager.query(
      `UPDATE users SET ${set}, updated_at = now(), version = version + 1 WHERE id = $1 AND version = $2 RETURNING ${USER_COLUMNS}`,
      [id, version, ...params],
    );
    if (rows.length === 1) return rows[0];
    const [exists] = await manager.query(`SELECT 1 FROM users WHERE id = $1`, [id]);
    if (!exists) throw new NotFoundError('User');
    throw new VersionConflictError('The user');
  }

  private async assertRoleAttributes(manager: EntityManager, role: Role, region?: Region, partyId?: string): Promise<void> {
    const errors = [];
    if (roleNeedsRegion(role) && !region) errors.push({ field: 'region', messages: ['region is required for a RIEP facilitator'] });
    if (!roleNeedsRegion(role) && region) errors.push({ field: 'region', messages: [`region must not be set for role ${role}`] });
    if (roleNeedsParty(role) && !partyId) errors.push({ field: 'partyId', messages: ['partyId is required for a lead political peer'] });
    if (!roleNeedsParty(role) && partyId) errors.push({ field: 'partyId', messages: [`partyId must not be set for role ${role}`] });
    if (partyId && errors.length === 0) {
      const [party] = await manager.query(`SELECT active FROM parties WHERE id = $1`, [partyId]);
      if (!party || !party.active) errors.push({ field: 'partyId', messages: ['partyId must name an active party'] });
    }
    if (errors.length > 0) throw new ValidationError(errors);
  }
}
