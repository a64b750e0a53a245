/**
 * idempotency_keys: the answers given to create requests that carried an Idempotency-Key, per user. The
 * primary key (user_id, key) is what makes a key create once: a second INSERT with the same key waits
 * for the first transaction on PostgreSQL (SQLite runs one transaction at a time), then does nothing.
 */
import type { Selectable } from 'kysely';
import type { Executor, IdempotencyKeysTable } from '../db/schema.js';

export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;

/** Records the key with its answer; false when the user already holds this key (nothing written). */
export async function claimKey(db: Executor, row: IdempotencyKeyRow): Promise<boolean> {
  const r = await db
    .insertInto('idempotency_keys')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export function keyOfUser(db: Executor, userId: string, key: string): Promise<IdempotencyKeyRow | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .executeTakeFirst();
}

/** Drops a user's keys recorded before `before` (epoch ms): past the retention a key may be used afresh. */
export async function pruneKeysOfUser(db: Executor, userId: string, before: number): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', userId)
    .where('created_at', '<', before)
    .execute();
}
