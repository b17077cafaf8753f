import { Injectable } from '@nestjs/common';
import { EmailOutboxService } from '../notifications/email-outbox.service';
import { QueueRegistry } from './queue-registry';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface Metrics {
  queues: Record<string, QueueCounts>;
  emailOutbox: { pending: number; dead: number };
  collectedAt: string;
}

@Injectable()
export class MetricsService {
  constructor(
    private readonly registry: QueueRegistry,
    private readonly outbox: EmailOutboxService,
  ) {}

  async collect(): Promise<Metrics> {
    const [queues, emailOutbox] = await Promise.all([
      Promise.all(
        this.registry.queues().map(async (queue) => {
          const c = await queue.getJobCounts();
          return [queue.name, { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 }] as const;
        }),
      ),
      this.outbox.counts(),
    ]);
    return { queues: Object.fromEntries(queues), emailOutbox, collectedAt: new Date().toISOString() };
  }
}

/** The same figures in the Prometheus text exposition format (version 0.0.4). */
export function toPrometheusText(m: Metrics): string {
  const lines = [
    '# HELP clearing_house_queue_jobs Jobs in a background queue, by state.',
    '# TYPE clearing_house_queue_jobs gauge',
  ];
  for (const [queue, counts] of Object.entries(m.queues)) {
    for (const [state, value] of Object.entries(counts)) lines.push(`clearing_house_queue_jobs{queue="${escapeLabel(queue)}",state="${state}"} ${value}`);
  }
  lines.push(
    '# HELP clearing_house_email_outbox E-mails in the outbox, by status (pending: not yet delivered; dead: given up, see GET /admin/email/dead).',
    '# TYPE clearing_house_email_outbox gauge',
    `clearing_house_email_outbox{status="pending"} ${m.emailOutbox.pending}`,
    `clearing_house_email_outbox{status="dead"} ${m.emailOutbox.dead}`,
  );
  return `${lines.join('\n')}\n`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
