/**
 * The read-only view of the store the predictors, the trainer and the backtest work on: per entity, its
 * dates and adjusted closes in date order. Kept this narrow so tests can build one from plain arrays.
 */
export interface EntitySeries {
  code: string;
  /** ISO dates, ascending, one per row. */
  dates: readonly string[];
  closes: ArrayLike<number>;
}

export interface SeriesSource {
  dataVersion: string;
  entities: readonly EntitySeries[];
  byCode(code: string): EntitySeries | undefined;
}

export function seriesSourceFromArrays(dataVersion: string, entities: readonly EntitySeries[]): SeriesSource {
  const index = new Map(entities.map((e) => [e.code, e]));
  return { dataVersion, entities, byCode: (code) => index.get(code) };
}

/** Index of the last row dated on or before `date`, or -1. Dates are ISO strings, so they compare as text. */
export function lastIndexOnOrBefore(dates: readonly string[], date: string): number {
  let lo = 0;
  let hi = dates.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid]! <= date) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Index of the first row dated on or after `date`, or dates.length. */
export function firstIndexOnOrAfter(dates: readonly string[], date: string): number {
  let lo = 0;
  let hi = dates.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (dates[mid]! < date) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
