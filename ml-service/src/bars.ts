/**
 * The market in weekly and monthly bars: the daily market resampled once per data version (on first use,
 * or when MarketState warms it after a load) and kept beside it for as long as that data serves, so a W or
 * M search runs the same plan, kernels and workers over arrays ~5x and ~21x shorter than the daily ones.
 *
 * A bar holds the trading days of one calendar week (Monday..Sunday) or month and is dated by its last
 * trading day; its close is that day's close (contracts/src/timeframe.ts resamples full OHLCV rows the
 * same way for the chart). Only closes and days are resampled: search reads nothing else.
 */
import type { Timeframe } from '@resemble/contracts';
import { buildDerived, type MarketArrays, type MarketData } from './market-data.js';

/**
 * The number of the period `day` (days since 1970-01-01) falls in: weeks counted from the Monday
 * 1969-12-29 (day -3), months as year * 12 + month - 1 (civil-from-days, H. Hinnant's algorithm, in
 * integers, so a pass over 20 M rows allocates nothing).
 */
export function periodOfDay(day: number, timeframe: Timeframe): number {
  if (timeframe === 'D') return day;
  if (timeframe === 'W') return Math.floor((day + 3) / 7);
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 12 + month - 1;
}

/** The daily arrays resampled to bars of `timeframe` (W or M), with every derived array search uses. */
export function resampleArrays(daily: MarketArrays, timeframe: 'W' | 'M'): MarketArrays {
  const { offsets, closes, days } = daily;
  const entities = offsets.length - 1;
  // Pass 1: bars per entity (a bar ends where the next row falls in another period, or at the entity's end).
  const barOffsets = new Int32Array(new SharedArrayBuffer((entities + 1) * 4));
  for (let e = 0; e < entities; e++) {
    const a = offsets[e]!;
    const b = offsets[e + 1]!;
    let bars = 0;
    for (let r = a; r < b; r++) {
      if (r + 1 === b || periodOfDay(days[r + 1]!, timeframe) !== periodOfDay(days[r]!, timeframe)) bars++;
    }
    barOffsets[e + 1] = barOffsets[e]! + bars;
  }
  const points = barOffsets[entities]!;
  // Pass 2: each bar's close and day are those of its period's last row.
  const barCloses = new Float64Array(Math.max(1, points));
  const barDays = new Int32Array(new SharedArrayBuffer(Math.max(1, points) * 4));
  for (let e = 0; e < entities; e++) {
    const a = offsets[e]!;
    const b = offsets[e + 1]!;
    let at = barOffsets[e]!;
    for (let r = a; r < b; r++) {
      if (r + 1 === b || periodOfDay(days[r + 1]!, timeframe) !== periodOfDay(days[r]!, timeframe)) {
        barCloses[at] = closes[r]!;
        barDays[at] = days[r]!;
        at++;
      }
    }
  }
  return buildDerived(barOffsets, barCloses, barDays);
}

/** Arrays made here: resampling them again would be a bug (bars of bars), so barArrays refuses them. */
const resampled = new WeakSet<MarketArrays>();

/** Resampled arrays per daily arrays object: one data version's bars live and die with its daily data. */
const arraysCache = new WeakMap<MarketArrays, Map<Timeframe, MarketArrays>>();
const marketCache = new WeakMap<MarketArrays, Map<Timeframe, MarketData>>();

/** The arrays of `timeframe` for these daily arrays (the daily ones for D), resampled on first use. */
export function barArrays(daily: MarketArrays, timeframe: Timeframe): MarketArrays {
  if (timeframe === 'D') return daily;
  if (resampled.has(daily)) throw new Error('barArrays takes the daily market, not one already resampled');
  let byTf = arraysCache.get(daily);
  if (!byTf) {
    byTf = new Map();
    arraysCache.set(daily, byTf);
  }
  let arrays = byTf.get(timeframe);
  if (!arrays) {
    arrays = resampleArrays(daily, timeframe);
    resampled.add(arrays);
    byTf.set(timeframe, arrays);
  }
  return arrays;
}

/** The market in bars of `timeframe`: the daily market's entities and version over the resampled arrays. */
export function marketOf(daily: MarketData, timeframe: Timeframe): MarketData {
  if (timeframe === 'D') return daily;
  let byTf = marketCache.get(daily);
  if (!byTf) {
    byTf = new Map();
    marketCache.set(daily, byTf);
  }
  let market = byTf.get(timeframe);
  if (!market) {
    const arrays = barArrays(daily, timeframe);
    market = { ...daily, ...arrays, points: arrays.offsets[daily.entities]! };
    resampled.add(market);
    byTf.set(timeframe, market);
  }
  return market;
}
