/** Picks the job queue: BullMQ when replicas share Redis, else the in-process one (one backend). */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { EventBus } from '../shared/shared-state.js';
import { BullJobQueue } from './bullmq.queue.js';
import { InProcessJobQueue } from './in-process.queue.js';
import type { JobQueue } from './job-queue.js';
import { JobsRepo } from './jobs.repo.js';

export async function createJobQueue(
  config: Pick<Config, 'redis' | 'jobs'>,
  db: Kysely<Database>,
  events: EventBus,
  log: Logger,
  now: () => number,
): Promise<JobQueue> {
  const repo = new JobsRepo(db, now);
  if (!config.redis) return InProcessJobQueue.open(repo, events, log);
  return BullJobQueue.connect({ url: config.redis.url, ...config.jobs }, repo, events, log, now);
}
