import Bull from 'bull';
import { Command } from 'commander';
import { validateEnvironment } from '../config/environment';
import { ENCRYPTION_QUEUE, EncryptionJob } from '../encryption/encryption.processor';
import { rotateMasterKey, startDataKeyRotation } from '../encryption/key-rotation';
import { MasterKeyRing } from '../encryption/key-wrapper';
import { withOwnerConnection } from './owner-connection';

const CLI_ACTOR = { userId: null, role: 'cli', requestId: null, clientIp: null, userAgent: 'clearing-house-cli' };

/** Key rotation for encryption at rest (docs/SECURITY.md, "Keys, and how to rotate them"). Never prints a key. */
export function registerKeyCommands(program: Command): void {
  program
    .command('keys:rotate-master')
    .description('Re-wrap every data key under ENCRYPTION_MASTER_KEY; ENCRYPTION_MASTER_KEY_PREVIOUS is the key being replaced. Runs as the owner; safe while the service runs.')
    .action(async () => {
      const env = validateEnvironment(process.env);
      if (!env.ENCRYPTION_MASTER_KEY_PREVIOUS) throw new Error('Set ENCRYPTION_MASTER_KEY_PREVIOUS to the master key being replaced (and ENCRYPTION_MASTER_KEY to the new one)');
      const ring = MasterKeyRing.fromConfig(env.ENCRYPTION_MASTER_KEY!, env.ENCRYPTION_MASTER_KEY_PREVIOUS);
      const n = await withOwnerConnection(env, (ds) => rotateMasterKey(ds, ring, CLI_ACTOR));
      console.log(`Re-wrapped ${n} data key(s) under master key ${ring.current.masterKeyId}. Every data key is now under it: remove ENCRYPTION_MASTER_KEY_PREVIOUS and restart the service.`);
    });

  program
    .command('keys:rotate-data')
    .description("Give every case (or one, --case) a new data key; the re-encryption job then moves the content to it and retires the old key. Runs as the owner; safe while the service runs.")
    .option('--case <id>', 'only this case (its id)')
    .action(async (opts: { case?: string }) => {
      const env = validateEnvironment(process.env);
      const ring = MasterKeyRing.fromConfig(env.ENCRYPTION_MASTER_KEY!, env.ENCRYPTION_MASTER_KEY_PREVIOUS ?? null);
      const n = await withOwnerConnection(env, (ds) => startDataKeyRotation(ds, ring, CLI_ACTOR, opts.case ? { caseIds: [opts.case] } : {}));
      const queue = new Bull(ENCRYPTION_QUEUE, env.REDIS_URL, { prefix: env.QUEUE_PREFIX });
      try {
        await Promise.race([
          queue.add(EncryptionJob.ReEncrypt, {}, { removeOnComplete: true, removeOnFail: 50 }),
          new Promise((_, reject) => setTimeout(() => reject(new Error('Redis did not answer')), 5_000).unref()),
        ]);
        console.log(`Started rotation for ${n} case(s); the re-encryption job is queued (the service runs it).`);
      } catch {
        console.log(`Started rotation for ${n} case(s); Redis did not answer: the service's sweep re-encrypts within ten minutes.`);
      } finally {
        await queue.close();
      }
    });
}
