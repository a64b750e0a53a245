import {
  CANDLES_COOKIE,
  PREF_MAX_AGE,
  THEME_COOKIE,
  effectiveCandles,
  isDark,
  parseCandles,
  parseTheme,
  toggledTheme,
  type CandlePref,
  type ThemePref,
} from '~/utils/prefs';

/** Theme and candle-colour preferences, persisted in cookies; `dark` is what is on screen now. */
export function usePrefs() {
  const opts = { maxAge: PREF_MAX_AGE, sameSite: 'lax' as const, path: '/' };
  const themeCookie = useCookie<string | null>(THEME_COOKIE, { ...opts, default: () => null });
  const candlesCookie = useCookie<string | null>(CANDLES_COOKIE, { ...opts, default: () => null });
  const systemDark = useState('prefs-system-dark', () => false);
  const { locale } = useI18n();

  const theme = computed<ThemePref>({
    get: () => parseTheme(themeCookie.value),
    set: (v) => (themeCookie.value = v === 'system' ? null : v),
  });
  const candles = computed<CandlePref>({
    get: () => effectiveCandles(candlesCookie.value, locale.value),
    set: (v) => (candlesCookie.value = v),
  });
  const candlesChosen = computed(() => parseCandles(candlesCookie.value) !== null);
  const dark = computed(() => isDark(theme.value, systemDark.value));
  const toggleTheme = () => (theme.value = toggledTheme(theme.value, systemDark.value));
  const resetCandles = () => (candlesCookie.value = null);
  return { theme, candles, candlesChosen, dark, systemDark, toggleTheme, resetCandles };
}
