/**
 * The job queue without Redis: one job at a time in this process (the machine's CPU belongs to
 * ml-service), the queue itself being the jobs table's queued rows. This mode is one backend per database
 * (several replicas need REDIS_URL), so at start every row still 'running' was this backend's own job,
 * cut short by a crash or a kill: it is failed, since nothing else will ever finish it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventBus } from '../shared/shared-state.js';
import {
  CANCELED,
  failJob,
  runJob,
  type CancelOutcome,
  type JobHandler,
  type JobQueue,
} from './job-queue.js';
import type { JobRow, JobsRepo } from './jobs.repo.js';

export class InProcessJobQueue implements JobQueue {
  readonly kind = 'in-process' as const;
  private readonly handlers = new Map<string, JobHandler>();
  private running: { id: string; abort: AbortController } | null = null;
  private pumping = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  /** Builds the queue after failing the jobs the previous process left running. */
  static async open(repo: JobsRepo, events: EventBus, log: Logger): Promise<InProcessJobQueue> {
    const n = await repo.failAllRunning('interrupted by a restart');
    if (n > 0) log.warn({ jobs: n }, 'jobs left running by the previous process were failed');
    return new InProcessJobQueue(repo, events, log);
  }

  private constructor(
    private readonly repo: JobsRepo,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {}

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Runs what the previous process left queued. */
  start(): void {
    queueMicrotask(() => void this.pump());
  }

  async enqueue(userId: string, kind: string, params: unknown): Promise<string> {
    const id = randomUUID();
    await this.repo.insert(id, userId, kind, params);
    queueMicrotask(() => void this.pump());
    return id;
  }

  get(userId: string, id: string): Promise<JobRow | undefined> {
    return this.repo.ofUser(userId, id);
  }

  list(userId: string): Promise<JobRow[]> {
    return this.repo.list(userId);
  }

  async cancel(userId: string, id: string): Promise<CancelOutcome> {
    const job = await this.repo.ofUser(userId, id);
    if (!job) return 'not_found';
    if (this.running?.id === id) {
      this.running.abort.abort(CANCELED);
      return 'canceling';
    }
    return (await failJob(this.repo, this.events, job, CANCELED)) ? 'canceled' : 'finished';
  }

  async idle(): Promise<void> {
    if (!this.pumping && !(await this.repo.nextQueued())) return;
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.pumping ? new Promise((r) => this.idleWaiters.push(r)) : Promise.resolve();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let job = await this.repo.nextQueued(); job && !this.stopped; job = await this.repo.nextQueued()) {
        const abort = new AbortController();
        this.running = { id: job.id, abort };
        try {
          await runJob(
            { repo: this.repo, events: this.events, log: this.log, handlers: this.handlers },
            job,
            abort.signal,
          );
        } finally {
          this.running = null;
        }
      }
    } finally {
      this.pumping = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
