/**
 * The jobs table: the durable record of a job (its owner, parameters, status, progress, result or
 * error). Every status change goes through here; the moves to a final state only happen from a live
 * state, so two replicas that both try to finish a job (a worker and a stalled-job check) finish it once.
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from '../db/schema.js';

export type JobStatus = JobsTable['status'];
export type JobRow = Selectable<JobsTable>;

const LIVE: JobStatus[] = ['queued', 'running'];

export class JobsRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
  ) {}

  async insert(id: string, userId: string, kind: string, params: unknown): Promise<void> {
    const now = this.iso();
    await this.db
      .insertInto('jobs')
      .values({
        id,
        user_id: userId,
        kind,
        params: JSON.stringify(params),
        status: 'queued',
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  byId(id: string): Promise<JobRow | undefined> {
    return this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  ofUser(userId: string, id: string): Promise<JobRow | undefined> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  list(userId: string): Promise<JobRow[]> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(50)
      .execute();
  }

  /** The oldest queued job (the in-process queue's next one); ties by id, the same on both engines. */
  nextQueued(): Promise<JobRow | undefined> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', 'queued')
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
  }

  /** Jobs not finished yet, oldest first (a start-up reconcile against the queue). */
  live(limit = 1000): Promise<JobRow[]> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', 'in', LIVE)
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  /** queued (or running again, after a stall) → running; false if the job is already finished. */
  async start(id: string): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'running', progress: 0, updated_at: this.iso() })
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** A job whose worker went away, back in the queue to run again. */
  async requeue(id: string): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'queued', progress: 0, updated_at: this.iso() })
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async progress(id: string, progress: number): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ progress, updated_at: this.iso() })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .execute();
  }

  async succeed(id: string, result: unknown): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({
        status: 'succeeded',
        progress: 1,
        result: JSON.stringify(result ?? null),
        error: null,
        updated_at: this.iso(),
      })
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async fail(id: string, error: string): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'failed', error, updated_at: this.iso() })
      .where('id', '=', id)
      .where('status', 'in', LIVE)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** In-process mode only: one backend owns every job of its database, so a 'running' one was its own. */
  async failAllRunning(error: string): Promise<number> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'failed', error, updated_at: this.iso() })
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}
