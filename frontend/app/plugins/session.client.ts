// Starts the session check as soon as the app's code runs, before the i18n messages are fetched and the
// page's code is loaded, so the signed-in pages' route middleware (which waits for it) finds it answered
// or under way instead of starting it one round trip later (decision 133). Only on pages rendered in the
// browser (the signed-in ones; a server-rendered page — the public ones and the search page, decision 142 —
// must hydrate with the state it was rendered with, and loads the session after hydrating) and only when
// the readable csrf_token cookie says there is a session: strangers send no request.
export default defineNuxtPlugin({
  name: 'session-early',
  enforce: 'pre',
  setup(nuxtApp) {
    if (nuxtApp.payload.serverRendered) return;
    if (hasSessionCookie())
      useAuthSession()
        .load()
        .catch(() => undefined);
  },
});
