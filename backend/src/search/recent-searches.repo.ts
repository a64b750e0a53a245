/** Each user's last searches from the web app: newest first, one row per distinct request, KEEP_RECENT listed. */
import type { SimilarRequest } from '@resemble/contracts';
import { sql } from 'kysely';
import { prepared } from '../db/prepared-query.js';
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

/** The upsert below, compiled once (db/prepared-query.ts): it runs on every search from the web app. */
const upsertRecentQuery = prepared(3, (db, userId: string, key: string, nowIso: string) =>
  db
    .insertInto('recent_searches')
    .values({
      user_id: userId,
      key,
      request: key,
      seq: db
        .selectFrom('recent_searches')
        .select((e) => sql<number>`coalesce(max(${e.ref('seq')}), 0) + 1`.as('seq'))
        .where('user_id', '=', userId),
      created_at: nowIso,
    })
    .onConflict((oc) =>
      oc.columns(['user_id', 'key']).doUpdateSet((e) => ({
        seq: e.ref('excluded.seq'),
        created_at: e.ref('excluded.created_at'),
      })),
    )
    .returning('seq'),
);

/**
 * One statement on most searches, no transaction: every search from the web app runs this, and on
 * PostgreSQL each statement is a round trip (the version with a transaction, a read of the last seq and
 * a trim every time took six). The upsert takes its seq from the user's rows in the same statement, so
 * a repeat moves to the top and the same search sent twice at once cannot collide on the key (two
 * searches at once may share a seq: they were made at the same moment). Seqs grow by one a search, so
 * trimming on every KEEP_RECENT-th keeps fewer than 2 x KEEP_RECENT rows a user; the list reads the
 * KEEP_RECENT newest either way.
 */
export async function recordRecentSearch(
  db: Executor,
  userId: string,
  req: SimilarRequest,
  nowIso: string,
): Promise<void> {
  const key = searchKey(req);
  const { seq } = (await upsertRecentQuery(db, userId, key, nowIso)).rows[0]!;
  if (seq % KEEP_RECENT !== 0) return;
  // Seqs may tie, so the bound is the KEEP_RECENT-th row's seq, not a count.
  const oldestKept = db
    .selectFrom('recent_searches')
    .select('seq')
    .where('user_id', '=', userId)
    .orderBy('seq', 'desc')
    .offset(KEEP_RECENT - 1)
    .limit(1);
  await db
    .deleteFrom('recent_searches')
    .where('user_id', '=', userId)
    .where('seq', '<', oldestKept)
    .execute();
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
