/**
 * Market-wide base rate of "up over the horizon" as known on a date: the share of all windows (any entity)
 * whose forward period ended on or before that date with a positive forward return. Built once per source
 * and horizon (distinct forward-end dates with prefix counts), then each lookup is a binary search.
 */
import type { SeriesSource } from './series.js';

interface BaseRateIndex {
  /** Distinct forward-end dates, ascending, with prefix counts of all and of up windows. */
  endDates: string[];
  allPrefix: Float64Array;
  upPrefix: Float64Array;
}

const cache = new WeakMap<SeriesSource, Map<number, BaseRateIndex>>();

function buildIndex(source: SeriesSource, horizon: number): BaseRateIndex {
  // A market has few distinct dates (≈ 250 a year) but millions of windows: count per date, then sort dates.
  const perDate = new Map<string, { all: number; up: number }>();
  for (const entity of source.entities) {
    const { dates, closes } = entity;
    for (let e = 0; e + horizon < dates.length; e++) {
      const date = dates[e + horizon]!;
      let cell = perDate.get(date);
      if (!cell) {
        cell = { all: 0, up: 0 };
        perDate.set(date, cell);
      }
      cell.all++;
      if (closes[e + horizon]! > closes[e]!) cell.up++;
    }
  }
  const endDates = [...perDate.keys()].sort();
  const allPrefix = new Float64Array(endDates.length + 1);
  const upPrefix = new Float64Array(endDates.length + 1);
  endDates.forEach((date, i) => {
    const cell = perDate.get(date)!;
    allPrefix[i + 1] = allPrefix[i]! + cell.all;
    upPrefix[i + 1] = upPrefix[i]! + cell.up;
  });
  return { endDates, allPrefix, upPrefix };
}

/** Share of up windows whose forward period ended on or before `asOf` (all of them when null); null if none. */
export function baseRateUpAsOf(source: SeriesSource, horizon: number, asOf: string | null): number | null {
  let perHorizon = cache.get(source);
  if (!perHorizon) {
    perHorizon = new Map();
    cache.set(source, perHorizon);
  }
  let index = perHorizon.get(horizon);
  if (!index) {
    index = buildIndex(source, horizon);
    perHorizon.set(horizon, index);
  }
  const { endDates, allPrefix, upPrefix } = index;
  let count = endDates.length;
  if (asOf !== null) {
    let lo = 0;
    let hi = endDates.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (endDates[mid]! <= asOf) lo = mid + 1;
      else hi = mid;
    }
    count = lo;
  }
  return allPrefix[count]! === 0 ? null : upPrefix[count]! / allPrefix[count]!;
}
