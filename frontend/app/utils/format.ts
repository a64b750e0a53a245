/** Locale-aware display helpers; `locale` is the i18n code ('ja' | 'en'). */
export type UiLocale = 'ja' | 'en';

const tag = (locale: string) => (locale === 'en' ? 'en-US' : 'ja-JP');

// Building an Intl formatter costs far more than using one (locale data is resolved each time), and
// lists of dates and numbers ask for the same few over and over: each is built once per locale and options.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();
function numberFormat(locale: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${tag(locale)} ${JSON.stringify(opts)}`;
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(tag(locale), opts)));
  return f;
}
function dateFormat(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${tag(locale)} ${JSON.stringify(opts)}`;
  let f = dateFormats.get(key);
  if (!f) dateFormats.set(key, (f = new Intl.DateTimeFormat(tag(locale), opts)));
  return f;
}

export function formatPercent(
  x: number | null | undefined,
  locale: string,
  opts: { signed?: boolean; digits?: number } = {},
): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return numberFormat(locale, {
    style: 'percent',
    minimumFractionDigits: opts.digits ?? 1,
    maximumFractionDigits: opts.digits ?? 1,
    signDisplay: opts.signed ? 'exceptZero' : 'auto',
  }).format(x);
}

export function formatJpy(amount: number, locale: string): string {
  return numberFormat(locale, {
    style: 'currency',
    currency: 'JPY',
    currencyDisplay: locale === 'en' ? 'code' : 'symbol',
    maximumFractionDigits: 0,
  }).format(amount);
}

const EN_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * ISO date (YYYY-MM-DD) → "2018年2月7日" / "Feb 7, 2018"; parsed as UTC so no timezone shifts a day.
 * Written out rather than Intl.DateTimeFormat: the first such formatter a page builds loads the locale's
 * date patterns, about 0.2 s on Lighthouse's slowed phone CPU on /app (decision 138). Tested against
 * Intl (ja-JP, en-US, month 'short') on every day of several decades.
 */
export function formatDate(iso: string, locale: string): string {
  const d = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return iso;
  const year = d.getUTCFullYear();
  const day = d.getUTCDate();
  return tag(locale) === 'en-US'
    ? `${EN_MONTHS[d.getUTCMonth()]} ${day}, ${year}`
    : `${year}年${d.getUTCMonth() + 1}月${day}日`;
}

export function formatDateTime(iso: string, locale: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return dateFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatNumber(x: number, locale: string, digits = 2): string {
  if (!Number.isFinite(x)) return '—';
  return numberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(x);
}

export function formatCompact(x: number, locale: string): string {
  return numberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(x);
}
