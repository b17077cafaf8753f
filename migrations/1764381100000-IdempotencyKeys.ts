import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of create requests. A row is written in the same transaction as what the
 * request created, so the key exists if and only if the creation committed. It holds no case
 * content: the created record's id, and a SHA-256 fingerprint of the request to recognise a key
 * reused for a different one. The primary key (user, key) scopes a key to the user who sent it.
 */
export class IdempotencyKeys1764381100000 implements MigrationInterface {
  name = 'IdempotencyKeys1764381100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL REFERENCES users(id),
        key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
        request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
        resource_type text NOT NULL,
        resource_id uuid NOT NULL,
        resource_version integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, key),
        CHECK (expires_at > created_at)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at)`);
    // UPDATE reuses an expired key's row; DELETE is the purge of expired keys.
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO clearing_house_service`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
