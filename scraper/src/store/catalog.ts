import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_DDL,
  CATALOG_PUBLISH_LOG_DDL,
  STORE_SCHEMA_VERSION,
  type CatalogEntry,
} from '@resemble/contracts';

/** Data version of an empty store; any published entity changes it. */
export const EMPTY_DATA_VERSION = createHash('sha256').update('').digest('hex');

export function openCatalog(path: string, readonly = false): Database.Database {
  if (readonly) return new Database(path, { readonly: true, fileMustExist: true });
  const db = new Database(path);
  // DELETE (not WAL) so readers on a read-only mount can open it; FULL because the catalog is the
  // durable record of which entity file is current.
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  db.exec(CATALOG_DDL);
  db.exec(CATALOG_PUBLISH_LOG_DDL);
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(
    String(STORE_SCHEMA_VERSION),
  );
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(
    CATALOG_DATA_VERSION_KEY,
    EMPTY_DATA_VERSION,
  );
  return db;
}

export function listEntries(db: Database.Database): CatalogEntry[] {
  return db
    .prepare(
      'SELECT code, name, market, currency, first_date, last_date, row_count, updated_at, sha256 FROM entities ORDER BY code',
    )
    .all() as CatalogEntry[];
}

export function getEntry(db: Database.Database, code: string): CatalogEntry | undefined {
  return db
    .prepare(
      'SELECT code, name, market, currency, first_date, last_date, row_count, updated_at, sha256 FROM entities WHERE code = ?',
    )
    .get(code) as CatalogEntry | undefined;
}

export function readDataVersion(db: Database.Database): string {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(CATALOG_DATA_VERSION_KEY) as
    { value: string } | undefined;
  return row?.value ?? EMPTY_DATA_VERSION;
}

/**
 * The data version is a hash over every (code, file sha256) pair, so it changes whenever any entity
 * file changes and is the same for the same data wherever it was built (reproducible data images).
 */
function computeDataVersion(db: Database.Database): string {
  const h = createHash('sha256');
  for (const r of db.prepare('SELECT code, sha256 FROM entities ORDER BY code').iterate() as Iterable<{
    code: string;
    sha256: string;
  }>) {
    h.update(`${r.code}\t${r.sha256}\n`);
  }
  return h.digest('hex');
}

/** Must run inside a transaction that changed `entities`. */
function bumpDataVersion(db: Database.Database, now: string): void {
  const upsert = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  upsert.run(CATALOG_DATA_VERSION_KEY, computeDataVersion(db));
  upsert.run('data_updated_at', now);
}

/** Records intents to publish before the renames, so a crash right after them is repaired on next open. */
export function logPublishIntents(
  db: Database.Database,
  items: { code: string; sha256: string }[],
  now: string,
): void {
  const insert = db.prepare(
    'INSERT INTO publish_log (code, sha256, started_at) VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET sha256 = excluded.sha256, started_at = excluded.started_at',
  );
  db.transaction(() => {
    for (const it of items) insert.run(it.code, it.sha256, now);
  })();
}

export function pendingPublishes(db: Database.Database): { code: string; sha256: string }[] {
  return db.prepare('SELECT code, sha256 FROM publish_log ORDER BY code').all() as {
    code: string;
    sha256: string;
  }[];
}

/**
 * Writes (or removes, with entry = null) catalog rows, clears their intents and bumps the data
 * version, all in one transaction.
 */
export function commitEntries(
  db: Database.Database,
  items: { code: string; entry: CatalogEntry | null }[],
  now: string,
): void {
  const upsert = db.prepare(
    `INSERT INTO entities (code, name, market, currency, first_date, last_date, row_count, updated_at, sha256)
     VALUES (@code, @name, @market, @currency, @first_date, @last_date, @row_count, @updated_at, @sha256)
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, market = excluded.market, currency = excluded.currency,
       first_date = excluded.first_date, last_date = excluded.last_date, row_count = excluded.row_count,
       updated_at = excluded.updated_at, sha256 = excluded.sha256`,
  );
  const remove = db.prepare('DELETE FROM entities WHERE code = ?');
  const clear = db.prepare('DELETE FROM publish_log WHERE code = ?');
  db.transaction(() => {
    for (const { code, entry } of items) {
      if (entry) upsert.run(entry);
      else remove.run(code);
      clear.run(code);
    }
    bumpDataVersion(db, now);
  })();
}

export function commitEntry(
  db: Database.Database,
  code: string,
  entry: CatalogEntry | null,
  now: string,
): void {
  commitEntries(db, [{ code, entry }], now);
}

export function clearIntent(db: Database.Database, code: string): void {
  db.prepare('DELETE FROM publish_log WHERE code = ?').run(code);
}
