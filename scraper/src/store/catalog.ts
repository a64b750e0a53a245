import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_DDL,
  CATALOG_PUBLISH_LOG_DDL,
  COMPANY_COLUMNS,
  COMPANY_CONTENT_COLUMNS,
  STORE_SCHEMA_VERSION,
  minimalCompany,
  type CatalogEntry,
  type CompanyRow,
} from '@resemble/contracts';
import { migrateCatalogFile } from './migrate.js';

/** Data version of an empty store; any published entity changes it. */
export const EMPTY_DATA_VERSION = createHash('sha256').update('').digest('hex');

export function openCatalog(path: string, readonly = false): Database.Database {
  if (readonly) return new Database(path, { readonly: true, fileMustExist: true });
  // An older catalog is migrated on a copy that replaces it in one rename (migrate.ts).
  migrateCatalogFile(path);
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
export function computeDataVersion(db: Database.Database): string {
  const h = createHash('sha256');
  for (const r of db.prepare('SELECT code, sha256 FROM entities ORDER BY code').iterate() as Iterable<{
    code: string;
    sha256: string;
  }>) {
    h.update(`${r.code}\t${r.sha256}\n`);
  }
  const master = companiesDigest(db);
  if (master) h.update(`companies\t${master}\n`);
  return h.digest('hex');
}

/**
 * sha256 over the content columns of every master row (JSON array per row, by code), or null when the
 * master is empty. source and updated_at are left out, so the same listing imported again is the same.
 */
export function companiesDigest(db: Database.Database): string | null {
  const h = createHash('sha256');
  let n = 0;
  const select = db
    .prepare(`SELECT ${COMPANY_CONTENT_COLUMNS.join(', ')} FROM companies ORDER BY code`)
    .raw();
  for (const r of select.iterate() as Iterable<unknown[]>) {
    h.update(`${JSON.stringify(r)}\n`);
    n++;
  }
  return n === 0 ? null : h.digest('hex');
}

/** Must run inside a transaction that changed `entities` or `companies`. */
export function bumpDataVersion(db: Database.Database, now: string): void {
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
  // Every priced entity has a master record; a new code gets a minimal one (a listing import fills it).
  const addMaster = insertCompanyStatement(db, 'OR IGNORE');
  db.transaction(() => {
    for (const { code, entry } of items) {
      if (entry) {
        upsert.run(entry);
        addMaster.run(minimalCompany(entry, 'prices', now));
      } else remove.run(code);
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

export function insertCompanyStatement(
  db: Database.Database,
  conflict: 'OR IGNORE' | 'OR REPLACE',
): Database.Statement {
  return db.prepare(
    `INSERT ${conflict} INTO companies (${COMPANY_COLUMNS.join(', ')}) VALUES (${COMPANY_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
}

export function listCompanies(db: Database.Database): CompanyRow[] {
  return db
    .prepare(`SELECT ${COMPANY_COLUMNS.join(', ')} FROM companies ORDER BY code`)
    .all() as CompanyRow[];
}

export function getCompany(db: Database.Database, code: string): CompanyRow | undefined {
  return db.prepare(`SELECT ${COMPANY_COLUMNS.join(', ')} FROM companies WHERE code = ?`).get(code) as
    CompanyRow | undefined;
}
