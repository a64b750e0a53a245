/** usage: searches per user per UTC day. */
import { prepared } from '../db/prepared-query.js';
import type { Executor } from '../db/schema.js';

export async function searchesOn(db: Executor, userId: string, day: string): Promise<number> {
  const r = await db
    .selectFrom('usage')
    .select('searches')
    .where('user_id', '=', userId)
    .where('day', '=', day)
    .executeTakeFirst();
  return r?.searches ?? 0;
}

const countSearchQuery = prepared(2, (db, userId: string, day: string) =>
  db
    .insertInto('usage')
    .values({ user_id: userId, day, searches: 1 })
    .onConflict((oc) =>
      oc.columns(['user_id', 'day']).doUpdateSet((eb) => ({ searches: eb('usage.searches', '+', 1) })),
    )
    .returning('searches'),
);

/** Counts one search and returns the day's new count, in one statement (compiled once: prepared-query.ts). */
export async function countSearch(db: Executor, userId: string, day: string): Promise<number> {
  return (await countSearchQuery(db, userId, day)).rows[0]!.searches;
}

const countSearchWithinQuery = prepared(3, (db, userId: string, day: string, quota: number) =>
  db
    .insertInto('usage')
    .values({ user_id: userId, day, searches: 1 })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'day'])
        .doUpdateSet((eb) => ({ searches: eb('usage.searches', '+', 1) }))
        .where('usage.searches', '<', quota),
    )
    .returning('searches'),
);

/**
 * Counts one search unless the day's count has reached `quota`, in one statement: the new count, or
 * undefined when the quota was already used up (nothing written). The conflict branch re-checks the
 * row it locked, so concurrent searches never pass the quota (PostgreSQL re-evaluates the WHERE on the
 * row's latest version; SQLite runs one writer at a time). `quota` must be at least 1.
 */
export async function countSearchWithin(
  db: Executor,
  userId: string,
  day: string,
  quota: number,
): Promise<number | undefined> {
  return (await countSearchWithinQuery(db, userId, day, quota)).rows[0]?.searches;
}

/** Gives one search back, never below zero. */
export async function uncountSearch(db: Executor, userId: string, day: string): Promise<void> {
  await db
    .updateTable('usage')
    .set((eb) => ({
      searches: eb
        .case()
        .when('searches', '>', 0)
        .then(eb('searches', '-', 1))
        .else(0)
        .end(),
    }))
    .where('user_id', '=', userId)
    .where('day', '=', day)
    .execute();
}
