/** Bull queue names and job names. Jobs carry ids only; processors reload what they need. */
export enum QueueName {
  Notifications = 'notifications',
}

export enum NotificationJob {
  Welcome = 'welcome',
}

export interface WelcomeJobData {
  userId: string;
}
