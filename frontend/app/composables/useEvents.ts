import { EVENT_TYPES, interpretEvent, type JobEvent } from '~/utils/events';
import { formatDate } from '~/utils/format';
import { mergeJob } from '~/utils/job-view';

/**
 * Live updates for the logged-in user over SSE: job progress feeds the jobs list, and a toast
 * appears when a job finishes or an alert fires. EventSource reconnects by itself.
 */
let source: EventSource | null = null;
let pageHooks = false;

export function useEvents() {
  const jobs = useState<Record<string, JobEvent>>('job-events', () => ({}));
  const alerts = useState<number>('alert-count', () => 0);
  // Read in the pageshow listener, outside any Nuxt context: taken here.
  const me = useState<unknown>('me');
  const { push } = useToasts();
  // Called from route middleware too, where useI18n() (setup-only) is unavailable.
  const i18n = useNuxtApp().$i18n;
  const t = (key: string, named?: Record<string, unknown>) => (named ? i18n.t(key, named) : i18n.t(key));
  const localePath = useLocalePath();

  function handle(eventType: string, data: string) {
    const effect = interpretEvent(eventType, data);
    if (!effect) return;
    if (effect.type === 'job') {
      const { job } = effect;
      jobs.value = { ...jobs.value, [job.id]: { ...mergeJob(jobs.value[job.id], job), id: job.id } };
      const kind = t(`jobs.kinds.${job.kind ?? 'backtest'}`);
      if (effect.toast === 'done')
        push({
          kind: 'success',
          text: t('toast.jobDone', { kind }),
          link: { to: localePath('/app/jobs'), label: t('toast.view') },
        });
      else if (effect.toast === 'failed') push({ kind: 'error', text: t('toast.jobFailed', { kind }) });
      return;
    }
    alerts.value++;
    const name = effect.patternName ?? t('toast.alertGeneric');
    const title = effect.code ? `${name} → ${effect.code}` : name;
    const asOf = effect.asOf
      ? ` ${t('patterns.alertAsOf', { date: formatDate(effect.asOf, i18n.locale.value) })}`
      : '';
    push(
      {
        kind: 'info',
        text: t('toast.alert', { title }) + asOf,
        link: { to: localePath('/app/patterns'), label: t('toast.view') },
      },
      10_000,
    );
  }

  function connect() {
    if (!import.meta.client || source) return;
    if (!pageHooks) {
      // A page kept in the back/forward cache kept its stream open: a few full navigations used up the
      // browser's 6 connections to this origin and the next page's API calls waited (issue 18's e2e).
      // Close the stream when the page is hidden; reopen it when the page comes back from that cache.
      pageHooks = true;
      window.addEventListener('pagehide', () => disconnect());
      window.addEventListener('pageshow', (e) => {
        if (e.persisted && me.value) connect();
      });
    }
    source = new EventSource('/api/v1/events', { withCredentials: true });
    for (const name of EVENT_TYPES)
      source.addEventListener(name, (ev) => handle(name, (ev as MessageEvent<string>).data));
  }

  function disconnect() {
    source?.close();
    source = null;
  }

  return { jobs, alerts, connect, disconnect };
}
