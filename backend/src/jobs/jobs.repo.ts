/** jobs: long-running work (backtests, exports) with its progress and result. */
import type { Selectable, Updateable } from 'kysely';
import type { Executor, JobsTable } from '../db/schema.js';

export type JobRow = Selectable<JobsTable>;

export async function insertJob(
  db: Executor,
  j: { id: string; userId: string; kind: string; params: string },
  nowIso: string,
): Promise<void> {
  await db
    .insertInto('jobs')
    .values({ id: j.id, user_id: j.userId, kind: j.kind, params: j.params, status: 'queued', created_at: nowIso, updated_at: nowIso })
    .execute();
}

export function jobOfUser(db: Executor, userId: string, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
}

export function jobsOfUser(db: Executor, userId: string, limit = 50): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').limit(limit).execute();
}

/** The oldest queued job (ties by id, so the order is the same on both engines). */
export function oldestQueued(db: Executor): Promise<JobRow | undefined> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where('status', '=', 'queued')
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
}

export async function updateJob(db: Executor, id: string, set: Updateable<JobsTable>): Promise<void> {
  await db.updateTable('jobs').set(set).where('id', '=', id).execute();
}

/** Jobs a crash left 'running' can never finish: fail them. */
export async function failRunningJobs(db: Executor, reason: string, nowIso: string): Promise<void> {
  await db.updateTable('jobs').set({ status: 'failed', error: reason, updated_at: nowIso }).where('status', '=', 'running').execute();
}
