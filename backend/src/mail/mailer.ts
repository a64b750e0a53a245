/**
 * Sends mail through SMTP_URL when configured. Without it the message (with its link) goes to the log, and
 * under MAIL_SANDBOX also to the sandbox outbox (outbox.repo.ts), where /dev/outbox shows it.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  link?: string;
}

export class Mailer {
  private readonly transport?: Transporter;
  readonly sent: Mail[] = [];
  constructor(
    smtpUrl: string | undefined,
    private readonly from: string,
    private readonly log: Logger,
    private readonly keepSent = false,
    /** Stores a mail in the sandbox outbox; set only when MAIL_SANDBOX is on. */
    private readonly outbox?: (mail: Mail) => Promise<void>,
  ) {
    if (smtpUrl) this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(mail: Mail): Promise<void> {
    if (this.keepSent) this.sent.push(mail);
    if (this.outbox) {
      try {
        await this.outbox(mail);
      } catch (err) {
        this.log.error({ err, subject: mail.subject }, 'sandbox outbox write failed');
      }
    }
    if (!this.transport) {
      // No SMTP in development: the operator reads the link from the log (the brief asks for exactly this).
      this.log.info(
        { mailTo: mail.to, subject: mail.subject, link: mail.link, outbox: Boolean(this.outbox) },
        'mail not sent (no SMTP_URL); link logged',
      );
      return;
    }
    try {
      await this.transport.sendMail({ from: this.from, to: mail.to, subject: mail.subject, text: mail.text });
    } catch (err) {
      this.log.error({ err, subject: mail.subject }, 'mail delivery failed');
    }
  }
}
