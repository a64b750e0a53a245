import { existsSync } from 'node:fs';
import type { CatalogEntry, PriceRow } from '@resemble/contracts';
import { listEntries, openCatalog, readDataVersion } from './catalog.js';
import { openEntityReadonly } from './entity-file.js';
import { catalogPath, entityPath, StoreError } from './paths.js';

/** Reads one entity file read-only; adjusted `prices` by default, `raw_prices` with raw: true. */
export function readEntity(
  dataDir: string,
  code: string,
  opts: { from?: string; to?: string; raw?: boolean } = {},
): PriceRow[] {
  const path = entityPath(dataDir, code);
  if (!existsSync(path)) throw new StoreError(`unknown entity ${code}`, 'unknown_entity');
  const db = openEntityReadonly(path);
  try {
    const table = opts.raw ? 'raw_prices' : 'prices';
    return db
      .prepare(
        `SELECT date, open, high, low, close, volume FROM ${table} WHERE date >= ? AND date <= ? ORDER BY date`,
      )
      .all(opts.from ?? '0000-00-00', opts.to ?? '9999-99-99') as PriceRow[];
  } finally {
    db.close();
  }
}

/** Catalog rows of a DATA_DIR, opened read-only; an absent catalog is an empty store. */
export function listCatalog(dataDir: string): CatalogEntry[] {
  if (!existsSync(catalogPath(dataDir))) return [];
  const db = openCatalog(catalogPath(dataDir), true);
  try {
    return listEntries(db);
  } finally {
    db.close();
  }
}

export function dataVersion(dataDir: string): string | null {
  if (!existsSync(catalogPath(dataDir))) return null;
  const db = openCatalog(catalogPath(dataDir), true);
  try {
    return readDataVersion(db);
  } finally {
    db.close();
  }
}
