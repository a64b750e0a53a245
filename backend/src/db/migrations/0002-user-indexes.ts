/**
 * Per-user listings (payments, API tokens, patterns, checkout sessions) read by user_id: on PostgreSQL
 * a foreign key gets no index of its own, so without these each listing is a scan of the whole table.
 */
import type { Kysely } from 'kysely';

const INDEXES: [name: string, table: string, columns: string[]][] = [
  ['payments_user', 'payments', ['user_id', 'created_at']],
  ['api_tokens_user', 'api_tokens', ['user_id']],
  ['patterns_user', 'patterns', ['user_id']],
  ['checkout_sessions_user', 'checkout_sessions', ['user_id']],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, table, columns] of INDEXES) {
    await db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute();
  }
}
