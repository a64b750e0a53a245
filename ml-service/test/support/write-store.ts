/**
 * Writes a store (catalog + one entity file per stock) with the contract DDL, for tests and the bench.
 * Only `prices` is filled (what ml-service reads); open/high/low are the close.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_DDL,
  CATALOG_FILE,
  ENTITIES_DIR,
  ENTITY_DDL,
  STORE_SCHEMA_VERSION,
  ENTITY_SCHEMA_VERSION,
  entityFileName,
} from '@resemble/contracts';

export interface FixtureEntity {
  code: string;
  name?: string;
  market?: string;
  currency?: string;
  dates: string[];
  closes: ArrayLike<number>;
}

export function writeEntity(dataDir: string, e: FixtureEntity): string {
  mkdirSync(join(dataDir, ENTITIES_DIR), { recursive: true });
  const path = join(dataDir, ENTITIES_DIR, entityFileName(e.code));
  const db = new Database(path);
  try {
    db.exec(ENTITY_DDL);
    const ins = db.prepare('INSERT OR REPLACE INTO prices VALUES (?, ?, ?, ?, ?, ?)');
    const meta = db.prepare('INSERT OR REPLACE INTO meta VALUES (?, ?)');
    db.transaction(() => {
      db.exec('DELETE FROM prices');
      for (let i = 0; i < e.dates.length; i++) {
        const c = e.closes[i]!;
        ins.run(e.dates[i]!, c, c, c, c, 1000);
      }
      meta.run('schema_version', String(ENTITY_SCHEMA_VERSION));
      meta.run('code', e.code);
      meta.run('name', e.name ?? e.code);
      meta.run('market', e.market ?? 'US');
      meta.run('currency', e.currency ?? 'USD');
      meta.run('updated_at', '2026-01-01T00:00:00Z');
    })();
  } finally {
    db.close();
  }
  return path;
}

/** Writes the catalog for the given entities (files must exist) with the data version. */
export function writeCatalog(dataDir: string, entities: FixtureEntity[], dataVersion: string): void {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, CATALOG_FILE));
  try {
    db.exec(CATALOG_DDL);
    const ins = db.prepare('INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      db.exec('DELETE FROM entities');
      for (const e of entities) {
        const sha = createHash('sha256')
          .update(readFileSync(join(dataDir, ENTITIES_DIR, entityFileName(e.code))))
          .digest('hex');
        ins.run(
          e.code,
          e.name ?? e.code,
          e.market ?? 'US',
          e.currency ?? 'USD',
          e.dates[0] ?? '1970-01-01',
          e.dates[e.dates.length - 1] ?? '1970-01-01',
          e.dates.length,
          '2026-01-01T00:00:00Z',
          sha,
        );
      }
      db.prepare('INSERT OR REPLACE INTO meta VALUES (?, ?)').run(
        'schema_version',
        String(STORE_SCHEMA_VERSION),
      );
      db.prepare('INSERT OR REPLACE INTO meta VALUES (?, ?)').run(CATALOG_DATA_VERSION_KEY, dataVersion);
    })();
  } finally {
    db.close();
  }
}

export function writeStore(dataDir: string, entities: FixtureEntity[], dataVersion = 'v1'): void {
  for (const e of entities) writeEntity(dataDir, e);
  writeCatalog(dataDir, entities, dataVersion);
}

export function entityFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, ENTITIES_DIR));
}

/** Weekdays from `start` (YYYY-MM-DD), n of them. */
export function businessDays(start: string, n: number): string[] {
  const out: string[] = [];
  const d = new Date(`${start}T00:00:00Z`);
  while (out.length < n) {
    const wd = d.getUTCDay();
    if (wd !== 0 && wd !== 6) out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

/** Seeded PRNG (mulberry32, shared from contracts) so fixtures are reproducible from a seed. */
export { mulberry32 as rng } from '@resemble/contracts';

/** A geometric random walk of n closes starting near 100. */
export function randomWalk(random: () => number, n: number, vol = 0.02): Float64Array {
  const out = new Float64Array(n);
  let v = 50 + random() * 100;
  for (let i = 0; i < n; i++) {
    // Sum of uniforms: a cheap, bounded, roughly normal step.
    const step = (random() + random() + random() - 1.5) * vol * 2;
    v *= Math.exp(step);
    out[i] = Math.round(v * 100) / 100;
  }
  return out;
}

/** Reads fixtures/sp500-10-closes.csv into entities. */
export function readRealFixture(path: string): FixtureEntity[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const by = new Map<string, FixtureEntity>();
  for (const line of lines) {
    const [code, date, close] = line.split(',');
    let e = by.get(code!);
    if (!e) {
      e = { code: code!, dates: [], closes: [] as number[] };
      by.set(code!, e);
    }
    e.dates.push(date!);
    (e.closes as number[]).push(Number(close));
  }
  return [...by.values()];
}
