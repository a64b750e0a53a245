/**
 * The app database on either engine, behind one Kysely<Database>: SQLite (better-sqlite3, one file, the
 * embedded default) or PostgreSQL (pg, when DATABASE_URL names one, so several replicas share it).
 * Migrations run here, before anything reads a table; see migrate.ts for how replicas take turns.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type DialectAdapter,
  type SqliteDatabase,
} from 'kysely';
import type { Database } from './schema.js';

import type { DbTarget } from './db-target.js';

export type { DbTarget } from './db-target.js';

export interface AppDatabase {
  engine: DbTarget['engine'];
  kysely: Kysely<Database>;
  /** The better-sqlite3 handle on SQLite (for the WAL checkpointer and migrate.ts's PRAGMAs); null on PostgreSQL. */
  sqlite: BetterSqlite3.Database | null;
  close(): Promise<void>;
}

/**
 * SQLite runs DDL inside transactions perfectly well; Kysely's adapter says otherwise only to stay safe
 * for other drivers. Saying so here makes each migration run all-or-nothing, as PRAGMA user_version did.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class AppSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

export function openSqlite(file: string): BetterSqlite3.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  // In WAL mode NORMAL cannot corrupt the database; it only skips an fsync per commit (every search
  // writes a usage row), at the cost of the last commits on power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Distinct SQL texts kept compiled; ours are a few dozen, the bound only guards against unbounded IN lists. */
const STATEMENT_CACHE = 500;

/**
 * Kysely's SQLite driver calls prepare() for every query it runs, and better-sqlite3 compiles the SQL
 * each time: in the bench profile (issue 15) that compile was the largest single cost of a search's
 * plan, quota and recent-search queries. Our queries are a small set of texts with bound parameters, so
 * each compiled statement is kept and reused (least recently used dropped past the bound). Reuse is
 * safe: the driver holds its one connection's mutex while a statement runs or streams, and SQLite
 * recompiles a kept statement by itself after a schema change.
 */
export function withStatementCache(db: BetterSqlite3.Database, max = STATEMENT_CACHE): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => db.close(),
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = db.prepare(sqlText);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

const INT8_OID = 20;

/**
 * pg hands BIGINT (our epoch milliseconds, and every COUNT(*)) back as a string, because a 64-bit
 * integer can exceed 2^53. Ours never do (milliseconds until the year 287,396), so they become numbers,
 * as better-sqlite3 gives them.
 */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** pg's own default; DATABASE_POOL_MAX overrides it (see config.ts). */
export const DEFAULT_POOL_MAX = 10;

/**
 * Opens (does not migrate: migrate.ts) the app database. `poolSize` (one-shot CLIs pass 1) wins over the
 * target's `poolMax`. `onPoolError` hears errors of idle PostgreSQL connections (a server restart, a
 * dropped link); without a listener pg's pool would crash the process.
 */
export function openDatabase(
  target: DbTarget,
  poolSize?: number,
  onPoolError: (err: Error) => void = () => {},
): AppDatabase {
  if (target.engine === 'sqlite') {
    const sqlite = openSqlite(target.file);
    // Kysely owns the handle from here: destroy() closes it.
    const kysely = new Kysely<Database>({
      dialect: new AppSqliteDialect({ database: withStatementCache(sqlite) }),
    });
    return { engine: 'sqlite', kysely, sqlite, close: () => kysely.destroy() };
  }
  const max = poolSize ?? target.poolMax ?? DEFAULT_POOL_MAX;
  const pool = new pg.Pool({ connectionString: target.url, max, types: pgTypes });
  // The pool drops the broken connection itself and opens a new one for the next query.
  pool.on('error', onPoolError);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { engine: 'postgres', kysely, sqlite: null, close: () => kysely.destroy() };
}
