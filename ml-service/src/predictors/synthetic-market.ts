/**
 * Seeded synthetic markets held in memory as MarketData, for the predictor and backtest tests (the
 * store's files are exercised by the service's own tests; here only the numbers matter).
 */
import { minimalCompany } from '@resemble/contracts/store-layout';
import { buildDerived, isoToDay, type MarketData } from '../market/market-data.js';
import { mulberry32 } from './random.js';

export interface SyntheticEntity {
  code: string;
  dates: string[];
  closes: number[];
}

/** Monday-to-Friday dates from `start`. */
export function businessDates(start: string, count: number): string[] {
  const out: string[] = [];
  let t = Date.parse(`${start}T00:00:00Z`);
  while (out.length < count) {
    const day = new Date(t).getUTCDay();
    if (day !== 0 && day !== 6) out.push(new Date(t).toISOString().slice(0, 10));
    t += 86_400_000;
  }
  return out;
}

/** Geometric random walks with a little drift, one per code, with different start dates and lengths. */
export function randomWalkEntities(seed: number, count: number, length: number): SyntheticEntity[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, k) => {
    const n = length - Math.floor(random() * (length / 5));
    const dates = businessDates(k % 2 ? '2000-01-03' : '2000-02-01', n);
    let c = 20 + random() * 80;
    const closes = dates.map(() => {
      c *= Math.exp((random() - 0.495) * 0.04);
      return Math.round(c * 1e4) / 1e4;
    });
    return { code: `S${String(k).padStart(3, '0')}`, dates, closes };
  });
}

export function marketFromEntities(entities: SyntheticEntity[], dataVersion = 'synthetic-1'): MarketData {
  const sorted = [...entities].sort((a, b) => (a.code < b.code ? -1 : 1));
  const points = sorted.reduce((s, e) => s + e.closes.length, 0);
  const offsets = new Int32Array(sorted.length + 1);
  const closes = new Float64Array(points);
  const days = new Int32Array(points);
  let at = 0;
  sorted.forEach((e, i) => {
    offsets[i] = at;
    e.closes.forEach((c, k) => {
      closes[at + k] = c;
      days[at + k] = isoToDay(e.dates[k]!);
    });
    at += e.closes.length;
  });
  offsets[sorted.length] = at;
  const codes = sorted.map((e) => e.code);
  return {
    ...buildDerived(offsets, closes, days),
    dataDir: '(memory)',
    dataVersion,
    loadedAt: new Date(0).toISOString(),
    codes,
    names: codes,
    markets: codes.map(() => 'US'),
    currencies: codes.map(() => 'USD'),
    codeIndex: new Map(codes.map((c, i) => [c, i])),
    companies: new Map(codes.map((code) => [code, minimalCompany({ code, name: code, market: 'US' })])),
    entities: codes.length,
    points,
  };
}
