import { Foundation1764380000000 } from './1764380000000-Foundation';
import { Cases1764380100000 } from './1764380100000-Cases';
import { AuditTrail1764380200000 } from './1764380200000-AuditTrail';
import { EarlyWarning1764380500000 } from './1764380500000-EarlyWarning';
import { Retention1764380700000 } from './1764380700000-Retention';
import { Deadlines1764380800000 } from './1764380800000-Deadlines';
import { Encryption1764380900000 } from './1764380900000-Encryption';
import { AuditSearchIndexes1764380300000 } from './1764380300000-AuditSearchIndexes';
import { Mfa1764380400000 } from './1764380400000-Mfa';
import { EmailOutbox1764380600000 } from './1764380600000-EmailOutbox';
import { SourceIdentityReleases1764381000000 } from './1764381000000-SourceIdentityReleases';
import { IdempotencyKeys1764381100000 } from './1764381100000-IdempotencyKeys';
import { AuditWorkbench1764381200000 } from './1764381200000-AuditWorkbench';
import { RowLevelSecurity1764381300000 } from './1764381300000-RowLevelSecurity';
import { Conflicts1764381500000 } from './1764381500000-Conflicts';
import { AgreedRecords1764381400000 } from './1764381400000-AgreedRecords';
import { StageAccessAndCompartments1764381600000 } from './1764381600000-StageAccessAndCompartments';
import { FastCaseVisibility1764381700000 } from './1764381700000-FastCaseVisibility';
import { RowLevelSecurityRest1764381800000 } from './1764381800000-RowLevelSecurityRest';
import { RetentionDestroysAllContent1764381900000 } from './1764381900000-RetentionDestroysAllContent';
import { InboxFollowsCaseAccess1764382000000 } from './1764382000000-InboxFollowsCaseAccess';
import { EmailOutboxRowSecurity1764382100000 } from './1764382100000-EmailOutboxRowSecurity';
import { AccessReviewRowSecurity1764382200000 } from './1764382200000-AccessReviewRowSecurity';

/** Every migration, in order. Listed explicitly so the compiled service and the tests load the same set. */
export const MIGRATIONS = [Foundation1764380000000, Cases1764380100000, AuditTrail1764380200000, AuditSearchIndexes1764380300000, Mfa1764380400000, EarlyWarning1764380500000, EmailOutbox1764380600000, Retention1764380700000, Deadlines1764380800000, Encryption1764380900000, SourceIdentityReleases1764381000000, IdempotencyKeys1764381100000, AuditWorkbench1764381200000, RowLevelSecurity1764381300000, AgreedRecords1764381400000, Conflicts1764381500000, StageAccessAndCompartments1764381600000, FastCaseVisibility1764381700000, RowLevelSecurityRest1764381800000, RetentionDestroysAllContent1764381900000, InboxFollowsCaseAccess1764382000000, EmailOutboxRowSecurity1764382100000, AccessReviewRowSecurity1764382200000];
