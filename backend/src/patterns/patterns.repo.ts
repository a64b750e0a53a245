/** SQL of the saved-pattern edits (issue 18): rename and alert distance. */
import type { Db } from '../db/db.js';

/**
 * Applies the given fields; a new threshold also clears the scanned mark, so the next scan judges the
 * pattern by it. Returns the updated row, or undefined when the user has no such pattern.
 */
export function updatePatternRow<T>(
  db: Db,
  userId: string,
  id: string,
  changes: { name?: string; threshold?: number },
): T | undefined {
  return db.transaction(() => {
    const r = db
      .prepare(
        `UPDATE patterns SET name = COALESCE(@name, name), threshold = COALESCE(@threshold, threshold),
           last_scanned_version = CASE WHEN @threshold IS NULL THEN last_scanned_version ELSE NULL END
         WHERE id = @id AND user_id = @userId`,
      )
      .run({ id, userId, name: changes.name ?? null, threshold: changes.threshold ?? null });
    if (r.changes === 0) return undefined;
    return db.prepare('SELECT * FROM patterns WHERE id = ? AND user_id = ?').get(id, userId) as T;
  })();
}
