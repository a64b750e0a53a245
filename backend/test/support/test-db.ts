/**
 * The app database on each engine for tests that run on both: `ENGINES` to describe.each over, and
 * `testDatabases()` that starts one ephemeral PostgreSQL for the file (postgres-server.ts) and hands out
 * a fresh, empty database per call: a temp SQLite file, or a new PostgreSQL database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type AppDatabase, type DbTarget } from '../../src/db/database.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';

export type Engine = DbTarget['engine'];
export const ENGINES: Engine[] = ['sqlite', 'postgres'];

export interface TestDatabases {
  /** A new, empty database's target on this engine. */
  target(engine: Engine): Promise<DbTarget>;
  /** The same, opened (not migrated); closed by closeAll(). */
  open(engine: Engine): Promise<AppDatabase>;
  server(): Promise<PostgresServer>;
  closeAll(): Promise<void>;
}

export function testDatabases(): TestDatabases {
  const dir = mkdtempSync(join(tmpdir(), 'resemble-db-'));
  let pg: Promise<PostgresServer> | null = null;
  const opened: AppDatabase[] = [];
  let n = 0;
  const server = () => (pg ??= startPostgres());
  const target = async (engine: Engine): Promise<DbTarget> =>
    engine === 'sqlite'
      ? { engine, file: join(dir, `app-${++n}.sqlite`) }
      : { engine, url: await (await server()).createDatabase() };
  return {
    target,
    server,
    async open(engine) {
      const db = openDatabase(await target(engine));
      opened.push(db);
      return db;
    },
    async closeAll() {
      for (const db of opened.splice(0)) await db.close();
      if (pg) await (await pg).stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
