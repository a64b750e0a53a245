/**
 * Entity lookup for the stock picker over the whole company master (code and name search, decision 086),
 * the similarity filters' choices, the "as of" date of the loaded data, and a stock's full prices read
 * read-only from its file on demand.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ENTITIES_DIR,
  MARKET_CURRENCY,
  displayName,
  displaySector,
  entityFileName,
  resamplePriceRows,
  type CompanyRow,
  type EntitiesResponse,
  type EntityFacets,
  type EntitySummary,
  type PriceRow,
  type PricesResponse,
  type Timeframe,
} from '@resemble/contracts';
import { EntityIndex } from './entity-search.js';
import { AppError, unknownCode } from '../errors.js';
import { dayToIso, type MarketData } from '../market/market-data.js';

/** The entity list's answer for one master record; e is its row in the loaded market, or -1 (no prices). */
export function entitySummary(data: MarketData, c: CompanyRow): EntitySummary {
  const e = data.codeIndex.get(c.code) ?? -1;
  const a = e >= 0 ? data.offsets[e]! : 0;
  const b = e >= 0 ? data.offsets[e + 1]! : 0;
  return {
    code: c.code,
    name: displayName(c),
    nameJa: c.name_ja,
    nameEn: c.name_en,
    market: c.market,
    currency: e >= 0 ? data.currencies[e]! : (MARKET_CURRENCY[c.market] ?? 'UNKNOWN'),
    kind: c.kind,
    sector: displaySector(c),
    sector33Code: c.sector33_code,
    sector33Name: c.sector33_name,
    sector17Code: c.sector17_code,
    sector17Name: c.sector17_name,
    gicsSector: c.gics_sector,
    segment: c.segment,
    sizeClass: c.size_class,
    status: c.status,
    listedSince: c.listed_since,
    delistedSince: c.delisted_since,
    hasPrices: b > a,
    firstDate: b > a ? dayToIso(data.days[a]!) : null,
    lastDate: b > a ? dayToIso(data.days[b - 1]!) : null,
    rows: b - a,
  };
}

/** The newest price date of entity e, or null when it has no rows. */
export function entityLastDate(data: MarketData, e: number): string | null {
  const a = data.offsets[e]!;
  const b = data.offsets[e + 1]!;
  return b > a ? dayToIso(data.days[b - 1]!) : null;
}

/**
 * "As of": the newest price date among `entities` (all of them when left out); null when none has a
 * price. One pass over the entities' last rows: cheap enough to run per answer, and exact for a filtered
 * search whose universe ends earlier than the rest of the market.
 */
export function asOfDate(data: MarketData, entities?: readonly number[]): string | null {
  if (!entities && dataAsOf.has(data)) return dataAsOf.get(data)!;
  let best = -Infinity;
  const visit = (e: number) => {
    const b = data.offsets[e + 1]!;
    if (b > data.offsets[e]! && data.days[b - 1]! > best) best = data.days[b - 1]!;
  };
  if (entities) for (const e of entities) visit(e);
  else for (let e = 0; e < data.entities; e++) visit(e);
  const asOf = best === -Infinity ? null : dayToIso(best);
  if (!entities) dataAsOf.set(data, asOf);
  return asOf;
}
// The whole market's date, once per loaded market (every entity list answer carries it).
const dataAsOf = new WeakMap<MarketData, string | null>();

/** The master record of priced entity e (every priced entity has one: see MarketData.companies). */
export function companyOf(data: MarketData, e: number): CompanyRow | undefined {
  return data.companies.get(data.codes[e]!);
}

/** Whether a master record is filed under `sector` (any of its sector codes or names). */
export function inSector(c: CompanyRow | undefined, sector: string): boolean {
  return (
    !!c &&
    (c.sector33_code === sector ||
      c.sector33_name === sector ||
      c.sector17_code === sector ||
      c.sector17_name === sector ||
      c.gics_sector === sector)
  );
}

/**
 * Every value the market and sector filters match, once per loaded market: the markets of the master and
 * of the priced entities, and every sector code and name any record is filed under (inSector's fields).
 */
function filterValues(data: MarketData): { markets: Set<string>; sectors: Set<string> } {
  let v = filterValuesOf.get(data);
  if (!v) {
    const companies = [...data.companies.values()];
    v = {
      markets: new Set([...data.markets, ...companies.map((c) => c.market)]),
      sectors: new Set(
        companies.flatMap((c) =>
          [c.sector33_code, c.sector33_name, c.sector17_code, c.sector17_name, c.gics_sector].filter(
            (x): x is string => !!x,
          ),
        ),
      ),
    };
    filterValuesOf.set(data, v);
  }
  return v;
}
const filterValuesOf = new WeakMap<MarketData, { markets: Set<string>; sectors: Set<string> }>();

