/**
 * The job queue port. Two implementations with one behaviour: `in-process.queue.ts` (one backend, no
 * Redis: jobs run one at a time in this process) and `bullmq.queue.ts` (REDIS_URL: any replica enqueues,
 * any replica's worker runs, a dead worker's job is taken over by BullMQ's stalled-job check).
 * The jobs table row is the durable record either way (owner, status, progress, result); `runJob` below is
 * the one place that moves a row through a run and tells the user's streams about it.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../shared/shared-state.js';
import type { JobRow, JobsRepo } from './jobs.repo.js';

export type { JobRow } from './jobs.repo.js';

export type JobHandler = (
  params: unknown,
  ctx: { userId: string; progress: (p: number) => void; signal: AbortSignal },
) => Promise<unknown>;

export const CANCELED = 'canceled by the user';

export type CancelOutcome = 'not_found' | 'finished' | 'canceled' | 'canceling';

export interface JobQueue {
  readonly kind: 'in-process' | 'bullmq';
  register(kind: string, handler: JobHandler): void;
  /** Starts running jobs, once every handler is registered. */
  start(): void;
  /** Records the job (status queued) and queues it; resolves with its id. */
  enqueue(userId: string, kind: string, params: unknown): Promise<string>;
  get(userId: string, id: string): Promise<JobRow | undefined>;
  list(userId: string): Promise<JobRow[]>;
  /**
   * Stops a job of this user wherever it runs: a queued one at once ('canceled'), a running one at its
   * next step ('canceling': the row turns failed with CANCELED and a job.done event follows).
   */
  cancel(userId: string, id: string): Promise<CancelOutcome>;
  /** Resolves when nothing is queued or running (graceful shutdown and tests). */
  idle(): Promise<void>;
  /** Takes no new job and waits for the running one. */
  stop(): Promise<void>;
}

/** Marks the row failed and says so on the user's streams, once (false if it had already finished). */
export async function failJob(
  repo: JobsRepo,
  events: EventBus,
  job: JobRow,
  error: string,
): Promise<boolean> {
  if (!(await repo.fail(job.id, error))) return false;
  events.publish(job.user_id, {
    type: 'job.done',
    data: { id: job.id, kind: job.kind, status: 'failed', error },
  });
  return true;
}

/**
 * Runs one job's handler with its row kept current: running, progress (saved every 5 %, streamed every
 * step), then succeeded with the result or failed with the error. A job that finished meanwhile (canceled
 * while queued) is not run. Handler errors end here, as the row's error; nothing is thrown.
 */
export async function runJob(
  deps: { repo: JobsRepo; events: EventBus; log: Logger; handlers: Map<string, JobHandler> },
  job: JobRow,
  signal: AbortSignal,
): Promise<void> {
  const { repo, events, log } = deps;
  if (!(await repo.start(job.id))) return;
  let lastSaved = 0;
  const progress = (p: number) => {
    const v = Math.max(0, Math.min(1, p));
    events.publish(job.user_id, { type: 'job.progress', data: { id: job.id, kind: job.kind, progress: v } });
    if (v - lastSaved >= 0.05) {
      lastSaved = v;
      // Not awaited: the handler reports and goes on; a lost save only leaves the stored figure older.
      repo
        .progress(job.id, v)
        .catch((err: unknown) =>
          log.warn(
            { job: job.id, err: err instanceof Error ? err.message : String(err) },
            'job progress not saved',
          ),
        );
    }
  };
  try {
    const handler = deps.handlers.get(job.kind);
    if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
    signal.throwIfAborted();
    const result = await handler(JSON.parse(job.params), { userId: job.user_id, progress, signal });
    signal.throwIfAborted();
    if (await repo.succeed(job.id, result))
      events.publish(job.user_id, {
        type: 'job.done',
        data: { id: job.id, kind: job.kind, status: 'succeeded' },
      });
  } catch (err) {
    const message = signal.aborted
      ? String(signal.reason instanceof Error ? signal.reason.message : (signal.reason ?? CANCELED))
      : err instanceof Error
        ? err.message
        : String(err);
    log.warn({ job: job.id, kind: job.kind, err: message }, 'job failed');
    await failJob(repo, events, job, message);
  }
}
