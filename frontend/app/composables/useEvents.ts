/**
 * Live updates for the logged-in user over SSE (backend's event-hub: `job.progress`, `job.done`,
 * `alert.fired`): job progress feeds the jobs list, and a toast appears when a job finishes or an
 * alert fires. EventSource reconnects by itself.
 */
export interface JobEvent {
  id: string;
  kind?: string;
  status?: string;
  progress?: number;
  error?: string | null;
}

let source: EventSource | null = null;

function parse(data: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(data);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function useEvents() {
  const jobs = useState<Record<string, JobEvent>>('job-events', () => ({}));
  const alerts = useState<number>('alert-count', () => 0);
  const { push } = useToasts();
  // Called from route middleware too, where useI18n() (setup-only) is unavailable.
  const i18n = useNuxtApp().$i18n;
  const t = (key: string, named?: Record<string, unknown>) => (named ? i18n.t(key, named) : i18n.t(key));
  const localePath = useLocalePath();

  function onJob(type: string, data: Record<string, unknown>) {
    const job = data as unknown as JobEvent;
    if (typeof job.id !== 'string') return;
    jobs.value = { ...jobs.value, [job.id]: { ...jobs.value[job.id], ...job, status: job.status ?? (type === 'job.progress' ? 'running' : undefined) } };
    if (type !== 'job.done') return;
    const status = job.status;
    if (status === 'succeeded')
      push({ kind: 'success', text: t('toast.jobDone', { kind: t(`jobs.kinds.${job.kind ?? 'backtest'}`) }), link: { to: localePath('/app/jobs'), label: t('toast.view') } });
    else if (status === 'failed') push({ kind: 'error', text: t('toast.jobFailed', { kind: t(`jobs.kinds.${job.kind ?? 'backtest'}`) }) });
  }

  function onAlert(data: Record<string, unknown>) {
    alerts.value++;
    const name = typeof data.patternName === 'string' ? data.patternName : t('toast.alertGeneric');
    const match = data.match as { code?: string } | undefined;
    push({ kind: 'info', text: t('toast.alert', { title: match?.code ? `${name} → ${match.code}` : name }), link: { to: localePath('/app/patterns'), label: t('toast.view') } }, 10_000);
  }

  function dispatch(type: string, raw: string) {
    const data = parse(raw);
    if (!data) return;
    if (type.startsWith('job')) onJob(type, data);
    else onAlert(data);
  }

  function connect() {
    if (!import.meta.client || source) return;
    source = new EventSource('/api/v1/events', { withCredentials: true });
    const names = ['job.progress', 'job.done', 'alert.fired'];
    for (const name of names) source.addEventListener(name, (ev) => dispatch(name, (ev as MessageEvent<string>).data));
  }

  function disconnect() {
    source?.close();
    source = null;
  }

  return { jobs, alerts, connect, disconnect };
}
