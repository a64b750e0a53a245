import { SESSION_HINT_COOKIE } from '~/composables/useAuthSession';

// Pages behind login: check the session once per navigation burst, send strangers to the login page
// with a way back.
//
// The search page is rendered on the server (decision 142) with no user data in it. There the server
// only looks for the session cookie and redirects when it is absent; the session itself is checked by the
// browser, after hydration (a page must hydrate with the state the server rendered), and a session that
// turns out not to be valid sends the browser to the login page too. A stranger therefore never sees
// more than the user-free shell, and only when holding a (stale or forged) session cookie.
export default defineNuxtRouteMiddleware(async (to) => {
  const localePath = useLocalePath();
  const toLogin = () => navigateTo({ path: localePath('/login'), query: { next: to.fullPath } });
  if (import.meta.server) {
    if (useCookie(SESSION_HINT_COOKIE).value == null) return toLogin();
    return;
  }
  const { me, load } = useAuthSession();
  const nuxtApp = useNuxtApp();
  if (nuxtApp.isHydrating && nuxtApp.payload.serverRendered) {
    nuxtApp.hooks.hookOnce('app:suspense:resolve', () => {
      load()
        .then((user) =>
          nuxtApp.runWithContext(() => {
            if (!user) return toLogin();
            if (to.meta.admin && user.role !== 'admin') return navigateTo(localePath('/app'));
            useEvents().connect();
          }),
        )
        // backend down: the page shows its own error state
        .catch(() => undefined);
    });
    return;
  }
  if (me.value === undefined || me.value === null) {
    try {
      await load();
    } catch {
      // backend down: let the page render and show its own error state
      return;
    }
  }
  if (!me.value) return toLogin();
  if (to.meta.admin && me.value.role !== 'admin') return navigateTo(localePath('/app'));
  useEvents().connect();
});
