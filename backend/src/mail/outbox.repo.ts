/** The sandbox outbox: mail kept in the app database when there is no mail server (MAIL_SANDBOX). */
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/db.js';
import type { Mail } from './mailer.js';

/** Older mail is dropped: the outbox is for reading the last links, not an archive. */
const KEEP = 200;

export interface OutboxMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  link: string | null;
  createdAt: string;
}

export function storeOutboxMail(db: Db, mail: Mail, nowIso: string): void {
  db.transaction(() => {
    db.prepare(
      'INSERT INTO mail_outbox (id, to_address, subject, body, link, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(randomUUID(), mail.to, mail.subject, mail.text, mail.link ?? null, nowIso);
    db.prepare(
      'DELETE FROM mail_outbox WHERE id NOT IN (SELECT id FROM mail_outbox ORDER BY created_at DESC, rowid DESC LIMIT ?)',
    ).run(KEEP);
  })();
}

export function listOutboxMail(db: Db, limit: number): OutboxMail[] {
  const rows = db
    .prepare('SELECT * FROM mail_outbox ORDER BY created_at DESC, rowid DESC LIMIT ?')
    .all(limit) as {
    id: string;
    to_address: string;
    subject: string;
    body: string;
    link: string | null;
    created_at: string;
  }[];
  return rows.map((r) => ({
    id: r.id,
    to: r.to_address,
    subject: r.subject,
    text: r.body,
    link: r.link,
    createdAt: r.created_at,
  }));
}
