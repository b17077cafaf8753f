import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { createTestApp, ownerDataSource, TestApp } from '../support/app';

/*
 * The audit trail and the case history are append-only: the service's own database role may
 * insert but never change or remove them (privileges), and even the owner is stopped by the
 * triggers. Anything that would change shared data runs in a transaction that is rolled back,
 * so a broken protection cannot damage the trail the other test files verify.
 */

class Rollback extends Error {}

/** Runs `work` in a transaction that is always rolled back; returns what it returned. */
async function inRolledBackTransaction<T>(ds: DataSource, work: (m: EntityManager) => Promise<T>): Promise<T> {
  let result: T;
  try {
    await ds.transaction(async (m) => {
      result = await work(m);
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return result!;
}

const LOCK_NOT_AVAILABLE = '55P03';

/**
 * The error a statement fails with (in a transaction that is rolled back), or null if it
 * succeeds. The tables are shared with the other test files: a statement that must wait for a
 * strong lock (TRUNCATE) gives up after a moment and is tried again, rather than queueing
 * everyone else's audit writes behind it long enough to deadlock them.
 */
async function failureOf(ds: DataSource, sql: string, setup?: (m: EntityManager) => Promise<unknown[]>): Promise<{ code: string; message: string } | null> {
  for (let attempt = 0; ; attempt++) {
    const failure = await inRolledBackTransaction(ds, async (m) => {
      await m.query(`SET LOCAL lock_timeout = '300ms'`);
      const params = setup ? await setup(m) : [];
      try {
        await m.query(sql, params);
        return null;
      } catch (error) {
        const e = error as { driverError?: { code?: string }; code?: string; message: string };
        return { code: e.driverError?.code ?? e.code ?? '', message: e.message };
      }
    });
    if (failure?.code !== LOCK_NOT_AVAILABLE || attempt >= 50) return failure;
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
}

const INSERT_EVENT = `INSERT INTO audit_events (actor_id, actor_role, action, resource_type, outcome, rule)
  VALUES ($1, 'clearing_house_officer', 'read', 'case', 'allowed', 'append_only_test') RETURNING id, occurred_at`;

describe('the audit trail and the case history are append-only', () => {
  let t: TestApp;
  let owner: DataSource;

  beforeAll(async () => {
    t = await createTestApp();
    owner = await ownerDataSource();
  });
  afterAll(async () => {
    await owner.destroy();
    await t.close();
  });

  describe('as the service role', () => {
    it('may insert audit records', async () => {
      const actor = randomUUID();
      const rows = await inRolledBackTransaction(t.ds, async (m) => {
        await m.query(INSERT_EVENT, [actor]);
        return m.query(`SELECT action, outcome FROM audit_events WHERE actor_id = $1`, [actor]);
      });
      expect(rows).toEqual([{ action: 'read', outcome: 'allowed' }]);
    });

    it.each([
      ['audit_events', `UPDATE audit_events SET rule = 'changed'`],
      ['audit_events', `DELETE FROM audit_events`],
      ['audit_events', `TRUNCATE audit_events`],
      ['audit_events_default', `DELETE FROM audit_events_default`],
      ['audit_seals', `UPDATE audit_seals SET leaf_hash = leaf_hash`],
      ['audit_seals', `DELETE FROM audit_seals`],
      ['audit_seals', `TRUNCATE audit_seals`],
      ['audit_checkpoints', `UPDATE audit_checkpoints SET signature = signature`],
      ['audit_checkpoints', `DELETE FROM audit_checkpoints`],
      ['audit_checkpoints', `TRUNCATE audit_checkpoints`],
      ['conversation_records', `UPDATE conversation_records SET summary = summary`],
      ['conversation_records', `DELETE FROM conversation_records`],
      ['case_transitions', `UPDATE case_transitions SET reason = reason`],
      ['case_transitions', `DELETE FROM case_transitions`],
    ])('is refused by privilege: %s — %s', async (table, sql) => {
      const failure = await failureOf(t.ds, sql);
      expect(failure).toEqual({ code: '42501', message: `permission denied for table ${table}` });
    });

    it('is not a superuser, owns no tables, and belongs to no role but the service group', async () => {
      const [me] = await t.ds.query(
        `SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication
           FROM pg_roles WHERE rolname = current_user`,
      );
      expect(me).toMatchObject({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolbypassrls: false, rolreplication: false });
      const groups: Array<{ rolname: string; rolsuper: boolean }> = await t.ds.query(
        `SELECT r.rolname, r.rolsuper FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
      );
      expect(groups).toEqual([{ rolname: 'clearing_house_service', rolsuper: false }]);
      const owned = await t.ds.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner IN (current_user, 'clearing_house_service')`,
      );
      expect(owned).toEqual([]);
      // The check means something: the tables exist and are owned by someone else.
      const [{ n, owners }] = await t.ds.query(
        `SELECT count(*)::int AS n, array_agg(DISTINCT tableowner) AS owners FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('audit_events', 'audit_seals', 'audit_checkpoints', 'cases')`,
      );
      expect(n).toBe(4);
      expect(owners).not.toContain(me.name);
      const [{ can }] = await t.ds.query(`SELECT has_schema_privilege(current_user, 'public', 'CREATE') AS can`);
      expect(can).toBe(false);
    });
  });

  describe('as the owner (a superuser here)', () => {
    it('is a superuser, so only the triggers stand in the way', async () => {
      const [{ rolsuper }] = await owner.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`);
      expect(rolsuper).toBe(true);
    });

    const ownRow = async (m: EntityManager) => {
      const [row] = await m.query(INSERT_EVENT, [randomUUID()]);
      return [row.id];
    };

    it.each([
      ['UPDATE', `UPDATE audit_events SET rule = 'changed' WHERE id = $1`],
      ['DELETE', `DELETE FROM audit_events WHERE id = $1`],
    ])('%s of an audit record is refused by the trigger', async (_verb, sql) => {
      // The row trigger fires on the month partition the row lives in.
      expect(await failureOf(owner, sql, ownRow)).toEqual({ code: '42501', message: expect.stringMatching(/^audit_events_\d{4}_\d{2} rows are immutable$/) });
    });

    it('UPDATE of an audit record through its month partition is refused by the trigger', async () => {
      const failure = await failureOf(owner, `UPDATE audit_events_${new Date().toISOString().slice(0, 7).replace('-', '_')} SET rule = 'changed' WHERE id = $1`, ownRow);
      expect(failure?.code).toBe('42501');
      expect(failure?.message).toMatch(/rows are immutable/);
    });

    it.each([
      ['audit_events'],
      ['audit_seals'],
      ['audit_checkpoints'],
      [`audit_events_${new Date().toISOString().slice(0, 7).replace('-', '_')}`],
      ['audit_events_default'],
    ])('TRUNCATE %s is refused by the trigger', async (table) => {
      const failure = await failureOf(owner, `TRUNCATE ${table}`);
      expect(failure?.code).toBe('42501');
      expect(failure?.message).toMatch(/rows are immutable/);
    });

    it('UPDATE and DELETE of a seal and a checkpoint are refused by the triggers', async () => {
      const seal = async (m: EntityManager) => {
        const [{ id, occurred_at }] = await m.query(INSERT_EVENT, [randomUUID()]);
        // Far beyond any real sequence number, and rolled back with the rest.
        await m.query(`INSERT INTO audit_seals (seq, event_id, event_occurred_at, leaf_hash) VALUES (9000000000000, $1, $2, decode(repeat('00', 32), 'hex'))`, [id, occurred_at]);
        return [];
      };
      for (const sql of [`UPDATE audit_seals SET leaf_hash = leaf_hash WHERE seq = 9000000000000`, `DELETE FROM audit_seals WHERE seq = 9000000000000`]) {
        expect(await failureOf(owner, sql, seal)).toEqual({ code: '42501', message: 'audit_seals rows are immutable' });
      }
      const checkpoint = async (m: EntityManager) => {
        await m.query(
          `INSERT INTO audit_checkpoints (tree_size, root_hash, frontier, tx_horizon, created_at, checkpoint_hash, key_id, signature)
           VALUES (9000000000000, decode(repeat('00', 32), 'hex'), '{}', '1', now(), decode(repeat('00', 32), 'hex'), 'test', '\\x00')`,
        );
        return [];
      };
      for (const sql of [`UPDATE audit_checkpoints SET key_id = 'x' WHERE tree_size = 9000000000000`, `DELETE FROM audit_checkpoints WHERE tree_size = 9000000000000`]) {
        expect(await failureOf(owner, sql, checkpoint)).toEqual({ code: '42501', message: 'audit_checkpoints rows are immutable' });
      }
    });
  });
});
