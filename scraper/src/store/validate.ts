/**
 * Row validation for the store. Mirrors contracts' priceRowSchema/isoDateSchema with plain code because
 * it runs once per row on imports of millions of rows, where zod would dominate the profile.
 */
import type { PriceRow } from '@resemble/contracts';

/** A row as callers hand it to the store, before validation. Numbers may be NaN (unparseable cells). */
export type RowInput = PriceRow;

export type RejectReason =
  | 'invalid_date'
  | 'future_date'
  | 'invalid_number'
  | 'non_positive_price'
  | 'ohlc_inconsistent'
  | 'invalid_volume'
  | 'duplicate_date';

export interface RejectedRow {
  date: string;
  reason: RejectReason;
  detail: string;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** True for a real calendar date written exactly as YYYY-MM-DD (years 1800..9999). */
export function isIsoDate(s: string): boolean {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  // Char-code arithmetic: this runs once per imported row, and slicing + Number() showed in profiles.
  const y0 = s.charCodeAt(0) - 48;
  const y1 = s.charCodeAt(1) - 48;
  const y2 = s.charCodeAt(2) - 48;
  const y3 = s.charCodeAt(3) - 48;
  const m0 = s.charCodeAt(5) - 48;
  const m1 = s.charCodeAt(6) - 48;
  const d0 = s.charCodeAt(8) - 48;
  const d1 = s.charCodeAt(9) - 48;
  // `>>> 0` turns a negative (a char below '0') into a huge number, so one comparison checks both ends.
  if (y0 >>> 0 > 9 || y1 >>> 0 > 9 || y2 >>> 0 > 9 || y3 >>> 0 > 9) return false;
  if (m0 >>> 0 > 9 || m1 >>> 0 > 9 || d0 >>> 0 > 9 || d1 >>> 0 > 9) return false;
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const m = m0 * 10 + m1;
  const d = d0 * 10 + d1;
  if (y < 1800 || m < 1 || m > 12 || d < 1) return false;
  const max = m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1];
  return d <= max;
}

/**
 * The latest date that is not "in the future": today in UTC+14, the earliest time zone, so a Tokyo
 * close stored just after midnight JST (still yesterday in UTC) is not refused.
 */
export function latestAllowedDate(now: Date = new Date()): string {
  return new Date(now.getTime() + 14 * 3600_000).toISOString().slice(0, 10);
}

/** Returns the reason a row is invalid, or null when it is good. Volume must already be an integer. */
export function checkRow(r: RowInput, maxDate: string): RejectedRow | null {
  const date = r.date;
  if (!isIsoDate(date))
    return { date, reason: 'invalid_date', detail: `not a real YYYY-MM-DD date: "${date}"` };
  if (date > maxDate) return { date, reason: 'future_date', detail: `${date} is in the future` };
  const { open, high, low, close, volume } = r;
  if (!Number.isFinite(open) || !Number.isFinite(high) || !Number.isFinite(low) || !Number.isFinite(close)) {
    return { date, reason: 'invalid_number', detail: 'open/high/low/close must be numbers' };
  }
  if (open <= 0 || high <= 0 || low <= 0 || close <= 0) {
    return {
      date,
      reason: 'non_positive_price',
      detail: `prices must be > 0 (o=${open} h=${high} l=${low} c=${close})`,
    };
  }
  if (low > open || low > close || open > high || close > high) {
    return {
      date,
      reason: 'ohlc_inconsistent',
      detail: `need low <= open,close <= high (o=${open} h=${high} l=${low} c=${close})`,
    };
  }
  if (!Number.isInteger(volume) || volume < 0) {
    return { date, reason: 'invalid_volume', detail: `volume must be an integer >= 0 (got ${volume})` };
  }
  return null;
}

/**
 * Splits rows into good rows (sorted by date) and rejected rows. A date seen twice in one batch is
 * ambiguous, so every copy after the first is rejected and the first one kept.
 */
export function validateRows(
  rows: readonly RowInput[],
  now: Date = new Date(),
): { good: RowInput[]; rejected: RejectedRow[] } {
  const maxDate = latestAllowedDate(now);
  const good: RowInput[] = [];
  const rejected: RejectedRow[] = [];
  // Input is nearly always sorted by date: then a duplicate equals the previous good date and no set
  // is needed. The first out-of-order row switches to a set of every good date.
  let seen: Set<string> | null = null;
  let prev = '';
  for (const r of rows) {
    const bad = checkRow(r, maxDate);
    if (bad) {
      rejected.push(bad);
      continue;
    }
    const date = r.date;
    if (seen === null) {
      if (date > prev) {
        prev = date;
        good.push(r);
        continue;
      }
      if (date < prev) seen = new Set(good.map((g) => g.date));
    }
    if (date === prev || seen?.has(date)) {
      rejected.push({ date, reason: 'duplicate_date', detail: `date ${date} appears more than once` });
      continue;
    }
    seen?.add(date);
    good.push(r);
  }
  if (seen !== null) good.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return { good, rejected };
}
