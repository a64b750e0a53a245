/** Each user's last searches from the web app: newest first, one row per distinct request, KEEP_RECENT listed. */
import type { SimilarRequest } from '@resemble/contracts';
import { sql } from 'kysely';
import { prepared, preparedByCount } from '../db/prepared-query.js';
import { turnBatch } from '../db/turn-batch.js';
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

/**
 * One user's row of the upsert: its seq is the user's highest + `offset`, so rows of one user in one
 * statement (offset 1, 2, …) stay in order. The same request again moves its row to the top.
 */
const recentRow = (db: Executor, userId: string, key: string, nowIso: string, offset: number) => ({
  user_id: userId,
  key,
  request: key,
  seq: db
    .selectFrom('recent_searches')
    .select((e) => sql<number>`coalesce(max(${e.ref('seq')}), 0) + ${offset}`.as('seq'))
    .where('user_id', '=', userId),
  created_at: nowIso,
});

const insertRecent = (db: Executor, rows: ReturnType<typeof recentRow>[]) =>
  db
    .insertInto('recent_searches')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['user_id', 'key']).doUpdateSet((e) => ({
        seq: e.ref('excluded.seq'),
        created_at: e.ref('excluded.created_at'),
      })),
    );

/** The upsert of one row, compiled once (db/prepared-query.ts): it runs on every search from the web app. */
const upsertRecentQuery = prepared(3, (db, userId: string, key: string, nowIso: string) =>
  insertRecent(db, [recentRow(db, userId, key, nowIso, 1)]).returning('seq'),
);

/** The upsert for n rows at once; one compiled text per n (db/prepared-query.ts). */
const upsertManyQuery = preparedByCount(
  (n) => 4 * n,
  (n) =>
    (db, ...args: (string | number)[]) =>
      insertRecent(
        db,
        Array.from({ length: n }, (_, i) => {
          const [userId, key, nowIso, k] = args.slice(4 * i, 4 * i + 4) as [string, string, string, number];
          return recentRow(db, userId, key, nowIso, k);
        }),
      ).returning(['user_id', 'key', 'seq']),
);

interface RecentUpsert {
  userId: string;
  key: string;
  nowIso: string;
}

const rowId = (userId: string, key: string) => JSON.stringify([userId, key]);

/**
 * The upserts of one event-loop turn as one statement (db/turn-batch.ts): on PostgreSQL each was a
 * round trip of its own, and under load a replica finishes dozens of searches a turn. Rows keep the
 * single statement's rules: a user's rows in the batch take consecutive seqs after that user's last
 * (so seqs still grow by one a search), and the same search twice in a batch is one row (ON CONFLICT
 * may touch a row only once a statement), the later one's. If the statement fails, each upsert runs on
 * its own, so one bad row (a user deleted meanwhile) fails only its own search.
 */
const upsertRecentBatch = turnBatch<RecentUpsert, number>(async (db, items) => {
  const rows = new Map<string, RecentUpsert>();
  for (const u of items) {
    const id = rowId(u.userId, u.key);
    // Delete first so a repeat takes the later place in the list, and so the higher seq.
    rows.delete(id);
    rows.set(id, u);
  }
  const one = async (u: RecentUpsert) =>
    (await upsertRecentQuery(db, u.userId, u.key, u.nowIso)).rows[0]!.seq;
  if (rows.size === 1) {
    const seq = await one([...rows.values()][0]!);
    return items.map(() => seq);
  }
  // Per row: user, key, time, and the row's place among its user's rows in this batch (its seq offset).
  const args: (string | number)[] = [];
  const taken = new Map<string, number>();
  for (const u of rows.values()) {
    const k = (taken.get(u.userId) ?? 0) + 1;
    taken.set(u.userId, k);
    args.push(u.userId, u.key, u.nowIso, k);
  }
  try {
    const out = (await upsertManyQuery(rows.size)(db, ...args)).rows;
    const seqOf = new Map(out.map((r) => [rowId(r.user_id, r.key), r.seq]));
    return items.map(
      (u) => seqOf.get(rowId(u.userId, u.key)) ?? new Error('recent search upsert returned no row'),
    );
  } catch (err) {
    // Only what the database refused (pg's errors carry their SQLSTATE as `code`); a bug in building
    // the statement fails the batch rather than hiding behind the one-by-one path.
    if (typeof (err as { code?: unknown }).code !== 'string') throw err;
    return Promise.all(items.map((u) => one(u).catch((e: unknown) => e as Error)));
  }
});

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
  const batch = upsertRecentBatch(db);
  const seq = batch
    ? await batch.load({ userId, key, nowIso })
    : (await upsertRecentQuery(db, userId, key, nowIso)).rows[0]!.seq;
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
