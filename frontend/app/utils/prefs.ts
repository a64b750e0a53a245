/**
 * Display preferences kept in two small cookies (readable by the server render and by the inline script
 * that sets them on <html> before the first paint, so a dark page never flashes light).
 *  - theme: 'system' follows prefers-color-scheme; 'light' / 'dark' are the user's explicit choice.
 *  - candles: 'red-up' is the Japanese convention (陽線 red, 陰線 green), 'green-up' the US one.
 *    Without a choice the locale decides: ja → red-up, en → green-up (docs/decisions/108).
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type ThemePref = (typeof THEMES)[number];
export const CANDLES = ['red-up', 'green-up'] as const;
export type CandlePref = (typeof CANDLES)[number];

export const THEME_COOKIE = 'theme';
export const CANDLES_COOKIE = 'candles';
/** 400 days, the longest lifetime browsers keep a cookie. */
export const PREF_MAX_AGE = 400 * 24 * 3600;

export function parseTheme(v: unknown): ThemePref {
  return THEMES.includes(v as ThemePref) ? (v as ThemePref) : 'system';
}

export function parseCandles(v: unknown): CandlePref | null {
  return CANDLES.includes(v as CandlePref) ? (v as CandlePref) : null;
}

export function defaultCandles(locale: string): CandlePref {
  return locale === 'ja' ? 'red-up' : 'green-up';
}

export function effectiveCandles(pref: unknown, locale: string): CandlePref {
  return parseCandles(pref) ?? defaultCandles(locale);
}

export function isDark(theme: ThemePref, systemDark: boolean): boolean {
  return theme === 'dark' || (theme === 'system' && systemDark);
}

/** The theme the header toggle switches to: the opposite of what is on screen now. */
export function toggledTheme(theme: ThemePref, systemDark: boolean): ThemePref {
  return isDark(theme, systemDark) ? 'light' : 'dark';
}

/** Colours of rising and falling candles for a preference and theme. */
export function candleColors(pref: CandlePref, dark: boolean): { up: string; down: string } {
  const green = dark ? '#3ecf8e' : '#0f8a5f';
  const red = dark ? '#ff7b7b' : '#c23b3b';
  return pref === 'red-up' ? { up: red, down: green } : { up: green, down: red };
}

/**
 * The inline head script: copies the two cookies onto <html> before anything paints (the server render
 * does the same for public pages; the app's client-only pages have no server render to do it).
 */
export const PREFS_BOOT_SCRIPT = `(function(){try{var c=document.cookie,d=document.documentElement,t=/(?:^|; )theme=(light|dark)(?:;|$)/.exec(c),k=/(?:^|; )candles=(red-up|green-up)(?:;|$)/.exec(c);if(t)d.setAttribute('data-theme',t[1]);d.setAttribute('data-candles',k?k[1]:(d.lang.indexOf('en')===0?'green-up':'red-up'));}catch(e){}})();`;

/** The price chart's canvas colours (the library needs concrete values, not CSS variables). */
export function chartPalette(dark: boolean): { bg: string; text: string; grid: string; border: string } {
  return dark
    ? { bg: '#171c2c', text: '#c0c6dc', grid: '#252c42', border: '#2e3650' }
    : { bg: '#ffffff', text: '#4a5270', grid: '#f0f2f8', border: '#dde1ec' };
}

/** '#rrggbb' with an alpha, as the volume bars use the candle colours at 35 %. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}
