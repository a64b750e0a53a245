/**
 * In-process job queue persisted in the jobs table: one job runs at a time (the machine's CPU belongs to
 * ml-service), progress is saved and pushed over SSE. Jobs left 'running' by a crash are failed at start.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { EventBus } from '../shared/shared-state.js';
import * as jobs from './jobs.repo.js';
import type { JobRow } from './jobs.repo.js';

export type { JobRow } from './jobs.repo.js';

export type JobHandler = (
  params: unknown,
  ctx: { userId: string; progress: (p: number) => void },
) => Promise<unknown>;

export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  /** Builds the queue after failing the jobs a crash left running. */
  static async open(db: Kysely<Database>, events: EventBus, log: Logger, now: () => number): Promise<JobQueue> {
    await jobs.failRunningJobs(db, 'interrupted by a restart', new Date(now()).toISOString());
    return new JobQueue(db, events, log, now);
  }

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  async enqueue(userId: string, kind: string, params: unknown): Promise<string> {
    const id = randomUUID();
    await jobs.insertJob(this.db, { id, userId, kind, params: JSON.stringify(params) }, this.iso());
    queueMicrotask(() => void this.pump());
    return id;
  }

  get(userId: string, id: string): Promise<JobRow | undefined> {
    return jobs.jobOfUser(this.db, userId, id);
  }

  list(userId: string): Promise<JobRow[]> {
    return jobs.jobsOfUser(this.db, userId);
  }

  /** Resolves when nothing is queued or running (graceful shutdown and tests). */
  async idle(): Promise<void> {
    if (!this.running && !(await this.nextQueued())) return;
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.running ? new Promise((r) => this.idleWaiters.push(r)) : Promise.resolve();
  }

  private nextQueued(): Promise<JobRow | undefined> {
    return jobs.oldestQueued(this.db);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = await this.nextQueued(); job && !this.stopped; job = await this.nextQueued())
        await this.runOne(job);
    } finally {
      this.running = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async runOne(job: JobRow): Promise<void> {
    const update = (status: JobRow['status'], progress: number, result: string | null, error: string | null) =>
      jobs.updateJob(this.db, job.id, { status, progress, result, error, updated_at: this.iso() });
    await update('running', 0, null, null);
    const handler = this.handlers.get(job.kind);
    let lastSaved = 0;
    const progress = (p: number) => {
      const v = Math.max(0, Math.min(1, p));
      this.events.publish(job.user_id, {
        type: 'job.progress',
        data: { id: job.id, kind: job.kind, progress: v },
      });
      if (v - lastSaved >= 0.05) {
        lastSaved = v;
        // Not awaited: the handler reports and goes on; a lost save only makes the stored figure older.
        jobs.updateJob(this.db, job.id, { progress: v, updated_at: this.iso() }).catch((err: unknown) =>
          this.log.warn({ job: job.id, err: err instanceof Error ? err.message : String(err) }, 'job progress not saved'),
        );
      }
    };
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const result = await handler(JSON.parse(job.params), { userId: job.user_id, progress });
      await update('succeeded', 1, JSON.stringify(result ?? null), null);
      this.events.publish(job.user_id, {
        type: 'job.done',
        data: { id: job.id, kind: job.kind, status: 'succeeded' },
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ job: job.id, kind: job.kind, err: message }, 'job failed');
      await update('failed', job.progress, null, message);
      this.events.publish(job.user_id, {
        type: 'job.done',
        data: { id: job.id, kind: job.kind, status: 'failed', error: message },
      });
    }
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
