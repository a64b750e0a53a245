/**
 * Brings the app database to the current schema and exits:
 *   npm run db:migrate -w backend            (DATABASE_URL's PostgreSQL, else APP_DB's SQLite file)
 * backend also migrates on start; this runs it on its own, e.g. as a deploy step before replicas roll.
 * Several at once are safe: on PostgreSQL they take turns on an advisory lock.
 */
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

async function main(): Promise<number> {
  const config = loadConfig();
  const target = config.storage.database;
  const db = openDatabase(target, 1);
  const where = target.engine === 'sqlite' ? target.file : new URL(target.url).host;
  try {
    const applied = await migrateToLatest(db);
    console.log(
      applied.length
        ? `db:migrate: ${target.engine} ${where}: applied ${applied.join(', ')}`
        : `db:migrate: ${target.engine} ${where}: already current`,
    );
    return 0;
  } catch (err) {
    console.error(`db:migrate: ${target.engine} ${where}: ${(err as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}

process.exitCode = await main();
