/** Each user's last searches from the web app: newest first, one row per distinct request, at most KEEP. */
import type { SimilarRequest } from '@resemble/contracts';
import type { Executor } from '../db/schema.js';

export const KEEP_RECENT = 10;

/** The same search typed twice must make one entry: keys sorted at every level, so input order is moot. */
export function searchKey(req: SimilarRequest): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
              .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sorted(req));
}

export async function recordRecentSearch(
  db: Executor,
  userId: string,
  req: SimilarRequest,
  nowIso: string,
): Promise<void> {
  const key = searchKey(req);
  const write = async (trx: Executor) => {
    const last = await trx
      .selectFrom('recent_searches')
      .select((e) => e.fn.max('seq').as('seq'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const seq = Number(last?.seq ?? 0) + 1;
    // An upsert, not delete-and-insert: the same search sent twice at once (PostgreSQL runs the two
    // transactions side by side) must not collide on the key. The new seq moves a repeat to the top.
    await trx
      .insertInto('recent_searches')
      .values({ user_id: userId, key, request: key, seq, created_at: nowIso })
      .onConflict((oc) => oc.columns(['user_id', 'key']).doUpdateSet({ seq, created_at: nowIso }))
      .execute();
    // Keep the KEEP_RECENT newest: anything older than the KEEP_RECENT-th goes (seqs have gaps, so count rows).
    const oldestKept = await trx
      .selectFrom('recent_searches')
      .select('seq')
      .where('user_id', '=', userId)
      .orderBy('seq', 'desc')
      .offset(KEEP_RECENT - 1)
      .limit(1)
      .executeTakeFirst();
    if (oldestKept) {
      await trx
        .deleteFrom('recent_searches')
        .where('user_id', '=', userId)
        .where('seq', '<', oldestKept.seq)
        .execute();
    }
  };
  if (db.isTransaction) await write(db);
  else await db.transaction().execute(write);
}

export async function listRecentSearches(
  db: Executor,
  userId: string,
): Promise<{ request: SimilarRequest; createdAt: string }[]> {
  const rows = await db
    .selectFrom('recent_searches')
    .select(['request', 'created_at'])
    .where('user_id', '=', userId)
    .orderBy('seq', 'desc')
    .limit(KEEP_RECENT)
    .execute();
  return rows.map((r) => ({ request: JSON.parse(r.request) as SimilarRequest, createdAt: r.created_at }));
}
