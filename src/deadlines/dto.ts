import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { DeadlineCloseReason, DeadlineKind, DeadlineState, ReminderKind } from './deadline.types';

export class DeadlineIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  id: string;
}

export class SentReminderDto {
  @ApiProperty({ enum: ReminderKind, enumName: 'ReminderKind' }) kind: ReminderKind;
  @ApiProperty() sentAt: string;
}

export class DeadlineDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) caseId: string;
  @ApiProperty({ enum: DeadlineKind, enumName: 'DeadlineKind' }) kind: DeadlineKind;
  @ApiProperty({
    format: 'uuid', nullable: true, type: String,
    description: 'The conversation record (agreed action), support item (review date) or meeting it comes from; null for a stage target',
  })
  sourceId: string | null;
  @ApiProperty({ description: 'For an agreed action: its position in the record (0 first)' }) sourceItem: number;
  @ApiProperty({ example: '2026-12-07' }) dueOn: string;
  @ApiProperty({ example: '2026-12-03', description: 'When the case team is warned' }) warnOn: string;
  @ApiProperty({ enum: DeadlineState, enumName: 'DeadlineState' }) state: DeadlineState;
  @ApiProperty({ enum: DeadlineCloseReason, enumName: 'DeadlineCloseReason', nullable: true }) closedReason: DeadlineCloseReason | null;
  @ApiProperty({ nullable: true, type: String }) closedAt: string | null;
  @ApiProperty({ type: [SentReminderDto] }) reminders: SentReminderDto[];
}
