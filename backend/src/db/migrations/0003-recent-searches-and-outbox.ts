/**
 * Issue 18: each user's recent searches (a link back to each) and the sandbox outbox (mail kept in the
 * database when there is no SMTP server). `seq` orders rows written within the same millisecond: neither
 * engine has a portable rowid, so the repositories number rows themselves.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('recent_searches')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('recent_searches_pk', ['user_id', 'key'])
    .execute();
  await s.createIndex('recent_searches_user').on('recent_searches').columns(['user_id', 'seq']).execute();
  await s
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('link', 'text')
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('mail_outbox_seq').on('mail_outbox').column('seq').execute();
}
