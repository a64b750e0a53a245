/** token_usage: searches answered per API token per UTC day (the quota itself is the account's, in usage). */
import type { Executor } from '../db/schema.js';

/** Counts one answered search for a token, in one statement. */
export async function countTokenSearch(db: Executor, tokenId: string, day: string): Promise<void> {
  await db
    .insertInto('token_usage')
    .values({ token_id: tokenId, day, searches: 1 })
    .onConflict((oc) =>
      oc.columns(['token_id', 'day']).doUpdateSet((eb) => ({ searches: eb('token_usage.searches', '+', 1) })),
    )
    .execute();
}

/** Each of a user's tokens' searches on `day` (tokens without any are absent). */
export async function tokenSearchesOn(
  db: Executor,
  userId: string,
  day: string,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('token_usage as u')
    .innerJoin('api_tokens as t', 't.id', 'u.token_id')
    .select(['u.token_id', 'u.searches'])
    .where('t.user_id', '=', userId)
    .where('u.day', '=', day)
    .execute();
  return new Map(rows.map((r) => [r.token_id, Number(r.searches)]));
}
