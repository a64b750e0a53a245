/**
 * The job queue in Redis through BullMQ (REDIS_URL), so replicas share one queue: any replica enqueues,
 * the worker of any replica takes the job, and its progress reaches the user's streams on every replica
 * through the Redis event bus. The split of state (decision 112):
 * - the jobs table row is the durable record: owner, parameters, status, progress, result or error;
 *   every API read is served from it, and every change of it goes through JobsRepo/runJob;
 * - the BullMQ job (id = the row's id, data = owner and kind only) is the scheduling: who runs it, its
 *   lock while it runs, and what happens when the process holding the lock dies. BullMQ's stalled-job
 *   check (any live worker, every JOB_STALLED_CHECK_MS) puts a job whose lock lapsed back in the queue,
 *   JOB_MAX_STALLED times, then fails it; the 'failed' event then fails the row, on whichever replica
 *   hears it first. No replica touches another's running jobs at start (in-process mode's rule).
 * Cancel: a waiting job is removed from the queue; a running one is aborted by the replica that runs it,
 * told over a pub/sub channel (and by a flag its processor reads first, for the race with a pick-up).
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../platform/errors.js';
import type { EventBus } from '../shared/shared-state.js';
import { closeWithin, endRedis } from '../shared/redis-close.js';
import {
  CANCELED,
  failJob,
  runJob,
  type CancelOutcome,
  type JobHandler,
  type JobQueue,
} from './job-queue.js';
import type { JobRow, JobsRepo } from './jobs.repo.js';

const QUEUE = 'jobs';
const BULL_PREFIX = 'resemble:bull';
const CANCEL_CHANNEL = 'resemble:jobs:cancel';
const cancelFlag = (id: string) => `resemble:jobs:canceled:${id}`;
/** A row younger than this may be between its INSERT and its queue.add on another replica. */
const RECONCILE_MIN_AGE_MS = 60_000;

export interface BullJobOptions {
  url: string;
  /** false: this replica enqueues and streams but runs no job (an API-only replica). */
  worker: boolean;
  lockMs: number;
  stalledCheckMs: number;
  maxStalled: number;
}

interface JobData {
  userId: string;
  kind: string;
}

/** What the user reads when BullMQ gave up on a job whose worker died. */
function describeFailure(reason: string | undefined): string {
  if (reason && /stalled/i.test(reason))
    return `the backend running this job stopped, and it was not finished on another one (${reason})`;
  return reason || 'failed in the job queue';
}

