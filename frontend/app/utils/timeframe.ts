/**
 * Bar timeframes in the search UI: daily, weekly and monthly candles (resampled by ml-service, each bar
 * dated by its last trading day). The window, its presets and the look-ahead count bars of the chosen
 * timeframe, as the search does.
 */
import type { Timeframe } from '@resemble/contracts';
import {
  clampWindow,
  indexOnOrAfter,
  indexOnOrBefore,
  type SelectionResult,
  type WindowSel,
} from './selection';

export const TIMEFRAMES: readonly Timeframe[] = ['D', 'W', 'M'];

/** Window presets in bars: about 1.5 months .. a year of days; half a year .. 3 years of weeks; 1..10 years of months. */
export const PRESET_BARS: Record<Timeframe, readonly number[]> = {
  D: [30, 60, 120, 250],
  W: [26, 52, 104, 156],
  M: [12, 24, 60, 120],
};

/** Look-ahead choices in bars, and the default of each timeframe (about a month, a quarter, half a year). */
export const HORIZON_BARS: Record<Timeframe, readonly number[]> = {
  D: [5, 10, 20, 60],
  W: [4, 8, 13, 26],
  M: [3, 6, 12, 24],
};
export const DEFAULT_HORIZON: Record<Timeframe, number> = { D: 20, W: 8, M: 6 };
export const DEFAULT_PRESET: Record<Timeframe, number> = { D: 60, W: 52, M: 24 };

export function isTimeframe(v: unknown): v is Timeframe {
  return v === 'D' || v === 'W' || v === 'M';
}

/**
 * The selection carried over to another timeframe's bars of the same daily rows. A bar is dated by the last
 * trading day of its period, so the window begins at the first new bar dated after the old window's
 * preceding bar (the start of the data if there is none) and ends at the first new bar dated on or after
 * its last bar: D -> W takes the weeks holding the selected days, W -> D all the days of the selected
 * weeks. Clamped to the window limits.
 */
export function carrySelection(
  fromDates: readonly string[],
  toDates: readonly string[],
  sel: WindowSel,
): SelectionResult {
  const endDate = fromDates[sel.endIndex];
  if (endDate === undefined || sel.startIndex > sel.endIndex)
    return { ok: false, reason: 'date_out_of_range' };
  const start = sel.startIndex === 0 ? 0 : indexOnOrAfter(toDates, nextDay(fromDates[sel.startIndex - 1]!));
  let end = indexOnOrAfter(toDates, endDate);
  if (end < 0) end = indexOnOrBefore(toDates, endDate);
  if (start < 0 || end < 0) return { ok: false, reason: 'date_out_of_range' };
  return clampWindow(Math.min(start, end), end, toDates.length);
}

function nextDay(iso: string): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
