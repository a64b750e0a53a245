/**
 * The per-stock store: the contract between the scraper/importer (writer) and ml-service and the data
 * image (readers). Documented for humans in scraper/README.md; this file is the source of truth.
 *
 * DATA_DIR/
 *   catalog.sqlite            one row per entity + the data version
 *   entities/<CODE>.sqlite    one file per stock
 *   runs/<id>.json            scraper run reports
 */
import { z } from 'zod';
import { ENTITY_CODE_MESSAGE, ENTITY_CODE_PATTERN } from './store-layout.js';

export * from './store-layout.js';

export const entityCodeSchema = z.string().regex(ENTITY_CODE_PATTERN, ENTITY_CODE_MESSAGE);

export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a real calendar date');

export const priceRowSchema = z.object({
  date: isoDateSchema,
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number().int(),
});
export type PriceRow = z.infer<typeof priceRowSchema>;

export const entityMetaSchema = z.object({
  code: entityCodeSchema,
  name: z.string(),
  market: z.string(),
  currency: z.string(),
});
export type EntityMeta = z.infer<typeof entityMetaSchema>;

export const catalogEntrySchema = entityMetaSchema.extend({
  first_date: isoDateSchema,
  last_date: isoDateSchema,
  row_count: z.number().int().nonnegative(),
  updated_at: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

/**
 * Entity file DDL. `prices` holds split- and dividend-ADJUSTED prices (what similarity search reads);
 * `raw_prices` keeps the prices as the source published them and `adjustments` the corporate actions, so
 * the adjusted history can be rebuilt whenever a new split or dividend is detected.
 */
export const ENTITY_DDL = `
CREATE TABLE IF NOT EXISTS prices (
  date TEXT PRIMARY KEY, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
  close REAL NOT NULL, volume INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS raw_prices (
  date TEXT PRIMARY KEY, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
  close REAL NOT NULL, volume INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS adjustments (
  ex_date TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('split', 'dividend')),
  factor REAL NOT NULL CHECK (factor > 0),
  detected_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;
/** Keys of the entity `meta` table. */
export const ENTITY_META_KEYS = [
  'schema_version',
  'code',
  'name',
  'market',
  'currency',
  'updated_at',
] as const;

export const CATALOG_DDL = `
CREATE TABLE IF NOT EXISTS entities (
  code TEXT PRIMARY KEY, name TEXT NOT NULL, market TEXT NOT NULL, currency TEXT NOT NULL,
  first_date TEXT NOT NULL, last_date TEXT NOT NULL, row_count INTEGER NOT NULL,
  updated_at TEXT NOT NULL, sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS companies (
  code TEXT PRIMARY KEY, market TEXT NOT NULL, name_ja TEXT, name_en TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('stock', 'etf', 'reit', 'fund')),
  sector33_code TEXT, sector33_name TEXT, sector17_code TEXT, sector17_name TEXT, gics_sector TEXT,
  segment TEXT, size_code TEXT, size_class TEXT,
  status TEXT NOT NULL CHECK (status IN ('listed', 'delisted')),
  listed_since TEXT, delisted_since TEXT,
  source TEXT NOT NULL, updated_at TEXT NOT NULL
) WITHOUT ROWID;
`;
/**
 * Writer-private crash-recovery table of the catalog: a row is written (and committed) before an entity
 * file is renamed into place and removed together with the catalog update after it, so a writer killed
 * in between finds the entities whose catalog row may be stale. Readers ignore it.
 */
export const CATALOG_PUBLISH_LOG_DDL = `
CREATE TABLE IF NOT EXISTS publish_log (code TEXT PRIMARY KEY, sha256 TEXT NOT NULL, started_at TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * catalog meta keys: schema_version (STORE_SCHEMA_VERSION), data_version (sha256 over the sorted
 * "code<TAB>sha256<LF>" lines of `entities`, then "companies<TAB><master digest><LF>" when `companies` has
 * rows: so it changes whenever any entity file or master record changes), data_updated_at (ISO time of
 * that change). The key and file names are in store-layout.ts.
 *
 * `entities` has one row per price file (an entity never has zero price rows); `companies` is the company
 * master (CompanyRow in store-layout.ts), a superset: listed issues without prices have a master row and
 * no `entities` row. Names, sectors and listing status come from `companies`; entities.name is the name
 * the price writer knew (kept for version-1 readers).
 */

export const runReportSchema = z.object({
  id: z.string(),
  source: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  ok: z.array(z.string()),
  failed: z.array(z.object({ code: z.string(), reason: z.string() })),
  skipped: z.array(z.object({ code: z.string(), reason: z.string() })),
  rowsAdded: z.number().int(),
  rowsRejected: z.array(z.object({ code: z.string(), date: z.string().optional(), reason: z.string() })),
  success: z.boolean(),
  /** Market-day sources (jquants, the US bulk source): the market they keep current. */
  market: z.string().optional(),
  /** Newest trading day whose prices the store holds for that market after the run. */
  dataThrough: isoDateSchema.nullable().optional(),
  /**
   * The exchange's trading days after dataThrough as the source's calendar gave them (up to a year
   * ahead), so the operator view can count how many trading days the data is behind without the API.
   */
  upcomingTradingDays: z.array(isoDateSchema).max(400).optional(),
});
export type RunReport = z.infer<typeof runReportSchema>;
