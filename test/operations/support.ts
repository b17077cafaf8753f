import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Role } from '../../src/access-control/role';
import { EnvironmentVariables, validateEnvironment } from '../../src/config/environment';
import { EmailOutboxService, QueuedRow } from '../../src/notifications/email-outbox.service';
import { createUser, ownerDataSource, startApp, TestApp, testAppOf, TestUser } from '../support/app';
import { deleteKeys } from '../support/redis';

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface CaughtMessage {
  from: string;
  to: string[];
  subject: string;
  /** The decoded text body. */
  text: string;
  raw: string;
}

/**
 * A local SMTP catcher on a loopback port: accepts (or refuses, see `mode`) and keeps every
 * message. No TLS and no authentication, like a development mail catcher.
 */
export class SmtpCatcher {
  readonly messages: CaughtMessage[] = [];
  /** accept; tempfail: 451 to every recipient; recipients containing "+reject" always get 550. */
  mode: 'accept' | 'tempfail' = 'accept';
  private server: SMTPServer | undefined;

  async start(port = 0): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (address.address.includes('+reject')) return callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
        if (this.mode === 'tempfail') return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const mailFrom = session.envelope.mailFrom;
          this.messages.push({
            from: header(raw, 'From') ?? (mailFrom ? mailFrom.address : ''),
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: header(raw, 'Subject') ?? '',
            text: bodyOf(raw),
            raw,
          });
          callback();
        });
      },
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): CaughtMessage[] {
    return this.messages.filter((m) => m.to.includes(address));
  }
}

function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function bodyOf(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const encoding = header(raw, 'Content-Transfer-Encoding')?.toLowerCase();
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8').replace(/\r\n/g, '\n');
  }
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8').replace(/\r\n/g, '\n');
  return body.replace(/\r\n/g, '\n');
}

/** A loopback port nothing listens on (for "the mail server is down"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * An application with e-mail delivery on, isolated from the other test files of the run, which
 * share its database and Redis:
 * - its queues have a Redis prefix of their own (an application without SMTP_URL would otherwise
 *   take its e-mail jobs and find delivery disabled), removed on close;
 * - its outbox sweep takes only rows addressed to its own `domain` (the other files' e-mails
 *   stay pending, as they expect, instead of being sent by this one).
 */
export async function createMailingApp(overrides: Partial<EnvironmentVariables>): Promise<MailingTestApp> {
  const prefix = `${process.env.QUEUE_PREFIX}_mail_${randomUUID().slice(0, 8)}`;
  const domain = `mail-${randomUUID().slice(0, 8)}.test.example`;
  class ThisAppsOutbox extends EmailOutboxService {
    protected override async dueRows(limit: number): Promise<Array<QueuedRow & { toAddress: string }>> {
      return (await super.dueRows(limit)).filter((r) => r.toAddress.endsWith(`@${domain}`));
    }
  }
  // As createTestApp, with the outbox above.
  const settings = { ...validateEnvironment({ ...process.env }), QUEUE_PREFIX: prefix, ...overrides } as EnvironmentVariables;
  const app = await startApp(settings, (builder) => builder.overrideProvider(EmailOutboxService).useClass(ThisAppsOutbox));
  const t = testAppOf(app, await ownerDataSource());
  return {
    ...t,
    domain,
    close: async () => {
      await t.close();
      await deleteKeys(settings.REDIS_URL, prefix);
    },
  };
}

export interface MailingTestApp extends TestApp {
  /** Addresses in this domain are the ones this application's sweep delivers. */
  domain: string;
}

/** A user (not signed in) whose address is in the mailing application's domain. */
export async function mailUser(t: MailingTestApp, role: Role, label = 'user'): Promise<TestUser> {
  return createUser(t.ds, role, { email: `${label}.${randomUUID().slice(0, 8)}@${t.domain}` });
}

/** Every role but the administrator: none of them may see queues, dead letters or metrics. */
export const NOT_ADMINISTRATORS = [Role.ClearingHouseOfficer, Role.ClearingHouseManager, Role.RiepFacilitator, Role.LeadPoliticalPeer, Role.Auditor, Role.BoardMember];

