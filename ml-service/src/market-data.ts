/**
 * The in-memory market: every entity's adjusted closes concatenated into one contiguous Float64Array
 * (entity i owns rows offsets[i] .. offsets[i+1]-1), with day numbers per row and per-entity prefix sums
 * used only for lower bounds. Loaded read-only from the store (contracts/src/store.ts).
 *
 * The big arrays live in SharedArrayBuffers so search workers can scan them without copying.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_FILE,
  ENTITIES_DIR,
  ENTITY_CODE_PATTERN,
  entityFileName,
} from '@resemble/contracts';
import { dayToIso, isoToDay } from './dates.js';

export interface MarketArrays {
  /** offsets[i] = first row of entity i; offsets[entities] = points. */
  offsets: Int32Array;
  closes: Float64Array;
  /** Days since 1970-01-01 (UTC) of each row. */
  days: Int32Array;
  /**
   * Prefix sums per entity of (close - center[i]) and its square; prefix row r + i + 1 holds the sum of
   * rows offsets[i] .. r (so each entity has its own leading zero: index = row + entity + 1). Sums restart
   * per entity so they never drift across a long concatenation (the UCR Suite bug the issue warns about).
   */
  sum1: Float64Array;
  sum2: Float64Array;
  /** Per-entity centre used for the prefix sums and max |close - centre| (for rounding-error bounds). */
  center: Float64Array;
  spread: Float64Array;
  /**
   * Runs of equal consecutive closes of length >= 2, as [startRow, endRowExclusive] pairs, per entity
   * (flatOffsets[i] .. flatOffsets[i+1] pairs). A window is flat (zero std) iff it lies inside one run.
   */
  flatRuns: Int32Array;
  flatOffsets: Int32Array;
}

export interface MarketData extends MarketArrays {
  dataDir: string;
  dataVersion: string;
  loadedAt: string;
  codes: string[];
  names: string[];
  markets: string[];
  currencies: string[];
  codeIndex: Map<string, number>;
  entities: number;
  points: number;
}

export class MarketDataError extends Error {}

function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
}
function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
}

interface CatalogRow {
  code: string;
  name: string;
  market: string;
  currency: string;
  row_count: number;
}

/** Reads the catalog's data version without loading anything else (used by the reload poller). */
export function readDataVersion(dataDir: string): string {
  const db = new Database(join(dataDir, CATALOG_FILE), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(CATALOG_DATA_VERSION_KEY) as
      { value: string } | undefined;
    if (!row) throw new MarketDataError(`catalog has no ${CATALOG_DATA_VERSION_KEY}`);
    return row.value;
  } finally {
    db.close();
  }
}

/**
 * Loads the whole store. Throws MarketDataError when the store is unusable (missing catalog, missing
 * entity file, unsorted or non-finite closes), so a reload can keep serving the previous data.
 */
