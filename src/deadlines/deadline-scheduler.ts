import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job, Queue } from 'bull';
import { DataSource } from 'typeorm';
import { registerOnEveryConnect } from '../common/repeatable-jobs';
import { AppConfig } from '../config/app-config';
import { Clock } from './clock';
import { DeadlineReminders, ReminderOutcome } from './deadline-reminders';
import { reminderMoment } from './deadline-rules';
import { DEADLINES_QUEUE, DeadlineJob, reminderJobId, ReminderKind, RemindJobData } from './deadline.types';
import { addCalendarDays, londonDateOf } from './working-calendar';
import { inSystemContext, SystemContext } from '../database/row-security';

/**
 * Turns open deadlines (in PostgreSQL, the only record) into reminder jobs (in Redis, a mere
 * schedule). At start-up and on a repeatable job it looks for every reminder whose moment is
 * past or comes before the next sweep and not yet sent, and adds its job under a
 * deterministic id: a job already waiting is not added twice, a delayed one that is now due is
 * promoted, a failed one retried. If Redis loses everything, the next sweep rebuilds it.
 */
@Injectable()
export class DeadlineScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeadlineScheduler.name);
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(DEADLINES_QUEUE) private readonly queue: Queue,
    private readonly reminders: DeadlineReminders,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.config.get('DEADLINE_REMINDERS_ENABLED');
  }

  async onApplicationBootstrap(): Promise<void> {
    // An instance with reminders off neither takes these jobs nor schedules them (the worker is
    // registered here rather than by decorator so that this setting can decide).
    if (!this.enabled) return;
    const workerFailed = (error: unknown) => this.logger.warn({ err: (error as Error)?.name }, 'the deadlines worker stopped');
    this.queue.process(DeadlineJob.Remind, 1, (job: Job<RemindJobData>): Promise<ReminderOutcome> => this.reminders.run(job.data.deadlineId, job.data.reminder)).catch(workerFailed);
    this.queue.process(DeadlineJob.Sweep, 1, (): Promise<number> => this.sweep()).catch(workerFailed);
    // Again after Redis comes back: one that lost its data has forgotten the repeatable sweep.
    registerOnEveryConnect(this.queue, () => this.schedule(), workerFailed);
    await this.schedule();
  }

  onModuleDestroy(): void {
    if (this.retry) clearTimeout(this.retry);
  }

  /** The repeatable sweep, and one sweep now; tried again later if Redis or PostgreSQL does not answer. */
  private async schedule(): Promise<void> {
    this.retry = undefined;
    try {
      await this.queue.add(DeadlineJob.Sweep, {}, {
        repeat: { every: this.config.get('DEADLINE_SWEEP_INTERVAL_MS') }, jobId: DeadlineJob.Sweep, removeOnComplete: true, removeOnFail: 100,
      });
      const queued = await this.sweep();
      if (queued > 0) this.logger.log({ queued }, 'queued deadline reminders at start-up');
    } catch (error) {
      // The deadlines are safe in PostgreSQL: try again, so that an instance started while Redis was down still reminds.
      this.logger.warn({ err: (error as Error)?.name }, 'could not schedule deadline reminders; trying again');
      this.retry = setTimeout(() => void this.schedule(), Math.min(60_000, this.config.get('DEADLINE_SWEEP_INTERVAL_MS')));
      this.retry.unref();
    }
  }

  /** Queues every reminder due now or before the next sweep; returns how many jobs it added or woke. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    const horizon = new Date(now.getTime() + 2 * this.config.get('DEADLINE_SWEEP_INTERVAL_MS'));
    // Dates first (cheap, indexed), exact moments below; one day of slack covers the time zone.
    const until = addCalendarDays(londonDateOf(horizon), 1);
    const rows = await this.openDeadlinesWarnedBy(until);
    let queued = 0;
    for (const row of rows) {
      const dates = { dueOn: row.due_on, warnOn: row.warn_on };
      const missedAt = reminderMoment(dates, ReminderKind.Missed);
      for (const reminder of [ReminderKind.Approaching, ReminderKind.Missed]) {
        if (row.sent.includes(reminder)) continue;
        // Once the deadline has passed, only "missed" is worth sending.
        if (reminder === ReminderKind.Approaching && missedAt <= now) continue;
        const at = reminderMoment(dates, reminder);
        if (at > horizon) continue;
        if (await this.enqueue(row.id, reminder, Math.max(0, at.getTime() - now.getTime()))) queued += 1;
      }
    }
    return queued;
  }

  /** Open deadlines whose warning day is on or before `until` and whose "missed" reminder has not gone. */
  protected openDeadlinesWarnedBy(until: string): Promise<Array<{ id: string; due_on: string; warn_on: string; sent: ReminderKind[] }>> {
    return inSystemContext(this.dataSource, SystemContext.Deadlines, (m) => m.query(
      `SELECT d.id, to_char(d.due_on, 'YYYY-MM-DD') AS due_on, to_char(d.warn_on, 'YYYY-MM-DD') AS warn_on,
              coalesce((SELECT array_agg(r.kind) FROM deadline_reminders r WHERE r.deadline_id = d.id), '{}') AS sent
         FROM case_deadlines d
        WHERE d.state = 'open' AND d.warn_on <= $1::date
          AND NOT EXISTS (SELECT 1 FROM deadline_reminders r WHERE r.deadline_id = d.id AND r.kind = 'missed')
        ORDER BY d.due_on, d.id`,
      [until],
    ));
  }

  private async enqueue(deadlineId: string, reminder: ReminderKind, delay: number): Promise<boolean> {
    const jobId = reminderJobId(deadlineId, reminder);
    const existing = await this.queue.getJob(jobId);
    if (existing) {
      if (delay === 0 && (await existing.isDelayed())) {
        await existing.promote();
        return true;
      }
      if (await existing.isFailed()) {
        await existing.retry();
        return true;
      }
      if (!(await existing.isCompleted())) return false;
      // A completed job kept under this id would block the add: it ran without sending (too early); run it again.
      await existing.remove();
    }
    const data: RemindJobData = { deadlineId, reminder };
    await this.queue.add(DeadlineJob.Remind, data, { jobId, delay, attempts: 5, backoff: { type: 'exponential', delay: 5_000 }, removeOnComplete: true, removeOnFail: 1_000 });
    return true;
  }
}
