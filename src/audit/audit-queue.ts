export const AUDIT_QUEUE = 'audit';

export enum AuditJob {
  Seal = 'seal',
}
