/**
 * The store's names and layout without any schema library, for readers that only need to find files
 * (ml-service's loader threads import this alone, not all of the contracts with zod; store.ts re-exports
 * it). The catalog meta key data_version is a sha256 over the sorted "code<TAB>sha256<LF>" lines of
 * `entities`, followed, when the company master is not empty, by one line "companies<TAB><digest><LF>"
 * (see companyDigestLine), so it changes whenever any entity file or any master record changes.
 */

/**
 * Version of the store as a whole (the catalog's meta schema_version). 2 added the company master
 * (`companies` table of the catalog); a writer migrates a version-1 catalog in place on open.
 */
export const STORE_SCHEMA_VERSION = 2;
/** Version of the per-entity file format (its meta schema_version); unchanged by store version 2. */
export const ENTITY_SCHEMA_VERSION = 1;

/** Codes become file names, so the pattern also keeps them safe as paths (no '/', no leading '.'). */
export const ENTITY_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
export const ENTITY_CODE_MESSAGE =
  'code must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$ (letters, digits, ".", "_", "-"; 1-32 chars)';

export const CATALOG_DATA_VERSION_KEY = 'data_version';

export const CATALOG_FILE = 'catalog.sqlite';
export const ENTITIES_DIR = 'entities';
export const RUNS_DIR = 'runs';

export function entityFileName(code: string): string {
  if (!ENTITY_CODE_PATTERN.test(code)) throw new Error(ENTITY_CODE_MESSAGE);
  return `${code}.sqlite`;
}

/** Kinds of listed issue. ETNs count as 'etf'; infrastructure funds and closed-end funds as 'fund'. */
export const ENTITY_KINDS = ['stock', 'etf', 'reit', 'fund'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];
export const LISTING_STATUSES = ['listed', 'delisted'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

/** Trading currency of a market, for master records that have no price file (and so no currency) yet. */
export const MARKET_CURRENCY: Readonly<Record<string, string>> = { JP: 'JPY', US: 'USD' };

/**
 * One row of the catalog's `companies` table (the company master), column for column. Every entity
 * with a price file has a master row (a writer adds a minimal one for a new code); a master row may
 * have no price file yet (a listed issue without prices). Rows are never deleted: a company that leaves
 * the listing gets status 'delisted' and delisted_since.
 */
export interface CompanyRow {
  code: string;
  market: string;
  name_ja: string | null;
  name_en: string | null;
  kind: EntityKind;
  /** JP: 33業種 code and name (e.g. '3700', '輸送用機器'). */
  sector33_code: string | null;
  sector33_name: string | null;
  /** JP: 17業種 code and name (e.g. '6', '自動車・輸送機'). */
  sector17_code: string | null;
  sector17_name: string | null;
  /** US: GICS sector (e.g. 'Information Technology'). */
  gics_sector: string | null;
  /** Market segment as the exchange names it (e.g. 'プライム（内国株式）', '市場第一部（内国株）'). */
  segment: string | null;
  /** TOPIX size code and class where given (e.g. '1', 'TOPIX Core30'). */
  size_code: string | null;
  size_class: string | null;
  status: ListingStatus;
  /** First date the master saw the issue listed (or the listing date when the source gives it). */
  listed_since: string | null;
  /** Date it was first seen missing from (or marked delisted by) a full listing; null while listed. */
  delisted_since: string | null;
  /** Name of the import or source that last changed the row (e.g. 'jpx-listings', 'companies-csv'). */
  source: string;
  updated_at: string;
}

/** Columns of CompanyRow in table order (the digest and the SQL follow this list). */
export const COMPANY_COLUMNS = [
  'code',
  'market',
  'name_ja',
  'name_en',
  'kind',
  'sector33_code',
  'sector33_name',
  'sector17_code',
  'sector17_name',
  'gics_sector',
  'segment',
  'size_code',
  'size_class',
  'status',
  'listed_since',
  'delisted_since',
  'source',
  'updated_at',
] as const satisfies readonly (keyof CompanyRow)[];

/**
 * The columns that are content (everything but source and updated_at): re-importing the same listing
 * changes none of them, so the data version stays the same.
 */
export const COMPANY_CONTENT_COLUMNS = COMPANY_COLUMNS.filter(
  (c) => c !== 'source' && c !== 'updated_at',
) as readonly Exclude<(typeof COMPANY_COLUMNS)[number], 'source' | 'updated_at'>[];

/** Display name of a master row: Japanese first for JP, English first elsewhere, else the code. */
export function displayName(c: Pick<CompanyRow, 'code' | 'market' | 'name_ja' | 'name_en'>): string {
  return (c.market === 'JP' ? (c.name_ja ?? c.name_en) : (c.name_en ?? c.name_ja)) ?? c.code;
}

/** One sector label for filters and lists: the 33業種 name for JP, the GICS sector for US. */
export function displaySector(c: Pick<CompanyRow, 'sector33_name' | 'gics_sector'>): string | null {
  return c.sector33_name ?? c.gics_sector ?? null;
}

/**
 * The master record of a priced entity the master does not know (a store written before the master, or
 * prices imported before any listing): its catalog name as Japanese or English, kind stock, listed.
 */
export function minimalCompany(
  r: { code: string; name: string; market: string },
  source = 'catalog',
  updatedAt = '',
): CompanyRow {
  // A name with any character outside printable ASCII is taken as Japanese; others as English.
  const ja = /[^\u0020-\u007e]/.test(r.name);
  const named = r.name !== r.code;
  return {
    code: r.code,
    market: r.market,
    name_ja: named && ja ? r.name : null,
    name_en: named && !ja ? r.name : null,
    kind: 'stock',
    sector33_code: null,
    sector33_name: null,
    sector17_code: null,
    sector17_name: null,
    gics_sector: null,
    segment: null,
    size_code: null,
    size_class: null,
    status: 'listed',
    listed_since: null,
    delisted_since: null,
    source,
    updated_at: updatedAt,
  };
}
