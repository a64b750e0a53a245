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
 * The first day of the period after the one `day` falls in (days since 1970-01-01): the next Monday (W;
 * week 0 starts on Monday 1969-12-29, day -3) or the 1st of the next month (M), by H. Hinnant's
 * civil-from-days and days-from-civil in integers. Called once per bar, not per row.
 */
export function nextPeriodStart(day: number, timeframe: 'W' | 'M'): number {
  if (timeframe === 'W') return (Math.floor((day + 3) / 7) + 1) * 7 - 3;
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153); // March = 0 .. February = 11
  // The 1st of the next month, in the same March-based year unless this is February.
  const nextMp = mp + 1;
  const y = yoe + era * 400 + (nextMp === 12 ? 1 : 0);
  const m = nextMp % 12;
  const e = Math.floor(y / 400);
  const ye = y - e * 400;
  const firstDoy = Math.floor((153 * m + 2) / 5);
  return e * 146097 + ye * 365 + Math.floor(ye / 4) - Math.floor(ye / 100) + firstDoy - 719468;
}

/**
 * Calls `bar(lastRow)` for each bar of rows [a, b) (days ascending), in order: a bar ends at the row
 * before the first row on or after its period's end, or at b - 1.
 */
function forEachBar(
  days: Int32Array,
  a: number,
  b: number,
  timeframe: 'W' | 'M',
  bar: (last: number) => void,
) {
  let r = a;
  while (r < b) {
    const end = nextPeriodStart(days[r]!, timeframe);
    while (r + 1 < b && days[r + 1]! < end) r++;
    bar(r);
    r++;
  }
}

/** The daily arrays resampled to bars of `timeframe` (W or M), with every derived array search uses. */
export function resampleArrays(daily: MarketArrays, timeframe: 'W' | 'M'): MarketArrays {
  const { offsets, closes, days } = daily;
  const entities = offsets.length - 1;
  // Pass 1: bars per entity.
  const barOffsets = new Int32Array(new SharedArrayBuffer((entities + 1) * 4));
  for (let e = 0; e < entities; e++) {
    let bars = 0;
    forEachBar(days, offsets[e]!, offsets[e + 1]!, timeframe, () => bars++);
    barOffsets[e + 1] = barOffsets[e]! + bars;
  }
  const points = barOffsets[entities]!;
  // Pass 2: each bar's close and day are those of its period's last row.
  const barCloses = new Float64Array(Math.max(1, points));
  const barDays = new Int32Array(new SharedArrayBuffer(Math.max(1, points) * 4));
  let at = 0;
  for (let e = 0; e < entities; e++) {
    forEachBar(days, offsets[e]!, offsets[e + 1]!, timeframe, (last) => {
      barCloses[at] = closes[last]!;
      barDays[at] = days[last]!;
      at++;
    });
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
