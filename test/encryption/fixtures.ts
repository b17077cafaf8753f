import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { signedIn, TestApp } from '../support/app';

export type Person = Awaited<ReturnType<typeof signedIn>>;

/** A string that must never appear in the database in the clear. */
export const sentinel = (what: string) => `SENTINEL-${what}-${randomUUID()}`;

export async function logConcern(t: TestApp, who: Person, body: { description: string; caseId?: string; source?: object; authority?: string }) {
  const res = await request(t.http).post('/concerns').set(who.auth).send({
    authority: body.authority ?? 'YOR', receivedOn: '2026-11-02', channel: 'peer', area: 'finance', ...body,
  });
  if (res.status !== 201) throw new Error(`log concern: ${res.status} ${JSON.stringify(res.body)}`);
  return { caseId: res.body.case.id as string, concernId: res.body.concern.id as string, body: res.body };
}

export async function recordConversation(t: TestApp, who: Person, caseId: string, summary: string) {
  const res = await request(t.http).post(`/cases/${caseId}/conversations`).set(who.auth).send({ kind: 'call', heldOn: '2026-11-03', summary, handling: 'normal' });
  if (res.status !== 201) throw new Error(`record conversation: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { recordId: string; version: number; summary: string };
}

/**
 * Everything the owner role (a database administrator, or a dump) sees of the encrypted tables
 * and the key table: each row as PostgreSQL's text form (bytea as hex).
 */
export async function ownerDump(owner: DataSource): Promise<string> {
  const parts: string[] = [];
  for (const table of ['concerns', 'concern_sources', 'conversation_records', 'data_keys']) {
    const rows: Array<{ r: string }> = await owner.query(`SELECT t::text AS r FROM ${table} t`);
    parts.push(...rows.map((x) => x.r));
  }
  return parts.join('\n');
}

/** The plaintext as it would appear in the dump: as text, or as the hex of its UTF-8 bytes. */
export function appearsIn(dump: string, plaintext: string): boolean {
  return dump.includes(plaintext) || dump.toLowerCase().includes(Buffer.from(plaintext, 'utf8').toString('hex'));
}
