/**
 * The in-memory market: every entity's adjusted closes concatenated into one contiguous Float64Array
 * (entity i owns rows offsets[i] .. offsets[i+1]-1), with day numbers per row and per-entity prefix sums
 * used only for lower bounds. Loaded read-only from the store (contracts/src/store.ts).
 *
 * The big arrays live in SharedArrayBuffers so search workers can scan them without copying.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { nativeStoreReader, type NativeStoreReader } from './store-native.js';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_FILE,
  ENTITIES_DIR,
  ENTITY_CODE_PATTERN,
  COMPANY_COLUMNS,
  entityFileName,
  minimalCompany,
  type CompanyRow,
} from '@resemble/contracts/store-layout';
import { dayToIso, isoToDay, parseIsoDayAt } from './dates.js';
import { allocateBuffers, type MarketWasm } from './market-memory.js';

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
  /** The shared WebAssembly.Memory holding closes, sum1 and sum2 (null: plain buffers, no WASM path). */
  wasm: MarketWasm | null;
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
  /**
   * The company master by code: every priced entity (a minimal record made from its catalog row when
   * the store has none, e.g. a version-1 store) and every listed issue without prices yet.
   */
  companies: Map<string, CompanyRow>;
  entities: number;
  points: number;
  /** Catalog entities left out at start because their files could not be read or failed their check. */
  skipped?: BadEntity[];
}

export class MarketDataError extends Error {}

function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
}
function sharedI32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4));
}

export interface CatalogRow {
  code: string;
  name: string;
  market: string;
  currency: string;
  row_count: number;
  /** sha256 of the entity file as published; every file is checked against it when loaded. */
  sha256: string;
}

