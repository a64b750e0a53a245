/** Entity lookup for the stock picker, and a stock's full prices read read-only from its file on demand. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ENTITIES_DIR,
  MARKET_CURRENCY,
  displayName,
  displaySector,
  entityFileName,
  type CompanyRow,
  type EntitySummary,
  type PriceRow,
} from '@resemble/contracts';
import { notFound } from './errors.js';
import { dayToIso, type MarketData } from './market-data.js';

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

/**
 * Code or name prefix, case-insensitive, over the whole master (listed issues without prices too): exact
 * code first, then code prefixes, then prefixes of the Japanese or English name or of a word in it.
 */
export function searchEntities(data: MarketData, q: string, limit: number): EntitySummary[] {
  const needle = q.trim().toLowerCase();
  const ranked: [number, string, CompanyRow][] = [];
  for (const c of data.companies.values()) {
    const code = c.code.toLowerCase();
    const names = [c.name_ja, c.name_en].filter((n): n is string => n !== null).map((n) => n.toLowerCase());
    let rank = -1;
    if (needle === '' || code === needle) rank = 0;
    else if (code.startsWith(needle)) rank = 1;
    else if (names.some((n) => n.startsWith(needle) || n.split(/\s+/).some((w) => w.startsWith(needle))))
      rank = 2;
    if (rank >= 0) ranked.push([rank, c.code, c]);
  }
  ranked.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
  return ranked.slice(0, limit).map(([, , c]) => entitySummary(data, c));
}

export function readPrices(
  data: MarketData,
  code: string,
  from: string | undefined,
  to: string | undefined,
): { code: string; rows: PriceRow[] } {
  if (!data.codeIndex.has(code)) throw notFound(`unknown code ${code}`);
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
    return { code, rows };
  } finally {
    db.close();
  }
}
