import { PREFS_BOOT_SCRIPT } from './app/utils/prefs';

// Public pages render on the server (fast first paint, indexable); everything behind login is a
// client-side app, so /app/** never needs the session cookie during SSR. The one exception is the search
// page itself (/app, /en/app): its first screen needs no user data, so the server renders it (the drag
// hint, its largest paint, is then in the HTML) and the browser loads the user's data after hydrating;
// the auth middleware redirects on the server when there is no session cookie (decision 142).
const spaRoutes = ['/app/**', '/en/app/**', '/billing/**', '/en/billing/**'];
const ssrRoutes = ['/app', '/en/app'];

export default defineNuxtConfig({
  compatibilityDate: '2025-07-15',
  telemetry: false,
  devtools: { enabled: false },
  modules: ['@nuxtjs/i18n'],
  css: ['~/assets/css/main.css'],
  // Components are named by file (PriceChart), not by folder + file (ChartPriceChart).
  components: [{ path: '~/components', pathPrefix: false }],
  app: {
    head: {
      htmlAttrs: { lang: 'ja' },
      meta: [
        { name: 'viewport', content: 'width=device-width, initial-scale=1' },
        { name: 'color-scheme', content: 'light dark' },
      ],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }],
      // Theme and candle colours onto <html> before the first paint (the CSP nonce is stamped on it).
      script: [{ innerHTML: PREFS_BOOT_SCRIPT, tagPosition: 'head' }],
    },
  },
  runtimeConfig: {
    // Server-only: where the Nitro proxy forwards /api/**. Env: NUXT_BACKEND_URL.
    backendUrl: 'http://127.0.0.1:8080',
    // Absolute links for hreflang/canonical tags. Env: NUXT_PUBLIC_I18N_BASE_URL.
    public: { i18n: { baseUrl: 'http://127.0.0.1:3000' } },
  },
  routeRules: {
    ...Object.fromEntries(spaRoutes.map((r) => [r, { ssr: false }])),
    // An exact path outranks the `/**` pattern that also matches it.
    ...Object.fromEntries(ssrRoutes.map((r) => [r, { ssr: true }])),
  },
  i18n: {
    defaultLocale: 'ja',
    strategy: 'prefix_except_default',
    detectBrowserLanguage: false,
    locales: [
      { code: 'ja', language: 'ja-JP', name: '日本語', file: 'ja.json' },
      { code: 'en', language: 'en-US', name: 'English', file: 'en.json' },
    ],
  },
  // Links fetch (and run) their page's code when hovered, focused or touched, not as soon as they are
  // visible: on load that put every linked page's code (the track record's data, the app) on the main
  // thread of the landing page (decision 128).
  experimental: { defaults: { nuxtLink: { prefetchOn: { visibility: false, interaction: true } } } },
  vite: { build: { target: 'es2022' } },
  nitro: { compressPublicAssets: { gzip: true, brotli: false } },
});
