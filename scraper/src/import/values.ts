/**
 * Cell → value conversion. Anything that cannot be converted becomes NaN or is passed through as
 * text, so the store's validator rejects the row with a reason instead of the import failing.
 */

/** A number from a CSV field or spreadsheet cell; '' and junk become NaN ("1,234.5" is accepted). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === '') return Number.NaN;
    const n = +v;
    if (!Number.isNaN(n)) return n;
    const t = v.trim().replace(/,/g, '');
    return t === '' ? Number.NaN : +t;
  }
  if (v && typeof v === 'object') {
    const o = v as { result?: unknown; text?: unknown };
    if ('result' in o) return toNumber(o.result);
    if ('text' in o) return toNumber(o.text);
  }
  return Number.NaN;
}

function pad2(s: string): string {
  return s.length === 1 ? `0${s}` : s;
}

/** Excel's 1900 date system: serial 25569 is 1970-01-01 (the 1900 leap-year bug sits before 1900-03-01). */
export function excelSerialToIso(serial: number): string {
  return new Date(Math.round((serial - 25569) * 86400_000)).toISOString().slice(0, 10);
}

/**
 * YYYY-MM-DD stays as is (checked later); YYYY/MM/DD and YYYY/M/D are padded; spreadsheet date cells
 * (Date objects, whose UTC fields carry the calendar date) and date serial numbers are converted.
 */
export function toIsoDate(v: unknown): string {
  if (typeof v === 'string') {
    if (v.length === 10 && v.charCodeAt(4) === 45) return v;
    const s = v.trim();
    const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(s);
    if (m) return `${m[1]}-${pad2(m[2])}-${pad2(m[3])}`;
    return s;
  }
  if (v instanceof Date)
    return Number.isNaN(v.getTime()) ? 'invalid Date cell' : v.toISOString().slice(0, 10);
  if (typeof v === 'number' && v > 0 && v < 2958466) return excelSerialToIso(v);
  if (v && typeof v === 'object') {
    const o = v as { result?: unknown; text?: unknown };
    if ('result' in o) return toIsoDate(o.result);
    if ('text' in o) return toIsoDate(o.text);
  }
  return String(v ?? '');
}

export function toText(v: unknown): string {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as { result?: unknown; text?: unknown; richText?: { text: string }[] };
    if (Array.isArray(o.richText))
      return o.richText
        .map((t) => t.text)
        .join('')
        .trim();
    if ('result' in o) return toText(o.result);
    if ('text' in o) return toText(o.text);
  }
  return v == null ? '' : String(v).trim();
}

/** Exact powers of ten: every one up to 1e22 is representable as a double. */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * Plain decimals ("-12.345", at most 15 digits) in v[start, end) by char-code arithmetic, NaN for
 * anything else.
 * Same result as `+v`: the digits form an exact integer below 2^53 and 10^k is exact, so one IEEE
 * division is correctly rounded, like strtod (Clinger's fast path). `+v` was the parser thread's
 * second-biggest cost.
 */
export function parsePlainDecimal(v: string, start = 0, end = v.length): number {
  const len = end;
  let i = start;
  const neg = i < len && v.charCodeAt(i) === 45;
  if (neg) i++;
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < len; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d >>> 0 <= 9) {
      m = m * 10 + d;
      digits++;
    } else if (d === -2 && frac === -1) {
      // '.' (46): digits from here on are fractional.
      frac = digits;
    } else {
      return Number.NaN;
    }
  }
  if (digits === 0 || digits > 15 || frac === 0 || frac === digits) return Number.NaN;
  const k = frac === -1 ? 0 : digits - frac;
  return neg ? -m / POW10[k] : m / POW10[k];
}

/** Hot path for CSV text: plain numbers directly, anything else through toNumber. */
export function parseNumber(v: unknown): number {
  if (typeof v === 'string' && v !== '') {
    const p = parsePlainDecimal(v);
    if (p === p) return p;
    const n = +v;
    if (n === n) return n;
  }
  return toNumber(v);
}

/** Hot path for CSV text: ISO dates as they are, anything else through toIsoDate. */
export function parseDate(v: unknown): string {
  return typeof v === 'string' && v.length === 10 && v.charCodeAt(4) === 45 ? v : toIsoDate(v);
}
