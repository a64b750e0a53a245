/** The sandbox outbox: mail kept in the app database when there is no mail server (MAIL_SANDBOX). */
import { randomUUID } from 'node:crypto';
import type { Executor } from '../db/schema.js';
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

export async function storeOutboxMail(db: Executor, mail: Mail, nowIso: string): Promise<void> {
  const write = async (trx: Executor) => {
    const last = await trx
      .selectFrom('mail_outbox')
      .select((e) => e.fn.max('seq').as('seq'))
      .executeTakeFirst();
    const seq = Number(last?.seq ?? 0) + 1;
    await trx
      .insertInto('mail_outbox')
      .values({
        id: randomUUID(),
        to_address: mail.to,
        subject: mail.subject,
        body: mail.text,
        link: mail.link ?? null,
        seq,
        created_at: nowIso,
      })
      .execute();
    await trx
      .deleteFrom('mail_outbox')
      .where('seq', '<=', seq - KEEP)
      .execute();
  };
  // Insert and trim together: the outbox never holds a half-kept mail or more than KEEP.
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
}

export async function listOutboxMail(db: Executor, limit: number): Promise<OutboxMail[]> {
  const rows = await db.selectFrom('mail_outbox').selectAll().orderBy('seq', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    to: r.to_address,
    subject: r.subject,
    text: r.body,
    link: r.link,
    createdAt: r.created_at,
  }));
}
