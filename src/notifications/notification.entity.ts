import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * What a notification is about. Stored as text (no database constraint), so a new kind is one
 * more member here and nothing else.
 */
export enum NotificationKind {
  Welcome = 'welcome',
  DeadlineApproaching = 'deadline_approaching',
  DeadlineMissed = 'deadline_missed',
  Escalation = 'escalation',
  /** To every auditor when a manager uses break-glass access (names the case reference, never content). */
  BreakGlass = 'break_glass',
  /** A source identity release awaits a second manager's decision, or was approved for you (never the identity). */
  SourceIdentityRelease = 'source_identity_release',
}

/** An item in a user's in-app inbox. Text names what is due, never case content. */
@Entity({ name: 'notifications' })
export class Notification {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'text' })
  kind: NotificationKind;

  @Column({ type: 'text' })
  title: string;

  @Column({ type: 'text' })
  body: string;

  /** The case it is about, if any (its reference is in the title; never its content). */
  @Column({ name: 'case_id', type: 'uuid', nullable: true })
  caseId: string | null;

  /** Makes delivery idempotent: a job that runs twice inserts one row. */
  @Column({ name: 'dedupe_key', type: 'text', unique: true })
  dedupeKey: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'read_at', type: 'timestamptz', nullable: true })
  readAt: Date | null;
}
