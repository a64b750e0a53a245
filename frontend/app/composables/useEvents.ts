import { EVENT_TYPES, interpretEvent, type JobEvent } from '~/utils/events';
import { formatDate } from '~/utils/format';
import { mergeJob } from '~/utils/job-view';

/**
 * Live updates for the logged-in user over SSE: job progress feeds the jobs list, and a toast
 * appears when a job finishes or an alert fires. EventSource reconnects by itself.
 */
let source: EventSource | null = null;

export function useEvents() {
  const jobs = useState<Record<string, JobEvent>>('job-events', () => ({}));
  const alerts = useState<number>('alert-count', () => 0);
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
