/**
 * Chart window selection: pure functions turning a drag (logical bar positions from the chart) or a
 * preset (N trading days ending at a date) into a window of whole trading days, 8..500 bars long
 * (the ml-service query limits).
 */
export const MIN_WINDOW = 8;
export const MAX_WINDOW = 500;
export const PRESET_DAYS = [30, 60, 120, 250] as const;

export interface WindowSel {
  startIndex: number;
  endIndex: number;
}

export type SelectionResult =
  { ok: true; window: WindowSel } | { ok: false; reason: 'too_few_bars' | 'date_out_of_range' };

/** Index of the last trading day on or before `date` in ascending ISO `dates`; -1 if none. */
export function indexOnOrBefore(dates: readonly string[], date: string): number {
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

/** Index of the first trading day on or after `date`; -1 if none. */
export function indexOnOrAfter(dates: readonly string[], date: string): number {
  const i = indexOnOrBefore(dates, date);
  if (i >= 0 && dates[i] === date) return i;
  return i + 1 < dates.length ? i + 1 : -1;
}

/**
 * Fit [lo, hi] into [0, n-1] and into MIN..MAX bars. A too-short drag grows rightwards first (the
 * user marked where the pattern starts), then leftwards at the data's end; a too-long one keeps its
 * end, because the most recent part of a pattern is what the forecast continues from.
 */
export function clampWindow(lo: number, hi: number, n: number): SelectionResult {
  if (n < MIN_WINDOW) return { ok: false, reason: 'too_few_bars' };
  let a = Math.max(0, Math.min(lo, hi));
  let b = Math.min(n - 1, Math.max(lo, hi));
  if (a > n - 1) a = n - 1;
  if (b < 0) b = 0;
  if (b - a + 1 < MIN_WINDOW) {
    b = Math.min(n - 1, a + MIN_WINDOW - 1);
    a = Math.max(0, b - MIN_WINDOW + 1);
  }
  if (b - a + 1 > MAX_WINDOW) a = b - MAX_WINDOW + 1;
  return { ok: true, window: { startIndex: a, endIndex: b } };
}

/** A drag between two logical positions (fractional bar indices from the chart) snapped to bars. */
export function windowFromLogical(from: number, to: number, n: number): SelectionResult {
  if (!Number.isFinite(from) || !Number.isFinite(to)) return { ok: false, reason: 'date_out_of_range' };
  return clampWindow(Math.round(Math.min(from, to)), Math.round(Math.max(from, to)), n);
}

/** A drag in pixels, given the chart's pixel→logical mapping (null off the data). */
export function windowFromPixels(
  x1: number,
  x2: number,
  toLogical: (x: number) => number | null,
  n: number,
): SelectionResult {
  const a = toLogical(x1);
  const b = toLogical(x2);
  if (a === null || b === null) return { ok: false, reason: 'date_out_of_range' };
  return windowFromLogical(a, b, n);
}

/** `days` trading days ending at the last trading day on or before `endDate`. */
export function windowFromPreset(dates: readonly string[], days: number, endDate: string): SelectionResult {
  const end = indexOnOrBefore(dates, endDate);
  if (end < 0) return { ok: false, reason: 'date_out_of_range' };
  const len = Math.min(Math.max(Math.round(days), MIN_WINDOW), MAX_WINDOW);
  const start = Math.max(0, end - len + 1);
  return clampWindow(start, end, dates.length);
}

export function windowDates(
  dates: readonly string[],
  w: WindowSel,
): { start: string; end: string; length: number } {
  return { start: dates[w.startIndex]!, end: dates[w.endIndex]!, length: w.endIndex - w.startIndex + 1 };
}
