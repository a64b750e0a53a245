/** patterns: a user's saved searches that the daily scan turns into alerts. */
import type { Selectable } from 'kysely';
import type { Executor, PatternsTable } from '../db/schema.js';

export type PatternRow = Selectable<PatternsTable>;

export async function countPatterns(db: Executor, userId: string): Promise<number> {
  const r = await db
    .selectFrom('patterns')
    .select((e) => e.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function insertPattern(db: Executor, row: PatternRow): Promise<void> {
  await db.insertInto('patterns').values(row).execute();
}

export function patternsOfUser(db: Executor, userId: string): Promise<PatternRow[]> {
  return db
    .selectFrom('patterns')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function deletePattern(db: Executor, userId: string, id: string): Promise<boolean> {
  const r = await db
    .deleteFrom('patterns')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export function patternsNotScannedAt(db: Executor, dataVersion: string): Promise<PatternRow[]> {
  return db
    .selectFrom('patterns')
    .selectAll()
    .where((eb) =>
      eb.or([eb('last_scanned_version', 'is', null), eb('last_scanned_version', '!=', dataVersion)]),
    )
    .execute();
}

export async function markScanned(db: Executor, id: string, dataVersion: string): Promise<void> {
  await db.updateTable('patterns').set({ last_scanned_version: dataVersion }).where('id', '=', id).execute();
}

/**
 * Renames a pattern and/or sets its alert distance; a new threshold also clears the scanned mark, so the
 * next scan judges the pattern by it. Returns the updated row, or undefined when the user has no such pattern.
 */
export async function updatePattern(
  db: Executor,
  userId: string,
  id: string,
  changes: { name?: string; threshold?: number },
): Promise<PatternRow | undefined> {
  const set: { name?: string; threshold?: number; last_scanned_version?: null } = {};
  if (changes.name !== undefined) set.name = changes.name;
  if (changes.threshold !== undefined) {
    set.threshold = changes.threshold;
    set.last_scanned_version = null;
  }
  if (Object.keys(set).length === 0) {
    return db
      .selectFrom('patterns')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }
  // One statement, so the change and the row read back cannot be split by another writer.
  return db
    .updateTable('patterns')
    .set(set)
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}
