import { Injectable } from '@nestjs/common';

/**
 * The time, for deadlines and reminders. Provided as `Clock` so that tests can replace it
 * and move through days and weeks without waiting for them.
 */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
