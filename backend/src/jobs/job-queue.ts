/**
 * In-process job queue persisted in the jobs table: one job runs at a time (the machine's CPU belongs to
 * ml-service), progress is saved and pushed over SSE. Jobs left 'running' by a crash are failed at start.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../db/db.js';
import type { EventBus } from '../shared/shared-state.js';

export type JobHandler = (
  params: unknown,
  ctx: { userId: string; progress: (p: number) => void },
) => Promise<unknown>;

export interface JobRow {
  id: string;
  user_id: string;
  kind: string;
  params: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: number;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.db
      .prepare(
        "UPDATE jobs SET status = 'failed', error = 'interrupted by a restart', updated_at = ? WHERE status = 'running'",
      )
      .run(this.iso());
  }

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  enqueue(userId: string, kind: string, params: unknown): string {
    const id = randomUUID();
    const now = this.iso();
    this.db
      .prepare(
        "INSERT INTO jobs (id, user_id, kind, params, status, created_at, updated_at) VALUES (?,?,?,?,'queued',?,?)",
      )
      .run(id, userId, kind, JSON.stringify(params), now, now);
    queueMicrotask(() => void this.pump());
    return id;
  }

  get(userId: string, id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ? AND user_id = ?').get(id, userId) as
      JobRow | undefined;
  }

  list(userId: string): JobRow[] {
    return this.db
      .prepare('SELECT * FROM jobs WHERE user_id = ? ORDER BY created_at DESC LIMIT 50')
      .all(userId) as JobRow[];
  }

  /** Resolves when nothing is queued or running (graceful shutdown and tests). */
  idle(): Promise<void> {
    if (!this.running && !this.nextQueued()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.running ? new Promise((r) => this.idleWaiters.push(r)) : Promise.resolve();
  }

  private nextQueued(): JobRow | undefined {
    return this.db
      .prepare("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1")
      .get() as JobRow | undefined;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let job = this.nextQueued(); job && !this.stopped; job = this.nextQueued()) await this.runOne(job);
    } finally {
      this.running = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async runOne(job: JobRow): Promise<void> {
    const update = this.db.prepare(
      'UPDATE jobs SET status = ?, progress = ?, result = ?, error = ?, updated_at = ? WHERE id = ?',
    );
    update.run('running', 0, null, null, this.iso(), job.id);
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
        this.db
          .prepare('UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ?')
          .run(v, this.iso(), job.id);
      }
    };
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      const result = await handler(JSON.parse(job.params), { userId: job.user_id, progress });
      update.run('succeeded', 1, JSON.stringify(result ?? null), null, this.iso(), job.id);
      this.events.publish(job.user_id, {
        type: 'job.done',
        data: { id: job.id, kind: job.kind, status: 'succeeded' },
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn({ job: job.id, kind: job.kind, err: message }, 'job failed');
      update.run('failed', job.progress, null, message, this.iso(), job.id);
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
