/**
 * Issue 18: a receipt (領収書, or 適格請求書 when an issuer is configured) for each successful payment, and
 * the name a user wants on them (宛名). The issuer's name and registration number are copied into each
 * receipt when it is issued: a receipt already handed out must not change when the configuration does.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('receipts')
    .addColumn('payment_id', 'text', (c) => c.primaryKey().references('payments.id').onDelete('cascade'))
    // Kept after an account is deleted: receipts are bookkeeping records.
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('amount_jpy', 'integer', (c) => c.notNull())
    .addColumn('tax_rate_percent', 'integer', (c) => c.notNull())
    .addColumn('tax_jpy', 'integer', (c) => c.notNull())
    .addColumn('issuer_name', 'text')
    .addColumn('registration_number', 'text')
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('receipts_user').on('receipts').column('user_id').execute();
  await s.alterTable('users').addColumn('receipt_name', 'text').execute();
}
