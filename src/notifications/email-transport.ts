import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { AppConfig } from '../config/app-config';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
}

/** Why a delivery failed, as the outbox records it: a code, never a server's message. */
export interface DeliveryFailure {
  /** E.g. `ESOCKET/ECONNREFUSED`, `EENVELOPE 550`, `ETIMEDOUT`. */
  code: string;
  /** The server refused the message for good (an SMTP 5xx other than 503): retrying will not help. */
  permanent: boolean;
}

/**
 * SMTP delivery through nodemailer, configured by SMTP_URL and MAIL_FROM. Without SMTP_URL
 * delivery is disabled: `enabled` is false and the outbox keeps its rows pending.
 */
@Injectable()
export class EmailTransport implements OnModuleDestroy {
  private readonly logger = new Logger(EmailTransport.name);
  private readonly mailer: Mail | null;

  constructor(config: AppConfig) {
    const url = config.get('SMTP_URL');
    this.mailer = url
      ? createTransport(
          {
            url,
            // Bounded, so that a worker holding an outbox row never waits long on a silent server.
            connectionTimeout: 10_000,
            greetingTimeout: 10_000,
            socketTimeout: 30_000,
            dnsTimeout: 10_000,
            // Nodemailer logs nothing unless asked; addresses and text must stay out of the logs.
            logger: false,
            debug: false,
            // The text is ours; never let a message pull in files or URLs.
            disableFileAccess: true,
            disableUrlAccess: true,
          },
          { from: config.get('MAIL_FROM') },
        )
      : null;
    if (!this.mailer) this.logger.warn('SMTP_URL is not set: e-mail delivery is disabled and e-mails stay pending in the outbox');
  }

  get enabled(): boolean {
    return this.mailer !== null;
  }

  /** Sends one message; resolves when the server has accepted it. */
  async send(mail: OutgoingEmail): Promise<void> {
    if (!this.mailer) throw new Error('e-mail delivery is disabled (SMTP_URL is not set)');
    await this.mailer.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, disableFileAccess: true, disableUrlAccess: true });
  }

  onModuleDestroy(): void {
    this.mailer?.close();
  }
}

/** The outbox's view of an error: its codes only (a server's reply can echo addresses and text). */
export function deliveryFailureOf(error: unknown): DeliveryFailure {
  const e = (error ?? {}) as { code?: unknown; originalCode?: unknown; responseCode?: unknown; permanent?: unknown };
  const token = (v: unknown) => (typeof v === 'string' && /^[A-Z0-9_]{1,40}$/.test(v) ? v : null);
  const code = token(e.code) ?? 'ERROR';
  const original = token(e.originalCode);
  const responseCode = typeof e.responseCode === 'number' && Number.isInteger(e.responseCode) ? e.responseCode : null;
  const parts = [original && original !== code ? `${code}/${original}` : code, responseCode !== null ? String(responseCode) : null];
  const permanent = e.permanent === true || (responseCode !== null && responseCode >= 500 && responseCode < 600 && responseCode !== 503);
  return { code: parts.filter(Boolean).join(' '), permanent };
}
