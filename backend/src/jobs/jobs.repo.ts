/**
 * The jobs table: the durable record of a job (its owner, parameters, status, progress, result or
 * error). Every status change goes through here; the moves to a final state only happen from a live
 * state, so two replicas that both try to finish a job (a worker and a stalled-job check) finish it once.
 */
import type { Db } from '../db/db.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobRow {
  id: string;
  user_id: string;
  kind: string;
  params: string;
  status: JobStatus;
  progress: number;
  result: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export class JobsRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  insert(id: string, userId: string, kind: string, params: unknown): void {
    const now = this.iso();
    this.db
      .prepare(
        "INSERT INTO jobs (id, user_id, kind, params, status, created_at, updated_at) VALUES (?,?,?,?,'queued',?,?)",
      )
      .run(id, userId, kind, JSON.stringify(params), now, now);
  }

  byId(id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  ofUser(userId: string, id: string): JobRow | undefined {
    return this.db.prepare('SELECT * FROM jobs WHERE id = ? AND user_id = ?').get(id, userId) as
      JobRow | undefined;
  }

  list(userId: string): JobRow[] {
    return this.db
      .prepare('SELECT * FROM jobs WHERE user_id = ? ORDER BY created_at DESC LIMIT 50')
      .all(userId) as JobRow[];
  }

  /** The oldest queued job (the in-process queue's next one). */
  nextQueued(): JobRow | undefined {
    return this.db
      .prepare("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1")
      .get() as JobRow | undefined;
  }

  /** Jobs not finished yet, oldest first (a start-up reconcile against the queue). */
  live(limit = 1000): JobRow[] {
    return this.db
      .prepare("SELECT * FROM jobs WHERE status IN ('queued','running') ORDER BY created_at LIMIT ?")
      .all(limit) as JobRow[];
  }

  /** queued (or running again, after a stall) → running; false if the job is already finished. */
  start(id: string): boolean {
    return (
      this.db
        .prepare(
          "UPDATE jobs SET status = 'running', progress = 0, updated_at = ? WHERE id = ? AND status IN ('queued','running')",
        )
        .run(this.iso(), id).changes === 1
    );
  }

  /** A job whose worker went away, back in the queue to run again. */
  requeue(id: string): boolean {
    return (
      this.db
        .prepare(
          "UPDATE jobs SET status = 'queued', progress = 0, updated_at = ? WHERE id = ? AND status IN ('queued','running')",
        )
        .run(this.iso(), id).changes === 1
    );
  }

  progress(id: string, progress: number): void {
    this.db
      .prepare("UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND status = 'running'")
      .run(progress, this.iso(), id);
  }

  succeed(id: string, result: unknown): boolean {
    return (
      this.db
        .prepare(
          "UPDATE jobs SET status = 'succeeded', progress = 1, result = ?, error = NULL, updated_at = ? WHERE id = ? AND status IN ('queued','running')",
        )
        .run(JSON.stringify(result ?? null), this.iso(), id).changes === 1
    );
  }

  fail(id: string, error: string): boolean {
    return (
      this.db
        .prepare(
          "UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE id = ? AND status IN ('queued','running')",
        )
        .run(error, this.iso(), id).changes === 1
    );
  }

  /** In-process mode only: one backend owns every job of its database, so a 'running' one was its own. */
  failAllRunning(error: string): number {
    return this.db
      .prepare("UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE status = 'running'")
      .run(error, this.iso()).changes;
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
