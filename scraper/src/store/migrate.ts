/**
 * In-place migration of an older catalog, crash-safe like an entity publish: the catalog is copied to a
 * temp file beside it, the copy is migrated in one transaction, fsynced and renamed over the original,
 * and the directory is fsynced. A writer killed at any point leaves either the old catalog (migrated again
 * on the next open; its temp file is removed) or the new one, never a half-migrated file. Readers that
 * have the old file open keep reading it until they reopen.
 */
import { copyFileSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { CATALOG_DDL, STORE_SCHEMA_VERSION, minimalCompany } from '@resemble/contracts';
import { bumpDataVersion, insertCompanyStatement } from './catalog.js';
import { fsyncPath, tempPathFor, TEMP_FILE_PATTERN } from './entity-file.js';
import { StoreError } from './paths.js';
import { isPidAlive } from './writer-lock.js';

/** Test hook: called at the named step (the crash tests kill the process there). */
export type MigrationStep = 'after-copy' | 'after-migrate' | 'after-rename';

export interface MigrationResult {
  from: number;
  to: number;
}

function schemaVersionOf(path: string): number | null {
  // A normal (writable) open first: SQLite rolls back the hot journal of a writer that crashed, so the
  // file copied below is the last committed state.
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 10000');
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").get();
    if (!hasMeta) return null;
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      { value: string } | undefined;
    return row ? Number(row.value) : null;
  } finally {
    db.close();
  }
}

/** Removes catalog temp files left by writers that died mid-migration. */
function removeDeadTemps(path: string): void {
  const name = basename(path);
  for (const f of readdirSync(dirname(path))) {
    const m = TEMP_FILE_PATTERN.exec(f);
    if (m && m[1] === name && !isPidAlive(Number(m[2]))) rmSync(join(dirname(path), f), { force: true });
  }
}

/** Version 1 → 2: the company master, filled with a minimal record per priced entity. */
function migrate1to2(db: Database.Database, now: string): void {
  db.exec(CATALOG_DDL);
  const insert = insertCompanyStatement(db, 'OR IGNORE');
  const rows = db.prepare('SELECT code, name, market FROM entities ORDER BY code').all() as {
    code: string;
    name: string;
    market: string;
  }[];
  for (const r of rows) insert.run(minimalCompany(r, 'migration', now));
}

/**
 * Migrates the catalog at `path` to STORE_SCHEMA_VERSION when it is older; returns what was done, or
 * null when nothing had to be (no catalog yet, or already current). Must be called with the writer lock.
 */
export function migrateCatalogFile(
  path: string,
  opts: { now?: Date; onStep?: (step: MigrationStep) => void } = {},
): MigrationResult | null {
  if (!existsSync(path)) return null;
  removeDeadTemps(path);
  const from = schemaVersionOf(path);
  if (from === null || from === STORE_SCHEMA_VERSION) return null;
  if (!Number.isInteger(from) || from < 1 || from > STORE_SCHEMA_VERSION) {
    throw new StoreError(
      `${path}: catalog schema_version ${from} is not one this writer knows (1..${STORE_SCHEMA_VERSION}); a newer store needs a newer scraper`,
      'schema_version',
    );
  }
  const now = (opts.now ?? new Date()).toISOString();
  const tmp = tempPathFor(path);
  try {
    copyFileSync(path, tmp);
    opts.onStep?.('after-copy');
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = DELETE');
      db.transaction(() => {
        // One step per version; only 1 → 2 exists so far.
        if (from < 2) migrate1to2(db, now);
        db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(
          String(STORE_SCHEMA_VERSION),
        );
        bumpDataVersion(db, now);
      })();
    } finally {
      db.close();
    }
    fsyncPath(tmp);
    opts.onStep?.('after-migrate');
    renameSync(tmp, path);
    fsyncPath(dirname(path));
    opts.onStep?.('after-rename');
  } finally {
    rmSync(tmp, { force: true });
  }
  return { from, to: STORE_SCHEMA_VERSION };
}
