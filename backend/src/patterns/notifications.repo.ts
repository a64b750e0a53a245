/** notifications: what a user is told in the app (pattern alerts, failed payments). */
import { randomUUID } from 'node:crypto';
import type { Executor } from '../db/schema.js';

export async function addNotification(
  db: Executor,
  n: { id?: string; userId: string; kind: string; payload: unknown },
  nowIso: string,
): Promise<string> {
  const id = n.id ?? randomUUID();
  await db
    .insertInto('notifications')
    .values({ id, user_id: n.userId, kind: n.kind, payload: JSON.stringify(n.payload), created_at: nowIso })
    .execute();
  return id;
}

export function notificationsOfUser(db: Executor, userId: string, limit = 100) {
  return db
    .selectFrom('notifications')
    .select(['id', 'kind', 'payload', 'created_at', 'read_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

export async function countUnread(db: Executor, userId: string): Promise<number> {
  const r = await db
    .selectFrom('notifications')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Keeps the first read time; false when the user has no such notification. */
export async function markNotificationRead(
  db: Executor,
  userId: string,
  id: string,
  nowIso: string,
): Promise<boolean> {
  const r = await db
    .updateTable('notifications')
    .set((eb) => ({ read_at: eb.fn.coalesce('read_at', eb.val(nowIso)) }))
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
