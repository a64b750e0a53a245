/**
 * Bar timeframes: daily bars as stored, and weekly and monthly bars resampled from them. A week is a
 * calendar week from Monday to Sunday and a month a calendar month; the bar of a period holds the trading
 * days of that period and is dated by its last trading day (so a week with a holiday on Friday ends on
 * Thursday, and the current, unfinished week ends on the latest day there is). OHLCV resample as every
 * charting package does: open of the first day, highest high, lowest low, close of the last day, summed
 * volume. ml-service resamples closes the same way over its typed arrays (ml-service/src/market/bars.ts); this
 * function is the one for price rows (the chart's candles).
 */
import { z } from 'zod';
import type { PriceRow } from './store.js';

export const timeframeSchema = z.enum(['D', 'W', 'M'], {
  error: 'timeframe must be "D" (daily), "W" (weekly) or "M" (monthly)',
});
export type Timeframe = z.infer<typeof timeframeSchema>;

const MS_PER_DAY = 86_400_000;

/**
 * The key of the period an ISO date falls in: the date itself (D), the ISO date of its week's Monday (W)
 * or 'YYYY-MM' (M). Two dates share a bar iff their keys are equal.
 */
export function periodKey(isoDate: string, timeframe: Timeframe): string {
  if (timeframe === 'D') return isoDate;
  if (timeframe === 'M') return isoDate.slice(0, 7);
  const ms = Date.parse(`${isoDate}T00:00:00Z`);
  // getUTCDay: 0 = Sunday .. 6 = Saturday; days back to Monday: (day + 6) % 7.
  const back = (new Date(ms).getUTCDay() + 6) % 7;
  return new Date(ms - back * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Daily rows (sorted by date) resampled into bars of `timeframe`; D returns the rows as they are. */
export function resamplePriceRows(rows: readonly PriceRow[], timeframe: Timeframe): PriceRow[] {
  if (timeframe === 'D') return [...rows];
  const out: PriceRow[] = [];
  let key = '';
  for (const row of rows) {
    const k = periodKey(row.date, timeframe);
    const bar = out[out.length - 1];
    if (bar && k === key) {
      bar.date = row.date;
      if (row.high > bar.high) bar.high = row.high;
      if (row.low < bar.low) bar.low = row.low;
      bar.close = row.close;
      bar.volume += row.volume;
    } else {
      out.push({ ...row });
      key = k;
    }
  }
  return out;
}

/** How a timeframe's bars are named in messages ("50 weekly bars"). */
export const TIMEFRAME_BAR_NAMES: Record<Timeframe, string> = {
  D: 'trading days',
  W: 'weekly bars',
  M: 'monthly bars',
};
