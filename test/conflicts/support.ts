import request from 'supertest';
import { Role } from '../../src/access-control/role';
import { createTestApp, TestApp } from '../support/app';
import { newPerson, Person } from './fixtures';

/** What both conflicts files start from: the application, the officer who logs their cases, a manager, and the audit trail as an auditor reads it. */
export interface ConflictsApp {
  t: TestApp;
  logger: Person;
  manager: Person;
  /** The audit records matching `query`, through GET /audit/events as an auditor. */
  events(query: Record<string, string>): Promise<Array<Record<string, unknown>>>;
}

export async function openConflictsApp(managerName: string): Promise<ConflictsApp> {
  const t = await createTestApp();
  const logger = await newPerson(t, Role.ClearingHouseOfficer, { name: 'Logging officer' });
  const manager = await newPerson(t, Role.ClearingHouseManager, { name: managerName });
  const auditor = await newPerson(t, Role.Auditor);
  const events = async (query: Record<string, string>) => {
    const res = await request(t.http).get('/audit/events').query(query).set(auditor.auth);
    expect(res.status).toBe(200);
    return res.body.items as Array<Record<string, unknown>>;
  };
  return { t, logger, manager, events };
}
