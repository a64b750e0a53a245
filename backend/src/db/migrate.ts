/**
 * Runs every pending migration (./migrations) with Kysely's Migrator, the same list on both engines.
 *
 * Replicas take turns: on PostgreSQL the Migrator holds pg_advisory_lock on one connection for the whole
 * run and reads what has been applied only once it holds it, so a replica that starts while another
 * migrates waits, then finds nothing left to do. On SQLite one file has one writer at a time anyway.
 *
 * A SQLite file from before Kysely kept the list has PRAGMA user_version N instead: the first N names of
 * BEFORE_KYSELY are recorded as applied (in the one transaction that creates Kysely's table), so such a
 * file upgrades in place with its data. user_version is kept equal to the number of applied migrations,
 * so an older backend (which checks it) refuses a newer file rather than misreading it.
 */
import { Migrator, type MigrationResultSet } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { AppDatabase } from './database.js';
import { BEFORE_KYSELY, MIGRATIONS } from './migrations/index.js';

export const MIGRATION_TABLE = 'kysely_migration';
export const MIGRATION_LOCK_TABLE = 'kysely_migration_lock';

export class MigrationError extends Error {}

function adoptUserVersion(sqlite: BetterSqlite3.Database): void {
  const version = sqlite.pragma('user_version', { simple: true }) as number;
  const hasTable = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(MIGRATION_TABLE);
  if (version === 0 || hasTable) return;
  if (version > BEFORE_KYSELY.length) {
    throw new MigrationError(
      `database schema version ${version} is newer than this backend knows (${BEFORE_KYSELY.length})`,
    );
  }
  sqlite.transaction(() => {
    sqlite.exec(
      `CREATE TABLE ${MIGRATION_TABLE} (name varchar(255) NOT NULL PRIMARY KEY, timestamp varchar(255) NOT NULL)`,
    );
    const insert = sqlite.prepare(`INSERT INTO ${MIGRATION_TABLE} (name, timestamp) VALUES (?, ?)`);
    for (const name of BEFORE_KYSELY.slice(0, version)) insert.run(name, new Date().toISOString());
  })();
}

/** Applies what is pending; returns the names it applied (empty when the schema was current). */
export async function migrateToLatest(db: AppDatabase): Promise<string[]> {
  if (db.sqlite) adoptUserVersion(db.sqlite);
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const why = error instanceof Error ? error.message : String(error);
    throw new MigrationError(failed ? `migration ${failed} failed: ${why}` : `migrations not run: ${why}`);
  }
  if (db.sqlite) {
    const applied = db.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${MIGRATION_TABLE}`).get() as { n: number };
    db.sqlite.pragma(`user_version = ${applied.n}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
