// Tracks the system colour scheme so charts (drawn on canvas/SVG with concrete colours) can follow it.
// Read only once the app is mounted: the server render assumed light, and hydration must see the same.
export default defineNuxtPlugin((nuxtApp) => {
  const systemDark = useState('prefs-system-dark', () => false);
  nuxtApp.hook('app:mounted', () => {
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    systemDark.value = mq.matches;
    mq.addEventListener('change', (e) => (systemDark.value = e.matches));
  });
});