export function loadMarketData(dataDir: string): MarketData {
  const catalogPath = join(dataDir, CATALOG_FILE);
  if (!existsSync(catalogPath)) throw new MarketDataError(`no catalog at ${catalogPath}`);
  const catalog = new Database(catalogPath, { readonly: true, fileMustExist: true });
  let rows: CatalogRow[];
  let dataVersion: string;
  try {
    const v = catalog.prepare('SELECT value FROM meta WHERE key = ?').get(CATALOG_DATA_VERSION_KEY) as
      { value: string } | undefined;
    if (!v) throw new MarketDataError(`catalog has no ${CATALOG_DATA_VERSION_KEY}`);
    dataVersion = v.value;
    rows = catalog
      .prepare('SELECT code, name, market, currency, row_count FROM entities ORDER BY code')
      .all() as CatalogRow[];
  } finally {
    catalog.close();
  }
  // The catalog's row_count sizes the arrays up front; every file is checked against it.
  const declared = rows.reduce((s, r) => s + r.row_count, 0);
  const closes = sharedF64(declared);
  const days = sharedI32(declared);
  const offsets = sharedI32(rows.length + 1);
  const codes: string[] = [];
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!ENTITY_CODE_PATTERN.test(r.code)) throw new MarketDataError(`catalog has an invalid code ${r.code}`);
    let db: Database.Database;
    try {
      db = new Database(join(dataDir, ENTITIES_DIR, entityFileName(r.code)), {
        readonly: true,
        fileMustExist: true,
      });
    } catch (err) {
      throw new MarketDataError(`cannot open the file of ${r.code}: ${(err as Error).message}`);
    }
    let data: [number, number][];
    try {
      // julianday runs in SQLite's C code; parsing 20 M date strings in JS would dominate the load.
      data = db
        .prepare('SELECT CAST(julianday(date) - 2440587.5 AS INTEGER), close FROM prices ORDER BY date')
        .raw()
        .all() as [number, number][];
    } catch (err) {
      throw new MarketDataError(`cannot read ${r.code}: ${(err as Error).message}`);
    } finally {
      db.close();
    }
    if (data.length !== r.row_count) {
      // A file that disagrees with its catalog entry is mid-update or damaged: refuse the whole snapshot.
      throw new MarketDataError(`${r.code} has ${data.length} rows but the catalog says ${r.row_count}`);
    }
    offsets[i] = at;
    for (let k = 0; k < data.length; k++) {
      const row = data[k]!;
      const c = row[1];
      if (typeof c !== 'number' || !Number.isFinite(c)) {
        throw new MarketDataError(`${r.code} has a non-finite close at row ${k}`);
      }
      if (row[0] === null) throw new MarketDataError(`${r.code} has an invalid date at row ${k}`);
      days[at + k] = row[0];
      closes[at + k] = c;
    }
    at += data.length;
    codes.push(r.code);
  }
  offsets[rows.length] = at;
  const arrays = buildDerived(offsets, closes, days);
  return {
    ...arrays,
    dataDir,
    dataVersion,
    loadedAt: new Date().toISOString(),
    codes,
    names: rows.map((r) => r.name),
    markets: rows.map((r) => r.market),
    currencies: rows.map((r) => r.currency),
    codeIndex: new Map(codes.map((c, i) => [c, i])),
    entities: codes.length,
    points: at,
  };
}

/** Builds prefix sums and flat runs; exported so tests and the bench can build markets in memory. */
export function buildDerived(offsets: Int32Array, closes: Float64Array, days: Int32Array): MarketArrays {
  const n = offsets.length - 1;
  const points = offsets[n]!;
  const sum1 = sharedF64(points + n);
  const sum2 = sharedF64(points + n);
  const center = sharedF64(n);
  const spread = sharedF64(n);
  const runs: number[] = [];
  const flatOffsets = sharedI32(n + 1);
  for (let e = 0; e < n; e++) {
    const a = offsets[e]!;
    const b = offsets[e + 1]!;
    let c = 0;
    for (let r = a; r < b; r++) c += closes[r]!;
    c = b > a ? c / (b - a) : 0;
    let s1 = 0;
    let s2 = 0;
    let m = 0;
    const base = a + e;
    sum1[base] = 0;
    sum2[base] = 0;
    for (let r = a; r < b; r++) {
      const v = closes[r]! - c;
      s1 += v;
      s2 += v * v;
      sum1[base + r - a + 1] = s1;
      sum2[base + r - a + 1] = s2;
      const av = Math.abs(v);
      if (av > m) m = av;
      if (r > a && days[r]! <= days[r - 1]!)
        throw new MarketDataError(`entity #${e} dates are not increasing`);
    }
    center[e] = c;
    spread[e] = m;
    flatOffsets[e] = runs.length / 2;
    let r = a;
    while (r < b) {
      let q = r + 1;
      while (q < b && closes[q] === closes[r]) q++;
      if (q - r >= 2) runs.push(r, q);
      r = q;
    }
  }
  flatOffsets[n] = runs.length / 2;
  const flatRuns = sharedI32(runs.length);
  flatRuns.set(runs);
  return { offsets, closes, days, sum1, sum2, center, spread, flatRuns, flatOffsets };
}

/** Rows of entity e with from <= day <= to, as [first, lastExclusive]. */
export function rowRange(data: MarketArrays, e: number, fromDay: number, toDay: number): [number, number] {
  const a = data.offsets[e]!;
  const b = data.offsets[e + 1]!;
  return [lowerBound(data.days, a, b, fromDay), lowerBound(data.days, a, b, toDay + 1)];
}

/** First index in [lo, hi) with arr[i] >= v. */
export function lowerBound(arr: Int32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function rowDate(data: MarketArrays, row: number): string {
  return dayToIso(data.days[row]!);
}

export { dayToIso, isoToDay };
