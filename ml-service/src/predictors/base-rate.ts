/**
 * Market-wide base rate of "up over the horizon" as known on a date: the share of all windows (any entity)
 * whose forward period ended on or before that date with a positive forward return. Built once per source
 * and horizon (a sorted list of forward-end dates with prefix counts), then each lookup is a binary search.
 */
import type { SeriesSource } from './series.js';

interface BaseRateIndex {
  endDates: string[];
  upPrefix: Int32Array;
}

const cache = new WeakMap<SeriesSource, Map<number, BaseRateIndex>>();

function buildIndex(source: SeriesSource, horizon: number): BaseRateIndex {
  const pairs: { date: string; up: boolean }[] = [];
  for (const entity of source.entities) {
    const { dates, closes } = entity;
    for (let e = 0; e + horizon < dates.length; e++) {
      pairs.push({ date: dates[e + horizon]!, up: closes[e + horizon]! > closes[e]! });
    }
  }
  pairs.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const upPrefix = new Int32Array(pairs.length + 1);
  for (let i = 0; i < pairs.length; i++) upPrefix[i + 1] = upPrefix[i]! + (pairs[i]!.up ? 1 : 0);
  return { endDates: pairs.map((p) => p.date), upPrefix };
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
  const { endDates, upPrefix } = index;
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
  return count === 0 ? null : upPrefix[count]! / count;
}
