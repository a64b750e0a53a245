/**
 * Backend's SSE frames (`event: job.progress | job.done | alert.fired`, JSON data) turned into what
 * the UI should do, so the rules are testable without an EventSource.
 */
export const EVENT_TYPES = ['job.progress', 'job.done', 'alert.fired'] as const;

export interface JobEvent {
  id: string;
  kind?: string;
  status?: string;
  progress?: number;
  error?: string | null;
}

export type UiEffect =
  | { type: 'job'; job: JobEvent; toast: 'done' | 'failed' | null }
  | { type: 'alert'; patternName: string | null; code: string | null; asOf: string | null }
  | null;

function parse(data: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(data);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function interpretEvent(eventType: string, data: string): UiEffect {
  const d = parse(data);
  if (!d) return null;
  if (eventType === 'job.progress' || eventType === 'job.done') {
    if (typeof d.id !== 'string') return null;
    const job: JobEvent = {
      id: d.id,
      kind: typeof d.kind === 'string' ? d.kind : undefined,
      progress: typeof d.progress === 'number' ? d.progress : undefined,
      error: typeof d.error === 'string' ? d.error : undefined,
      // Progress frames carry no status: a job that reports progress is running.
      status: typeof d.status === 'string' ? d.status : eventType === 'job.progress' ? 'running' : undefined,
    };
    const toast =
      eventType !== 'job.done'
        ? null
        : job.status === 'succeeded'
          ? 'done'
          : job.status === 'failed'
            ? 'failed'
            : null;
    return { type: 'job', job, toast };
  }
  if (eventType === 'alert.fired') {
    const match = d.match as { code?: unknown } | undefined;
    // asOf: the newest price the alert's "now" search saw, so the toast says which day "now" was.
    return {
      type: 'alert',
      patternName: typeof d.patternName === 'string' ? d.patternName : null,
      code: typeof match?.code === 'string' ? match.code : null,
      asOf: typeof d.asOf === 'string' ? d.asOf : null,
    };
  }
  return null;
}
