/** Each user's last searches from the web app: newest first, one row per distinct request, at most KEEP. */
import type { SimilarRequest } from '@resemble/contracts';
import type { Db } from '../db/db.js';

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

export function recordRecentSearch(db: Db, userId: string, req: SimilarRequest, nowIso: string): void {
  const key = searchKey(req);
  db.transaction(() => {
    // Delete and insert (not upsert): the new rowid orders searches made within the same millisecond.
    db.prepare('DELETE FROM recent_searches WHERE user_id = ? AND key = ?').run(userId, key);
    db.prepare('INSERT INTO recent_searches (user_id, key, request, created_at) VALUES (?, ?, ?, ?)').run(
      userId,
      key,
      key,
      nowIso,
    );
    db.prepare(
      `DELETE FROM recent_searches WHERE user_id = ? AND key NOT IN
         (SELECT key FROM recent_searches WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)`,
    ).run(userId, userId, KEEP_RECENT);
  })();
}

export function listRecentSearches(db: Db, userId: string): { request: SimilarRequest; createdAt: string }[] {
  const rows = db
    .prepare(
      'SELECT request, created_at FROM recent_searches WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
    )
    .all(userId, KEEP_RECENT) as { request: string; created_at: string }[];
  return rows.map((r) => ({ request: JSON.parse(r.request) as SimilarRequest, createdAt: r.created_at }));
}