/**
 * A market or sector filter no stock is filed under is a mistake (a typo, a name from another list), not
 * a search with no matches: it is a 400 `unknown_filter` naming the filter, its value and the choices
 * (the facets' labels; a sector may also be given by any code or name the master lists).
 */
export function assertKnownFilters(
  data: MarketData,
  f: { market?: string; sector?: string } | undefined,
): void {
  if (!f) return;
  const known = filterValues(data);
  for (const [field, value, set] of [
    ['market', f.market, known.markets],
    ['sector', f.sector, known.sectors],
  ] as const) {
    if (value === undefined || set.has(value)) continue;
    const allowed = entityFacets(data)[field === 'market' ? 'markets' : 'sectors'];
    throw new AppError(
      400,
      'unknown_filter',
      `filters.${field}: no stock is filed under ${JSON.stringify(value)}; GET /v1/entities/facets lists the ${field}s`,
      { field, value, allowed },
    );
  }
}

/** TOPIX size codes (1 Core30, 2 Large70, 4 Mid400, 6/7 Small): larger companies first in a tie. */
function sizeRank(c: CompanyRow): number {
  const n = Number(c.size_code);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? n : 9;
}

interface SearchList {
  companies: CompanyRow[];
  index: EntityIndex;
}

// Built on first use per loaded market and dropped with it: a reload brings a new master.
const searchLists = new WeakMap<MarketData, SearchList>();

function searchList(data: MarketData): SearchList {
  let list = searchLists.get(data);
  if (!list) {
    const companies = [...data.companies.values()].sort((x, y) =>
      x.code < y.code ? -1 : x.code > y.code ? 1 : 0,
    );
    const index = new EntityIndex(
      companies.map((c) => {
        const e = data.codeIndex.get(c.code);
        const priced = e !== undefined && data.offsets[e + 1]! > data.offsets[e]!;
        // Ties go to listed issues, then those with prices, then the larger companies.
        const order = (c.status === 'listed' ? 0 : 100) + (priced ? 0 : 10) + sizeRank(c);
        return { code: c.code, names: [c.name_ja, c.name_en], order };
      }),
    );
    list = { companies, index };
    searchLists.set(data, list);
  }
  return list;
}

/**
 * The whole master (listed issues without prices too): exact code, code prefix, name prefix, name
 * substring, then Latin names within a typo; an empty query lists the master by code.
 */
export function searchEntities(data: MarketData, q: string, limit: number): EntitiesResponse {
  const { companies, index } = searchList(data);
  return {
    entities: index
      .search(q, limit)
      .map((h) => ({ ...entitySummary(data, companies[h.index]!), match: h.tier })),
    asOf: asOfDate(data),
  };
}

/** The markets, sector labels and kinds present in the master, sorted, for the similarity filters. */
export function entityFacets(data: MarketData): EntityFacets {
  const sorted = <T extends string>(xs: Iterable<T>) => [...new Set(xs)].sort();
  const companies = [...data.companies.values()];
  return {
    markets: sorted(companies.map((c) => c.market)),
    sectors: sorted(companies.flatMap((c) => displaySector(c) ?? [])),
    kinds: sorted(companies.map((c) => c.kind)),
  };
}

export function readPrices(
  data: MarketData,
  code: string,
  from: string | undefined,
  to: string | undefined,
  timeframe: Timeframe = 'D',
): PricesResponse {
  const e = data.codeIndex.get(code);
  if (e === undefined) {
    // A listed issue without prices yet is known, just not chartable: an empty history, not a 404.
    if (data.companies.has(code)) return { code, timeframe, rows: [], asOf: null };
    throw unknownCode(code);
  }
  const db = new Database(join(data.dataDir, ENTITIES_DIR, entityFileName(code)), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    const rows = db
      .prepare(
        'SELECT date, open, high, low, close, volume FROM prices WHERE date >= ? AND date <= ? ORDER BY date',
      )
      .all(from ?? '0000-01-01', to ?? '9999-12-31') as PriceRow[];
    // Bars of the range's days: a week or month cut by `from` or `to` holds only the days inside it.
    return { code, timeframe, rows: resamplePriceRows(rows, timeframe), asOf: entityLastDate(data, e) };
  } finally {
    db.close();
  }
}
