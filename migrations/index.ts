import { Foundation1764380000000 } from './1764380000000-Foundation';
import { Cases1764380100000 } from './1764380100000-Cases';
import { AuditTrail1764380200000 } from './1764380200000-AuditTrail';
import { EarlyWarning1764380500000 } from './1764380500000-EarlyWarning';
import { Retention1764380700000 } from './1764380700000-Retention';
import { AuditSearchIndexes1764380300000 } from './1764380300000-AuditSearchIndexes';
import { Mfa1764380400000 } from './1764380400000-Mfa';
import { EmailOutbox1764380600000 } from './1764380600000-EmailOutbox';

/** Every migration, in order. Listed explicitly so the compiled service and the tests load the same set. */
export const MIGRATIONS = [Foundation1764380000000, Cases1764380100000, AuditTrail1764380200000, AuditSearchIndexes1764380300000, Mfa1764380400000, EarlyWarning1764380500000, EmailOutbox1764380600000, Retention1764380700000];
