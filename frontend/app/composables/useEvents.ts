/**
 * Live updates for the logged-in user over SSE: job progress feeds the jobs list, and a toast
 * appears when a job finishes or an alert fires. EventSource reconnects by itself.
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
    const job = (data.job as JobEvent | undefined) ?? (data as unknown as JobEvent);
    if (!job?.id) return;
    jobs.value = { ...jobs.value, [job.id]: { ...jobs.value[job.id], ...job } };
    const status = job.status ?? (type.endsWith('done') ? 'done' : type.endsWith('failed') ? 'failed' : undefined);
    if (status === 'done' || status === 'succeeded' || status === 'completed')
      push({ kind: 'success', text: t('toast.jobDone', { kind: t(`jobs.kinds.${job.kind ?? 'backtest'}`) }), link: { to: localePath('/app/jobs'), label: t('toast.view') } });
    else if (status === 'failed') push({ kind: 'error', text: t('toast.jobFailed', { kind: t(`jobs.kinds.${job.kind ?? 'backtest'}`) }) });
  }

  function onAlert(data: Record<string, unknown>) {
    alerts.value++;
    const n = (data.notification as Record<string, unknown> | undefined) ?? data;
    const title = typeof n.title === 'string' ? n.title : typeof n.message === 'string' ? n.message : t('toast.alertGeneric');
    push({ kind: 'info', text: t('toast.alert', { title }), link: { to: localePath('/app/patterns'), label: t('toast.view') } }, 10_000);
  }

  function dispatch(type: string, raw: string) {
    const data = parse(raw);
    if (!data) return;
    const kind = typeof data.type === 'string' && type === 'message' ? data.type : type;
    if (kind.startsWith('job')) onJob(kind, data);
    else if (kind.startsWith('alert') || kind.startsWith('notification')) onAlert(data);
  }

  function connect() {
    if (!import.meta.client || source) return;
    source = new EventSource('/api/v1/events', { withCredentials: true });
    const names = ['message', 'job', 'job.progress', 'job.done', 'job.failed', 'job.updated', 'alert', 'alert.fired', 'notification'];
    for (const name of names) source.addEventListener(name, (ev) => dispatch(name, (ev as MessageEvent<string>).data));
  }

  function disconnect() {
    source?.close();
    source = null;
  }

  return { jobs, alerts, connect, disconnect };
}
