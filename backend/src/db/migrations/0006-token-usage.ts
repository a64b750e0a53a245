/**
 * Issue 18: an API token reads its own quota. The quota stays the account's (`usage`); this table counts
 * each token's share of a day, so the account page can show which token used what.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('token_usage')
    .addColumn('token_id', 'text', (c) => c.notNull().references('api_tokens.id').onDelete('cascade'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('searches', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('token_usage_pk', ['token_id', 'day'])
    .execute();
}
