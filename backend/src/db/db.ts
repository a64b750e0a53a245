import type BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

export type Db = BetterSqlite3.Database;

/**
 * A migrated SQLite file as a bare better-sqlite3 handle, for what only SQLite has (the WAL checkpointer
 * and its test). Everything else takes an AppDatabase (database.ts) and works on both engines.
 */
export async function openDb(file: string): Promise<Db> {
  const database = openDatabase({ engine: 'sqlite', file });
  try {
    await migrateToLatest(database);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database.sqlite!;
}
