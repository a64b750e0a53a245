/**
 * Adapts the service's MarketData (one concatenated array) to the per-entity SeriesSource the predictors,
 * trainer and backtest read. Closes are zero-copy subarrays; ISO dates are built once per entity on first
 * use and cached with the MarketData object, so a data reload drops them with the old data.
 */
import { dayToIso, type MarketData } from '../market/market-data.js';
import type { EntitySeries, SeriesSource } from './series.js';

const cache = new WeakMap<MarketData, SeriesSource>();

export function seriesSource(data: MarketData): SeriesSource {
  const hit = cache.get(data);
  if (hit) return hit;
  // Stocks share trading days: format each distinct day once (toISOString is the slow part).
  const isoOfDay = new Map<number, string>();
  const iso = (day: number) => {
    let text = isoOfDay.get(day);
    if (text === undefined) {
      text = dayToIso(day);
      isoOfDay.set(day, text);
    }
    return text;
  };
  const entities: EntitySeries[] = data.codes.map((code, e) => {
    const a = data.offsets[e]!;
    const b = data.offsets[e + 1]!;
    let dates: string[] | null = null;
    return {
      code,
      closes: data.closes.subarray(a, b),
      get dates(): string[] {
        if (!dates) {
          dates = new Array<string>(b - a);
          for (let r = a; r < b; r++) dates[r - a] = iso(data.days[r]!);
        }
        return dates;
      },
    };
  });
  const source: SeriesSource = {
    dataVersion: data.dataVersion,
    entities,
    byCode: (code) => {
      const e = data.codeIndex.get(code);
      return e === undefined ? undefined : entities[e];
    },
  };
  cache.set(data, source);
  return source;
}
