import type { Queue } from 'bull';

/**
 * Runs `register` (which adds a queue's repeatable jobs) again whenever the queue's Redis
 * connection becomes ready, after a reconnect included. A Redis that restarted without its data
 * (no persistence, a failover to an empty replica) has forgotten every repeatable job, and
 * nothing else would add them again until the service restarts: the audit sealer, the e-mail
 * sweep and the deadline sweep would silently stop. Adding a repeatable job that exists is
 * harmless (Bull keys it by name and interval), so registering on every `ready` is safe.
 */
export function registerOnEveryConnect(queue: Queue, register: () => Promise<unknown>, onError: (error: unknown) => void): void {
  queue.client.on('ready', () => {
    register().catch(onError);
  });
}