export class BullJobQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly handlers = new Map<string, JobHandler>();
  private worker: Worker<JobData> | null = null;

  private constructor(
    private readonly opts: BullJobOptions,
    private readonly repo: JobsRepo,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly queue: Queue<JobData>,
    private readonly queueEvents: QueueEvents,
    private readonly redis: Redis,
    private readonly sub: Redis,
  ) {}

  /** Connects, subscribes and reconciles before returning; the worker starts with `start`. */
  static async connect(
    opts: BullJobOptions,
    repo: JobsRepo,
    events: EventBus,
    log: Logger,
    now: () => number,
  ): Promise<BullJobQueue> {
    const connection = { url: opts.url };
    const queue = new Queue<JobData>(QUEUE, { connection, prefix: BULL_PREFIX });
    const queueEvents = new QueueEvents(QUEUE, { connection, prefix: BULL_PREFIX });
    const redis = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    const sub = redis.duplicate({ lazyConnect: true });
    const warn = (name: string) => (err: Error) => log.warn({ err: err.message }, `${name} connection error`);
    queue.on('error', warn('queue'));
    queueEvents.on('error', warn('queue events'));
    redis.on('error', warn('jobs redis'));
    sub.on('error', warn('jobs subscriber'));
    await Promise.all([redis.connect(), sub.connect(), queue.waitUntilReady(), queueEvents.waitUntilReady()]);
    await sub.subscribe(CANCEL_CHANNEL);
    const q = new BullJobQueue(opts, repo, events, log, now, queue, queueEvents, redis, sub);
    sub.on('message', (_channel: string, id: string) => {
      if (q.worker?.cancelJob(id, CANCELED)) log.info({ job: id }, 'running job canceled');
    });
    queueEvents.on('failed', ({ jobId, failedReason }) => q.failRow(jobId, failedReason));
    queueEvents.on('stalled', ({ jobId }) =>
      log.warn({ job: jobId }, 'job stalled (its worker stopped); BullMQ runs it again or fails it'),
    );
    await q.reconcile();
    return q;
  }

  start(): void {
    const opts = this.opts;
    if (!opts.worker || this.worker) return;
    this.worker = new Worker<JobData>(QUEUE, (job, _token, signal) => this.process(job, signal), {
      connection: { url: opts.url },
      prefix: BULL_PREFIX,
      // One job at a time per replica: the CPU of the machine belongs to ml-service's searches.
      concurrency: 1,
      lockDuration: opts.lockMs,
      stalledInterval: opts.stalledCheckMs,
      maxStalledCount: opts.maxStalled,
    });
    this.worker.on('error', (err) => this.log.warn({ err: err.message }, 'job worker error'));
  }

  register(kind: string, handler: JobHandler): void {
    this.handlers.set(kind, handler);
  }

  async enqueue(userId: string, kind: string, params: unknown): Promise<string> {
    const id = randomUUID();
    await this.repo.insert(id, userId, kind, params);
    try {
      await this.queue.add(
        kind,
        { userId, kind },
        // The row keeps the result; BullMQ keeps a finished job only as long as someone may ask about it.
        { jobId: id, attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 7 * 86_400 } },
      );
    } catch (err) {
      this.log.error({ err, job: id }, 'could not queue a job');
      const row = await this.repo.byId(id);
      if (row) await failJob(this.repo, this.events, row, 'the job queue was unavailable');
      throw new AppError(503, 'queue_unavailable', 'the job queue is unavailable; try again shortly');
    }
    return id;
  }

  get(userId: string, id: string): Promise<JobRow | undefined> {
    return this.repo.ofUser(userId, id);
  }

  list(userId: string): Promise<JobRow[]> {
    return this.repo.list(userId);
  }

  async cancel(userId: string, id: string): Promise<CancelOutcome> {
    const row = await this.repo.ofUser(userId, id);
    if (!row) return 'not_found';
    if (row.status !== 'queued' && row.status !== 'running') return 'finished';
    // The flag first: a worker that picks the job up from now on fails it instead of running it.
    await this.redis.set(cancelFlag(id), '1', 'EX', 86_400);
    // remove() refuses a job that a worker holds (locked): that one is told to stop instead.
    if ((await this.queue.remove(id)) === 1)
      return (await failJob(this.repo, this.events, row, CANCELED)) ? 'canceled' : 'finished';
    await this.redis.publish(CANCEL_CHANNEL, id);
    return 'canceling';
  }

  async idle(): Promise<void> {
    for (;;) {
      const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(c).every((n) => n === 0)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    // close() lets the running job finish; its row is then final, nothing is left for another replica.
    // Without Redis that wait has no end (the job cannot keep its lock either: BullMQ's stall check hands it
    // to another replica), so the worker is closed at once, and a graceful close gets 5 s at most.
    const reachable = this.redis.status === 'ready';
    const worker = this.worker;
    if (worker) await closeWithin(worker.close(!reachable), reachable ? 5_000 : 0, () => worker.disconnect());
    // BullMQ's disconnect() waits for an 'end' that a connection between retries never emits: the ioredis
    // client is dropped directly instead.
    const drop = async (q: Queue<JobData> | QueueEvents) => (await q.getBackend().client).disconnect();
    const bounded = (q: Queue<JobData> | QueueEvents) =>
      reachable ? closeWithin(q.close(), 2_000, () => drop(q)) : drop(q);
    await Promise.allSettled([
      bounded(this.queueEvents),
      bounded(this.queue),
      endRedis(this.sub),
      endRedis(this.redis),
    ]);
  }

  private async process(job: Job<JobData>, signal: AbortSignal | undefined): Promise<void> {
    const row = job.id ? await this.repo.byId(job.id) : undefined;
    // Its owner deleted the account (rows go with it): nothing to run for anyone.
    if (!row) return;
    if ((await this.redis.exists(cancelFlag(row.id))) === 1) {
      await failJob(this.repo, this.events, row, CANCELED);
      return;
    }
    await runJob(
      { repo: this.repo, events: this.events, log: this.log, handlers: this.handlers },
      row,
      signal ?? new AbortController().signal,
    );
  }

  private failRow(id: string, reason: string | undefined): void {
    // An event handler: a database error here must be logged, not thrown into the emitter.
    void (async () => {
      const row = await this.repo.byId(id);
      if (row && (await failJob(this.repo, this.events, row, describeFailure(reason))))
        this.log.warn({ job: id, reason }, 'job failed in the queue');
    })().catch((err: unknown) => this.log.error({ err, job: id }, 'could not record a failed job'));
  }

  /**
   * Rows still live whose BullMQ job is gone or failed while no replica listened (all were down): the
   * queue is the truth about scheduling, so they are failed with what it says. Jobs still waiting or
   * held by a live worker are left as they are.
   */
  private async reconcile(): Promise<void> {
    const cutoff = this.now() - RECONCILE_MIN_AGE_MS;
    for (const row of await this.repo.live()) {
      if (Date.parse(row.created_at) > cutoff) continue;
      const job = await this.queue.getJob(row.id);
      if (!job) {
        await failJob(
          this.repo,
          this.events,
          row,
          'the job was lost from the job queue (was Redis emptied?)',
        );
        continue;
      }
      const state = await job.getState();
      if (state === 'failed') await failJob(this.repo, this.events, row, describeFailure(job.failedReason));
      else if (state === 'completed')
        await failJob(this.repo, this.events, row, 'the job ended in the queue without saving a result');
    }
  }
}
