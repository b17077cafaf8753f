import { EntityManager } from 'typeorm';
import { DeadlineKind } from './deadline.types';
import { londonDateOf, WorkingCalendar } from './working-calendar';

/**
 * The deadlines a demonstration case would have had, had it been made through the API with the
 * default targets (triage in 5 working days, warning 2 before; review dates of agreed support):
 * the demo's cases were written straight to the database. A demo started with reminders on
 * then shows reminders and escalations in its users' inboxes.
 */
export async function seedDemoDeadlines(m: EntityManager, caseId: string, state: string): Promise<void> {
  const calendar = new WorkingCalendar();
  const insert = (kind: DeadlineKind, sourceId: string | null, dueOn: string) =>
    m.query(`INSERT INTO case_deadlines (case_id, kind, source_id, due_on, warn_on) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [
      caseId, kind, sourceId, dueOn, calendar.addWorkingDays(dueOn, -2),
    ]);
  if (state === 'concern_raised' || state === 'triage') {
    const [concern]: Array<{ id: string; received_on: string }> = await m.query(
      `SELECT id, to_char(received_on, 'YYYY-MM-DD') AS received_on FROM concerns WHERE case_id = $1 ORDER BY received_on LIMIT 1`, [caseId]);
    if (concern) await insert(DeadlineKind.Triage, concern.id, calendar.addWorkingDays(concern.received_on, 5));
  }
  if (state === 'riep_discussion' || state === 'improvement_support') {
    const support: Array<{ id: string; review_on: string }> = await m.query(
      `SELECT s.id, to_char(d, 'YYYY-MM-DD') AS review_on FROM improvement_support s, unnest(s.review_dates) d
        WHERE s.case_id = $1 AND s.status IN ('agreed','in_progress')`, [caseId]);
    for (const s of support) await insert(DeadlineKind.SupportReview, s.id, s.review_on);
  }
  if (state === 'pre_intervention') {
    await insert(DeadlineKind.PreInterventionMeeting, null, calendar.addWorkingDays(londonDateOf(new Date()), 10));
  }
}