/** An entity file left out of the served data, and why. */
export interface BadEntity {
  code: string;
  reason: string;
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

export interface Catalog {
  dataVersion: string;
  rows: CatalogRow[];
  /** The catalog's company master (empty for a version-1 catalog, which has no `companies` table). */
  companies: CompanyRow[];
}

function readCompanies(catalog: Database.Database): CompanyRow[] {
  const has = catalog
    .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'companies'")
    .get();
  if (!has) return [];
  return catalog
    .prepare(`SELECT ${COMPANY_COLUMNS.join(', ')} FROM companies ORDER BY code`)
    .all() as CompanyRow[];
}

export function readCatalog(dataDir: string): Catalog {
  const catalogPath = join(dataDir, CATALOG_FILE);
  if (!existsSync(catalogPath)) throw new MarketDataError(`no catalog at ${catalogPath}`);
  const catalog = new Database(catalogPath, { readonly: true, fileMustExist: true });
  try {
    const v = catalog.prepare('SELECT value FROM meta WHERE key = ?').get(CATALOG_DATA_VERSION_KEY) as
      { value: string } | undefined;
    if (!v) throw new MarketDataError(`catalog has no ${CATALOG_DATA_VERSION_KEY}`);
    const rows = catalog
      .prepare('SELECT code, name, market, currency, row_count, sha256 FROM entities ORDER BY code')
      .all() as CatalogRow[];
    for (const r of rows) {
      if (!ENTITY_CODE_PATTERN.test(r.code))
        throw new MarketDataError(`catalog has an invalid code ${r.code}`);
      if (!Number.isInteger(r.row_count) || r.row_count < 0) {
        throw new MarketDataError(`catalog has an invalid row_count for ${r.code}`);
      }
    }
    return { dataVersion: v.value, rows, companies: readCompanies(catalog) };
  } finally {
    catalog.close();
  }
}

/** Shared arrays sized from the catalog's row counts (every file is checked against them when filled). */
export function allocate(rows: CatalogRow[]): MarketArrays {
  const n = rows.length;
  const offsets = sharedI32(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + rows[i]!.row_count;
  const points = offsets[n]!;
  const maxRows = rows.reduce((m, r) => Math.max(m, r.row_count), 0);
  return {
    offsets,
    ...allocateBuffers(points, n, maxRows),
    days: sharedI32(points),
    center: sharedF64(n),
    spread: sharedF64(n),
    flatRuns: sharedI32(0),
    flatOffsets: sharedI32(n + 1),
  };
}

/**
 * Reads entities [from, to) from their files into the shared arrays and builds their prefix sums. Safe to
 * run in several threads on disjoint ranges. Returns, per entity of the range, its flat runs (start,
 * endExclusive pairs), which finishFlatRuns assembles.
 */
export function fillEntities(
  dataDir: string,
  codes: string[],
  arrays: MarketArrays,
  from: number,
  to: number,
  native: NativeStoreReader | null = nativeStoreReader(),
  check: EntityCheck = {},
): number[][] {
  const { offsets } = arrays;
  const runs: number[][] = [];
  for (let e = from; e < to; e++) {
    if (!check.bad) {
      fillEntity(dataDir, codes, arrays, e, native, check.sha256?.[e]);
      runs.push(deriveEntity(arrays, e));
      continue;
    }
    try {
      fillEntity(dataDir, codes, arrays, e, native, check.sha256?.[e]);
      runs.push(deriveEntity(arrays, e));
    } catch (err) {
      if (!(err instanceof MarketDataError)) throw err;
      check.bad.push({ code: codes[e]!, reason: err.message });
      arrays.closes.fill(0, offsets[e]!, offsets[e + 1]!);
      runs.push([]);
    }
  }
  return runs;
}

/** How fillEntities checks files: against the catalog's sha256 (by entity), and what it does with a bad one. */
export interface EntityCheck {
  /** The catalog's sha256 per entity index; a file that differs is refused, as one SQLite cannot read. */
  sha256?: readonly string[];
  /** Given, a bad entity is recorded here and the rest are read; else the first bad one throws. */
  bad?: BadEntity[];
}

function fillEntity(
  dataDir: string,
  codes: string[],
  arrays: MarketArrays,
  e: number,
  native: NativeStoreReader | null,
  sha256: string | undefined,
): void {
  const { offsets } = arrays;
  {
    const code = codes[e]!;
    const path = join(dataDir, ENTITIES_DIR, entityFileName(code));
    const a = offsets[e]!;
    const b = offsets[e + 1]!;
    // The native reader when it was built, else the better-sqlite3 readers. What the native reader
    // declines goes straight to the row-by-row read, which names the problem (the native reader accepts
    // everything that read accepts, but for a path too long for its buffer, which that read then reads).
    if (native) {
      if (native.readEntity(path, arrays.closes.subarray(a, b), arrays.days.subarray(a, b)) !== b - a)
        readThroughBetterSqlite(path, code, (db) => readRows(db, code, arrays, a, b));
    } else {
      readThroughBetterSqlite(
        path,
        code,
        (db) => readFast(db, arrays, a, b) || readRows(db, code, arrays, a, b),
      );
    }
    // After the read, so a file SQLite itself refuses is named by SQLite's reason. What SQLite reads
    // without complaint can still be damaged where it does not look (another table, a page it skipped,
    // a close flipped to another valid number): the published hash catches that.
    if (sha256 !== undefined) {
      let got: string;
      try {
        got = createHash('sha256').update(readFileSync(path)).digest('hex');
      } catch (err) {
        throw new MarketDataError(`cannot read the file of ${code}: ${(err as Error).message}`);
      }
      if (got !== sha256)
        throw new MarketDataError(
          `${code}: the file's sha256 ${got.slice(0, 12)}… differs from the catalog's ${sha256.slice(0, 12)}…`,
        );
    }
  }
}

/** Opens the file with better-sqlite3 and runs `read` on it, turning any failure into a MarketDataError. */
function readThroughBetterSqlite(path: string, code: string, read: (db: Database.Database) => unknown): void {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new MarketDataError(`cannot open the file of ${code}: ${(err as Error).message}`);
  }
  try {
    read(db);
  } catch (err) {
    if (err instanceof MarketDataError) throw err;
    throw new MarketDataError(`cannot read ${code}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Closes and days of one entity file in one table scan: the dates concatenated into one string and the
 * closes as one JSON array (SQLite writes doubles with 17 significant digits, so they round-trip
 * exactly), both in the same scan order. Returns false, having trusted nothing, if anything looks off;
 * the row-by-row read then decides and names the problem.
 */
function readFast(db: Database.Database, arrays: MarketArrays, a: number, b: number): boolean {
  const { closes, days } = arrays;
  const row = db.prepare("SELECT group_concat(date, ''), json_group_array(close) FROM prices").raw().get() as
    [unknown, unknown] | undefined;
  const n = b - a;
  if (!row || n === 0) return n === 0;
  const [dates, json] = row;
  if (typeof dates !== 'string' || dates.length !== 10 * n || typeof json !== 'string') return false;
  let closeCol: unknown;
  try {
    closeCol = JSON.parse(json);
  } catch {
    return false;
  }
  if (!Array.isArray(closeCol) || closeCol.length !== n) return false;
  let prevDay = -Infinity;
  for (let k = 0; k < n; k++) {
    const c: unknown = closeCol[k];
    const d = parseIsoDayAt(dates, 10 * k);
    if (typeof c !== 'number' || !Number.isFinite(c) || !(d > prevDay)) return false;
    prevDay = d;
    days[a + k] = d;
    closes[a + k] = c;
  }
  return true;
}

/** The row-by-row read, which names the first problem it finds. */
function readRows(db: Database.Database, code: string, arrays: MarketArrays, a: number, b: number): void {
  const { closes, days } = arrays;
  const closeCol = db.prepare('SELECT close FROM prices ORDER BY date').pluck().all();
  const dayCol = db.prepare('SELECT date FROM prices ORDER BY date').pluck().all();
  if (closeCol.length !== b - a) {
    // A file that disagrees with its catalog entry is mid-update or damaged: refuse the whole snapshot.
    throw new MarketDataError(`${code} has ${closeCol.length} rows but the catalog says ${b - a}`);
  }
  for (let k = 0; k < closeCol.length; k++) {
    const c = closeCol[k];
    const ds = dayCol[k];
    const d = typeof ds === 'string' ? isoToDay(ds) : NaN;
    if (typeof c !== 'number' || !Number.isFinite(c)) {
      throw new MarketDataError(`${code} has a non-finite close at row ${k}`);
    }
    if (Number.isNaN(d)) throw new MarketDataError(`${code} has an invalid date at row ${k}`);
    if (k > 0 && d <= days[a + k - 1]!)
      throw new MarketDataError(`${code} dates are not increasing at row ${k}`);
    days[a + k] = d;
    closes[a + k] = c;
  }
}

/** Derived arrays for entities [from, to) whose closes are already in place (e.g. read from a snapshot). */
export function deriveSlice(arrays: MarketArrays, from: number, to: number): number[][] {
  const runs: number[][] = [];
  for (let e = from; e < to; e++) runs.push(deriveEntity(arrays, e));
  return runs;
}

/**
 * Prefix sums (restarting per entity, centred on the entity mean) and flat runs of one entity. The sums
 * are compensated (Neumaier), so each stored prefix is the exact sum rounded once: a difference of two
 * prefixes is then off by a few ulps of the prefixes, not by n ulps, which keeps the pruning slack of the
 * kernels small (ed-kernel.ts).
 */
function deriveEntity(arrays: MarketArrays, e: number): number[] {
  const { offsets, closes, sum1, sum2, center, spread } = arrays;
  const a = offsets[e]!;
  const b = offsets[e + 1]!;
  let c = 0;
  for (let r = a; r < b; r++) c += closes[r]!;
  c = b > a ? c / (b - a) : 0;
  let s1 = 0;
  let c1 = 0;
  let s2 = 0;
  let c2 = 0;
  let m = 0;
  const base = a + e;
  sum1[base] = 0;
  sum2[base] = 0;
  for (let r = a; r < b; r++) {
    const v = closes[r]! - c;
    const vv = v * v;
    let t = s1 + v;
    c1 += Math.abs(s1) >= Math.abs(v) ? s1 - t + v : v - t + s1;
    s1 = t;
    t = s2 + vv;
    c2 += Math.abs(s2) >= vv ? s2 - t + vv : vv - t + s2;
    s2 = t;
    sum1[base + r - a + 1] = s1 + c1;
    sum2[base + r - a + 1] = s2 + c2;
    const av = Math.abs(v);
    if (av > m) m = av;
  }
  center[e] = c;
  spread[e] = m;
  const runs: number[] = [];
  let r = a;
  while (r < b) {
    let q = r + 1;
    while (q < b && closes[q] === closes[r]) q++;
    if (q - r >= 2) runs.push(r, q);
    r = q;
  }
  return runs;
}

export function finishFlatRuns(arrays: MarketArrays, perEntity: number[][]): MarketArrays {
  const n = perEntity.length;
  const total = perEntity.reduce((s, r) => s + r.length, 0);
  const flatRuns = sharedI32(total);
  let at = 0;
  for (let e = 0; e < n; e++) {
    arrays.flatOffsets[e] = at / 2;
    flatRuns.set(perEntity[e]!, at);
    at += perEntity[e]!.length;
  }
  arrays.flatOffsets[n] = at / 2;
  return { ...arrays, flatRuns };
}

export function assemble(
  dataDir: string,
  catalog: Catalog,
  arrays: MarketArrays,
  skipped: BadEntity[] = [],
): MarketData {
  const { rows } = catalog;
  const codes = rows.map((r) => r.code);
  return {
    ...arrays,
    dataDir,
    dataVersion: catalog.dataVersion,
    loadedAt: new Date().toISOString(),
    codes,
    names: rows.map((r) => r.name),
    markets: rows.map((r) => r.market),
    currencies: rows.map((r) => r.currency),
    codeIndex: new Map(codes.map((c, i) => [c, i])),
    companies: companyMap(catalog),
    entities: codes.length,
    points: arrays.offsets[codes.length]!,
    skipped,
  };
}

/** The catalog without the given entities (the data served after skipping them). */
export function withoutEntities(catalog: Catalog, bad: readonly BadEntity[]): Catalog {
  const out = new Set(bad.map((b) => b.code));
  return { ...catalog, rows: catalog.rows.filter((r) => !out.has(r.code)) };
}

/** The refusal of a whole data version because of its bad entities (a reload keeps the old data). */
export function refusal(catalog: Catalog, bad: readonly BadEntity[]): MarketDataError {
  const list = bad.map((b) => b.reason).join('; ');
  return new MarketDataError(
    `data version ${catalog.dataVersion} refused: ${bad.length} entit${bad.length === 1 ? 'y' : 'ies'} failed to load (${list})`,
  );
}

function companyMap(catalog: Catalog): Map<string, CompanyRow> {
  const map = new Map(catalog.companies.map((c) => [c.code, c]));
  for (const r of catalog.rows) if (!map.has(r.code)) map.set(r.code, minimalCompany(r));
  return map;
}

/**
 * Loads the whole store on this thread. Throws MarketDataError when the store is unusable (missing
 * catalog or entity file, row counts disagreeing with the catalog, non-finite closes, unsorted dates), so
 * a reload can keep serving the previous data. The service uses the multi-threaded loader (load.worker.ts);
 * this in-process load serves tests and CLIs. `native: null` reads through better-sqlite3 only (the
 * portable path); left out, the native reader is used where it was built.
 */
export function loadMarketData(
  dataDir: string,
  opts: { native?: NativeStoreReader | null; skipBad?: boolean } = {},
): MarketData {
  const full = readCatalog(dataDir);
  const read = (catalog: Catalog, bad?: BadEntity[]) => {
    const arrays = allocate(catalog.rows);
    const codes = catalog.rows.map((r) => r.code);
    const sha256 = catalog.rows.map((r) => r.sha256);
    const runs = fillEntities(dataDir, codes, arrays, 0, codes.length, opts.native, { sha256, bad });
    return finishFlatRuns(arrays, runs);
  };
  if (!opts.skipBad) return assemble(dataDir, full, read(full));
  const bad: BadEntity[] = [];
  const first = read(full, bad);
  if (bad.length === 0) return assemble(dataDir, full, first);
  // Read again without them, so the served arrays hold only good entities (a second bad read: refuse).
  const rest = withoutEntities(full, bad);
  return assemble(dataDir, rest, read(rest), bad);
}

/** Builds a market from arrays in memory (tests and benches that need no files). */
export function buildDerived(offsets: Int32Array, closes: Float64Array, days: Int32Array): MarketArrays {
  const n = offsets.length - 1;
  let maxRows = 0;
  for (let e = 0; e < n; e++) maxRows = Math.max(maxRows, offsets[e + 1]! - offsets[e]!);
  const buffers = allocateBuffers(offsets[n]!, n, maxRows);
  buffers.closes.set(closes.subarray(0, offsets[n]!));
  const arrays: MarketArrays = {
    offsets,
    ...buffers,
    days,
    center: sharedF64(n),
    spread: sharedF64(n),
    flatRuns: sharedI32(0),
    flatOffsets: sharedI32(n + 1),
  };
  const runs: number[][] = [];
  for (let e = 0; e < n; e++) runs.push(deriveEntity(arrays, e));
  return finishFlatRuns(arrays, runs);
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
