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
import type { NuxtApp } from '#app';
import { effectScope, type Ref } from 'vue';

interface PrefCookies {
  theme: Ref<string | null>;
  candles: Ref<string | null>;
}
// One pair of cookie refs per app (per request on the server). Each useCookie() reads document.cookie
// (a synchronous round trip to the browser process), writes it when the cookie is absent, and adds
// listeners; app.vue, the header and the chart each asking for their own pair was about 60 ms of the
// search page's hydration on Lighthouse's 4× slowed phone CPU (decision 142). Shared refs also let a
// change made in one place show everywhere at once.
const perApp = new WeakMap<NuxtApp, PrefCookies>();

function prefCookies(): PrefCookies {
  const nuxtApp = useNuxtApp();
  let c = perApp.get(nuxtApp);
  if (!c) {
    const opts = { maxAge: PREF_MAX_AGE, sameSite: 'lax' as const, path: '/' };
    // Detached: the refs outlive the component that happened to ask first.
    c = effectScope(true).run(() => ({
      theme: useCookie<string | null>(THEME_COOKIE, { ...opts, default: () => null }),
      candles: useCookie<string | null>(CANDLES_COOKIE, { ...opts, default: () => null }),
    }))!;
    perApp.set(nuxtApp, c);
  }
  return c;
}

/** Theme and candle-colour preferences, persisted in cookies; `dark` is what is on screen now. */
export function usePrefs() {
  const { theme: themeCookie, candles: candlesCookie } = prefCookies();
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
