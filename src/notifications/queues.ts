/** Bull queue names and job names. Jobs carry ids only; processors reload what they need. */
export enum QueueName {
  Notifications = 'notifications',
  Email = 'email',
}

export enum NotificationJob {
  Welcome = 'welcome',
}

export interface WelcomeJobData {
  userId: string;
}

export enum EmailJob {
  /** Deliver one outbox row (if it is still pending and due). */
  Deliver = 'deliver',
  /** Repeatable: queue every pending, due outbox row again (the outbox, not Redis, is the truth). */
  Sweep = 'sweep',
}

export interface DeliverEmailJobData {
  outboxId: string;
}
