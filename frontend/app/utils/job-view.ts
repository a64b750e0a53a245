/**
 * How a job row reads. Two sources describe a job — the REST snapshot and live SSE frames — and they
 * can arrive out of order, so the rules live here: a finished job never goes back to running, "done"
 * is only ever said of a job backend reported as succeeded, and a running job never shows 100 %.
 */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobLike {
  status?: string;
  progress?: number;
  error?: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed']);
const isTerminal = (s: string | undefined) => s !== undefined && TERMINAL.has(s);

/** `next` updates `prev` field by field, except that a late progress frame cannot reopen a finished job. */
export function mergeJob<T extends JobLike>(prev: T | undefined, next: Partial<T>): T {
  const defined = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) as Partial<T>;
  if (prev && isTerminal(prev.status) && !isTerminal(defined.status)) return prev;
  return { ...prev, ...defined } as T;
}

export interface JobView {
  state: JobState;
  /** 0–100; 100 only for a succeeded job. */
  percent: number;
  /** Whether to draw the progress bar at all: a finished job shows its outcome instead. */
  showBar: boolean;
  done: boolean;
}

export function jobView(j: JobLike): JobView {
  const state: JobState =
    j.status === 'succeeded' || j.status === 'failed' || j.status === 'queued'
      ? j.status
      : j.status === undefined
        ? 'queued'
        : 'running';
  const raw = Math.floor(Math.max(0, Math.min(1, j.progress ?? 0)) * 100);
  const percent =
    state === 'succeeded' ? 100 : state === 'running' ? Math.min(99, raw) : state === 'queued' ? 0 : raw;
  return { state, percent, showBar: state === 'queued' || state === 'running', done: state === 'succeeded' };
}
