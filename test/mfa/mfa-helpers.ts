import request from 'supertest';
import { totpCodeAt, totpStepAt } from '../../src/auth/mfa/totp';
import { TestApp } from '../support/app';

/** A six-digit code that is none of the secret's codes anywhere near now. */
export function wrongTotp(secret: string): string {
  const step = totpStepAt(Date.now());
  const near = new Set([-3, -2, -1, 0, 1, 2, 3].map((d) => totpCodeAt(secret, step + d)));
  for (let i = 0; ; i++) {
    const code = String((123_457 + i * 7_919) % 1_000_000).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Signs in with the password only; returns the raw answer. */
export function passwordSignIn(t: TestApp, email: string, password: string) {
  return request(t.http).post('/auth/sign-in').send({ email, password });
}

export interface AuditRow {
  action: string;
  outcome: string;
  rule: string | null;
  resource_type: string;
  resource_id: string | null;
  case_id: string | null;
  justification: string | null;
  actor_id: string | null;
}

/** The audit records of one actor (or about one resource), oldest first. */
export async function auditOf(t: TestApp, where: { actorId?: string; resourceId?: string; caseId?: string }): Promise<AuditRow[]> {
  return t.ds.query(
    `SELECT action, outcome, rule, resource_type, resource_id, case_id, justification, actor_id FROM audit_events
      WHERE ($1::uuid IS NULL OR actor_id = $1::uuid) AND ($2::text IS NULL OR resource_id = $2) AND ($3::uuid IS NULL OR case_id = $3::uuid)
      ORDER BY occurred_at, id`,
    [where.actorId ?? null, where.resourceId ?? null, where.caseId ?? null],
  );
}
