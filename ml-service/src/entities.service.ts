/** Entity lookup for the stock picker, and a stock's full prices read read-only from its file on demand. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ENTITIES_DIR,
  entityFileName,
  resamplePriceRows,
  type EntitySummary,
  type PriceRow,
  type Timeframe,
} from '@resemble/contracts';
import { notFound } from './errors.js';
import { dayToIso, type MarketData } from './market-data.js';

function summary(data: MarketData, e: number): EntitySummary {
  const a = data.offsets[e]!;
  const b = data.offsets[e + 1]!;
  return {
    code: data.codes[e]!,
    name: data.names[e]!,
    market: data.markets[e]!,
    currency: data.currencies[e]!,
    firstDate: b > a ? dayToIso(data.days[a]!) : '1970-01-01',
    lastDate: b > a ? dayToIso(data.days[b - 1]!) : '1970-01-01',
    rows: b - a,
  };
}

/** Code or name prefix, case-insensitive: exact code first, then code prefixes, then name prefixes. */
export function searchEntities(data: MarketData, q: string, limit: number): EntitySummary[] {
  const needle = q.trim().toLowerCase();
  const ranked: [number, number][] = [];
  for (let e = 0; e < data.entities; e++) {
    const code = data.codes[e]!.toLowerCase();
    const name = data.names[e]!.toLowerCase();
    let rank = -1;
    if (needle === '' || code === needle) rank = 0;
    else if (code.startsWith(needle)) rank = 1;
    else if (name.startsWith(needle) || name.split(/\s+/).some((w) => w.startsWith(needle))) rank = 2;
    if (rank >= 0) ranked.push([rank, e]);
  }
  ranked.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  return ranked.slice(0, limit).map(([, e]) => summary(data, e));
}

export function readPrices(
  data: MarketData,
  code: string,
  from: string | undefined,
  to: string | undefined,
  timeframe: Timeframe = 'D',
): { code: string; timeframe: Timeframe; rows: PriceRow[] } {
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
    // Bars of the range's days: a week or month cut by `from` or `to` holds only the days inside it.
    return { code, timeframe, rows: resamplePriceRows(rows, timeframe) };
  } finally {
    db.close();
  }
}
