import { toPrometheusText } from './metrics.service';

describe('toPrometheusText', () => {
  it('writes one gauge line per queue and state, and the outbox counts', () => {
    const text = toPrometheusText({
      queues: { email: { waiting: 1, active: 0, delayed: 2, failed: 3 }, 'we"ird': { waiting: 0, active: 0, delayed: 0, failed: 0 } },
      emailOutbox: { pending: 4, dead: 5 },
      collectedAt: '2026-11-29T00:00:00.000Z',
    });
    expect(text.split('\n')).toEqual(expect.arrayContaining([
      '# TYPE clearing_house_queue_jobs gauge',
      'clearing_house_queue_jobs{queue="email",state="waiting"} 1',
      'clearing_house_queue_jobs{queue="email",state="failed"} 3',
      'clearing_house_queue_jobs{queue="we\\"ird",state="delayed"} 0',
      '# TYPE clearing_house_email_outbox gauge',
      'clearing_house_email_outbox{status="pending"} 4',
      'clearing_house_email_outbox{status="dead"} 5',
    ]));
    expect(text.endsWith('\n')).toBe(true);
  });
});
