import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Queue } from 'bull';

/** @nestjs/bull registers each queue under the token `BullQueue_<name>`. */
const QUEUE_TOKEN_PREFIX = 'BullQueue_';

/**
 * Every Bull queue the application registered, found rather than listed, so that a module
 * that adds a queue shows up on the board and in the metrics without touching this one.
 */
@Injectable()
export class QueueRegistry {
  private found: Queue[] | undefined;

  constructor(private readonly discovery: DiscoveryService) {}

  queues(): Queue[] {
    if (!this.found) {
      const byName = new Map<string, Queue>();
      for (const wrapper of this.discovery.getProviders()) {
        if (typeof wrapper.token !== 'string' || !wrapper.token.startsWith(QUEUE_TOKEN_PREFIX)) continue;
        const queue = wrapper.instance as Queue | undefined;
        if (queue && typeof queue.getJobCounts === 'function' && !byName.has(queue.name)) byName.set(queue.name, queue);
      }
      this.found = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    }
    return this.found;
  }
}
