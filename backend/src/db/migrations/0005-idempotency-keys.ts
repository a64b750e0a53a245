/**
 * Issue 15: Idempotency-Key on create requests. One row per (user, key) holds what the first request
 * with that key was (its operation and a hash of its body) and the answer it got, written in the same
 * transaction as what it created: a retry after a lost answer (a replica that died, a 502) gets the
 * stored answer instead of a duplicate. The primary key is what makes two concurrent requests with one
 * key create once: the second INSERT waits for the first transaction, then finds its row.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['user_id', 'key'])
    .execute();
  // Expired keys are pruned by age.
  await db.schema
    .createIndex('idempotency_keys_created')
    .on('idempotency_keys')
    .column('created_at')
    .execute();
}
