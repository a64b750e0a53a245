// Pages behind login: check the session once per navigation burst, send strangers to the login page
// with a way back.
export default defineNuxtRouteMiddleware(async (to) => {
  if (import.meta.server) return;
  const { me, load } = useAuthSession();
  const localePath = useLocalePath();
  if (me.value === undefined || me.value === null) {
    try {
      await load();
    } catch {
      // backend down: let the page render and show its own error state
      return;
    }
  }
  if (!me.value) return navigateTo({ path: localePath('/login'), query: { next: to.fullPath } });
  if (to.meta.admin && me.value.role !== 'admin') return navigateTo(localePath('/app'));
  useEvents().connect();
});
