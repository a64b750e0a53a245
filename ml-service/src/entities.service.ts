/**
 * Entity lookup for the stock picker (code and name search, decision 086), the filters' choices, the
 * "as of" date of the loaded data, and a stock's full prices read read-only from its file on demand.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ENTITIES_DIR,
  entityFileName,
  type EntitiesResponse,
  type EntityFacets,
  type EntitySummary,
  type PriceRow,
  type PricesResponse,
} from '@resemble/contracts';
import { EntityIndex } from './entity-search.js';
import { notFound } from './errors.js';
import { dayToIso, type MarketData } from './market-data.js';

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
  let best = -Infinity;
  const visit = (e: number) => {
    const b = data.offsets[e + 1]!;
    if (b > data.offsets[e]! && data.days[b - 1]! > best) best = data.days[b - 1]!;
  };
  if (entities) for (const e of entities) visit(e);
  else for (let e = 0; e < data.entities; e++) visit(e);
  return best === -Infinity ? null : dayToIso(best);
}

export function summary(data: MarketData, e: number): EntitySummary {
  const a = data.offsets[e]!;
  const b = data.offsets[e + 1]!;
  const info = data.info[e]!;
  const code = data.codes[e]!;
  return {
    code,
    name: info.nameJa ?? info.nameEn ?? code,
    nameJa: info.nameJa,
    nameEn: info.nameEn,
    market: data.markets[e]!,
    currency: data.currencies[e]!,
    sector: info.sector,
    kind: info.kind,
    listed: info.listed,
    hasPrices: b > a,
    firstDate: b > a ? dayToIso(data.days[a]!) : null,
    lastDate: b > a ? dayToIso(data.days[b - 1]!) : null,
    rows: b - a,
  };
}

// Built on first use per loaded market, dropped with it: a reload brings new names.
const indexes = new WeakMap<MarketData, EntityIndex>();

export function entityIndex(data: MarketData): EntityIndex {
  let index = indexes.get(data);
  if (!index) {
    index = new EntityIndex(
      data.codes.map((code, e) => {
        const info = data.info[e]!;
        // Ties go to listed issues with prices, then those without, then delisted ones.
        const order = (info.listed ? 0 : 2) + (data.offsets[e + 1]! > data.offsets[e]! ? 0 : 1);
        return { code, names: [info.nameJa, info.nameEn], order };
      }),
    );
    indexes.set(data, index);
  }
  return index;
}

/** Exact code, code prefix, name prefix, name substring, then Latin names within a typo. */
export function searchEntities(data: MarketData, q: string, limit: number): EntitiesResponse {
  const hits = entityIndex(data).search(q, limit);
  return {
    entities: hits.map((h) => ({ ...summary(data, h.index), match: h.tier })),
    asOf: asOfDate(data),
  };
}

/** The markets, sectors and kinds present, sorted, for the similarity filters' choices. */
export function entityFacets(data: MarketData): EntityFacets {
  const sorted = <T extends string>(xs: Iterable<T>) => [...new Set(xs)].sort();
  return {
    markets: sorted(data.markets),
    sectors: sorted(data.info.flatMap((i) => (i.sector ? [i.sector] : []))),
    kinds: sorted(data.info.map((i) => i.kind)),
  };
}

export function readPrices(
  data: MarketData,
  code: string,
  from: string | undefined,
  to: string | undefined,
): PricesResponse {
  const e = data.codeIndex.get(code);
  if (e === undefined) throw notFound(`unknown code ${code}`);
  // A listed issue without prices yet may have no file at all.
  if (data.offsets[e + 1]! === data.offsets[e]!) return { code, rows: [], asOf: null };
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
    return { code, rows, asOf: entityLastDate(data, e) };
  } finally {
    db.close();
  }
}
