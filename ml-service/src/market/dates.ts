const MS_PER_DAY = 86_400_000;

// Answers turn a few dozen trading days into strings each; the days come from the data (a few tens of
// thousands at most), so remembering them is cheaper than formatting a Date every time.
const isoMemo = new Map<number, string>();
const ISO_MEMO_MAX = 100_000;

export function dayToIso(day: number): string {
  let iso = isoMemo.get(day);
  if (iso === undefined) {
    iso = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    if (isoMemo.size < ISO_MEMO_MAX) isoMemo.set(day, iso);
  }
  return iso;
}

/**
 * Strict 'YYYY-MM-DD' → days since 1970-01-01 (UTC) without allocating: days-from-civil (H. Hinnant's
 * algorithm). Returns NaN for anything that is not a real calendar date.
 */
export function isoToDay(s: string): number {
  return s.length === 10 ? parseIsoDayAt(s, 0) : NaN;
}

/** isoToDay of the 10 characters of s from `at` (the loader reads a store's dates as one string). */
export function parseIsoDayAt(s: string, at: number): number {
  if (s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return NaN;
  const y0 = digits(s, at, 4);
  const m = digits(s, at + 5, 2);
  const day = digits(s, at + 8, 2);
  if (!(m >= 1 && m <= 12 && day >= 1)) return NaN; // NaN from a non-digit fails here too
  const leap = (y0 % 4 === 0 && y0 % 100 !== 0) || y0 % 400 === 0;
  if (day > (m === 2 ? (leap ? 29 : 28) : MONTH_DAYS[m - 1]!)) return NaN;
  let y = y0;
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The decimal number in s[from, from + count), or NaN if any character is not a digit. */
function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}
