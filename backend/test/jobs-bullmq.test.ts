/**
 * Jobs through BullMQ on a real redis-server, across replicas sharing one database: a job enqueued on
 * one replica runs on another's worker and streams to the first; a cancel reaches the replica running
 * the job; a replica killed with SIGKILL mid-job leaves it to BullMQ's stalled-job check (taken over by
 * a live worker, or failed with a clear error), never 'running' for ever and never failed by a
 * replica that merely starts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackendProcess } from './support/backend-process.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { startRedis, type RedisServer } from './support/redis-server.js';
import { openEvents } from './support/sse.js';
import {
  rawSql,
  registered,
  sameDatabaseAs,
  startApp,
  type Client,
  type TestApp,
} from './support/harness.js';

const backtest = (samples: number) => ({
  kind: 'backtest',
  params: { code: 'AAA', windowLength: 30, horizon: 10, samples, topK: 5 },
});

async function proUser(app: TestApp): Promise<Client> {
  const c = await registered(app);
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  const done = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
  if (done.body.plan !== 'pro') throw new Error(`upgrade failed: ${done.text}`);
  return c;
}

const cookieOf = (c: Client) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

/** The same session on another replica. */
function on(app: TestApp, c: Client): Client {
  const other = app.client();
  for (const [k, v] of c.cookies) other.cookies.set(k, v);
  return other;
}

describe('jobs through BullMQ across replicas', () => {
  let ml: MlStandIn;
  let redis: RedisServer;
  /** API only (JOBS_WORKER=false): whatever it enqueues runs on another replica. */
  let api: TestApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    [ml, redis] = await Promise.all([startMlStandIn(), startRedis()]);
    env = {
      ML_URL: ml.url,
      REDIS_URL: redis.url,
      RATE_LIMIT_USER_PER_MIN: '1000',
      JOB_LOCK_MS: '2000',
      JOB_STALLED_CHECK_MS: '1000',
    };
    api = await startApp({ ...env, JOBS_WORKER: 'false' });
    // Every replica on the API replica's database (SQLite file or PostgreSQL, whichever this run uses).
    Object.assign(env, sameDatabaseAs(api));
  });
  afterAll(async () => {
    await api?.close();
    await redis?.stop();
    await ml?.close();
  });

  describe('with a worker replica', () => {
    let worker: TestApp;
    beforeAll(async () => {
      worker = await startApp(env);
    });
    afterAll(async () => {
      ml.setSearchDelay(0);
      await worker?.close();
    });

    it("runs a job enqueued on a replica without a worker on the other one, streaming to the first's client", async () => {
      expect(api.services.jobs.kind).toBe('bullmq');
      const c = await proUser(api);
      const stream = await openEvents(api.url, cookieOf(c));
      try {
        const r = await c.post('/api/v1/jobs', backtest(4));
        expect(r.status).toBe(202);
        const id = r.body.id as string;
        const done = await stream.waitFor((e) => e.type === 'job.done' && e.data.id === id);
        expect(done.data).toMatchObject({ status: 'succeeded' });
        const progress = stream.events.filter((e) => e.type === 'job.progress' && e.data.id === id);
        expect(progress.map((e) => e.data.progress)).toEqual([0.25, 0.5, 0.75, 1]);
        const job = (await c.get(`/api/v1/jobs/${id}`)).body;
        expect(job).toMatchObject({ status: 'succeeded', progress: 1, error: null });
        expect(job.result.samples).toHaveLength(4);
        // Scheduled in Redis (BullMQ's keys), not by the API replica's own loop.
        expect(await redis.client.keys('resemble:bull:jobs:*')).not.toHaveLength(0);
      } finally {
        stream.close();
      }
    });

    it('cancels from the other replica: the running job stops at its next step, a queued one at once', async () => {
      ml.setSearchDelay(150);
      const c = await proUser(api);
      const viaWorker = on(worker, c);
      const stream = await openEvents(worker.url, cookieOf(c));
      try {
        const first = (await c.post('/api/v1/jobs', backtest(40))).body.id as string;
        await stream.waitFor((e) => e.type === 'job.progress' && e.data.id === first);
        // The worker runs one job at a time, so the second one waits in the queue.
        const second = (await c.post('/api/v1/jobs', backtest(40))).body.id as string;
        const searchesBefore = ml.requests.filter((q) => q.path === '/v1/similar').length;

        const q = await viaWorker.post(`/api/v1/jobs/${second}/cancel`);
        expect(q.status).toBe(202);
        expect(q.body).toEqual({ id: second, status: 'canceled' });
        // The running job runs on the worker replica; its cancel is sent to the API replica.
        const r = await c.post(`/api/v1/jobs/${first}/cancel`);
        expect(r.status).toBe(202);
        expect(r.body).toEqual({ id: first, status: 'canceling' });

        const done = await stream.waitFor((e) => e.type === 'job.done' && e.data.id === first);
        expect(done.data).toMatchObject({ status: 'failed', error: 'canceled by the user' });
        const job = (await c.get(`/api/v1/jobs/${first}`)).body;
        expect(job.status).toBe('failed');
        expect(job.progress).toBeLessThan(1);
        await worker.services.jobs.idle();
        const queued = (await viaWorker.get(`/api/v1/jobs/${second}`)).body;
        expect(queued).toMatchObject({ status: 'failed', error: 'canceled by the user', progress: 0 });
        // Stopped early: far fewer than the 40 searches of the first job, none of the second's.
        const searches = ml.requests.filter((q) => q.path === '/v1/similar').length;
        expect(searches - searchesBefore).toBeLessThan(5);
        expect(stream.events.some((e) => e.type === 'job.progress' && e.data.id === second)).toBe(false);
        expect((await c.post(`/api/v1/jobs/${first}/cancel`)).status).toBe(409);
        expect((await c.post('/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
      } finally {
        stream.close();
      }
    });
  });

  /** A backend process runs a slow job; it is killed with SIGKILL once the job is under way. */
  async function killMidJob(c: Client) {
    const victim = await startBackendProcess(env);
    let id = '';
    const stream = await openEvents(api.url, cookieOf(c));
    try {
      ml.setSearchDelay(150);
      id = (await c.post('/api/v1/jobs', backtest(12))).body.id as string;
      await stream.waitFor((e) => e.type === 'job.progress' && e.data.id === id && e.data.progress! >= 0.25);
    } finally {
      await victim.kill9();
    }
    expect((await c.get(`/api/v1/jobs/${id}`)).body.status).toBe('running');
    return { id, stream };
  }

  it('a replica killed mid-job: a live worker takes the job over, and a starting one fails nothing', async () => {
    const c = await proUser(api);
    const { id, stream } = await killMidJob(c);
    const heir = await startApp({ ...env, JOB_MAX_STALLED: '1' });
    try {
      // Starting is not a reason to fail another replica's running job (the in-process rule).
      expect((await c.get(`/api/v1/jobs/${id}`)).body.status).not.toBe('failed');
      const done = await stream.waitFor((e) => e.type === 'job.done' && e.data.id === id, 30_000);
      expect(done.data).toMatchObject({ status: 'succeeded' });
      const job = (await c.get(`/api/v1/jobs/${id}`)).body;
      expect(job).toMatchObject({ status: 'succeeded', progress: 1 });
      expect(job.result.samples).toHaveLength(12);
    } finally {
      stream.close();
      ml.setSearchDelay(0);
      await heir.close();
    }
  });

  it('a replica killed mid-job with no retry allowed: the job fails with a clear error, not stuck running', async () => {
    const c = await proUser(api);
    const { id, stream } = await killMidJob(c);
    const heir = await startApp({ ...env, JOB_MAX_STALLED: '0' });
    try {
      const done = await stream.waitFor((e) => e.type === 'job.done' && e.data.id === id, 30_000);
      expect(done.data.status).toBe('failed');
      expect(done.data.error).toMatch(/^the backend running this job stopped/);
      const job = (await c.get(`/api/v1/jobs/${id}`)).body;
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/stalled/);
    } finally {
      stream.close();
      ml.setSearchDelay(0);
      await heir.close();
    }
  });

  it('a starting replica fails a live row only when the queue says its job is gone, never a young one', async () => {
    const c = await proUser(api);
    const userId = (await c.get('/api/v1/me')).body.id as string;
    const insert = {
      run: (...args: unknown[]) =>
        rawSql(api.services).run(
          'INSERT INTO jobs (id, user_id, kind, params, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?)',
          ...args,
        ),
    };
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const young = new Date().toISOString();
    const lost = randomUUID();
    const justInserted = randomUUID();
    // Running, an hour old, and unknown to BullMQ (Redis was emptied while every replica was down).
    await insert.run(lost, userId, 'backtest', '{}', 'running', old, old);
    // Just recorded by a replica that has not queued it yet: not the starting replica's business.
    await insert.run(justInserted, userId, 'backtest', '{}', 'queued', young, young);
    const starting = await startApp({ ...env, JOBS_WORKER: 'false' });
    try {
      expect((await c.get(`/api/v1/jobs/${lost}`)).body).toMatchObject({
        status: 'failed',
        error: 'the job was lost from the job queue (was Redis emptied?)',
      });
      expect((await c.get(`/api/v1/jobs/${justInserted}`)).body.status).toBe('queued');
    } finally {
      await rawSql(api.services).run('DELETE FROM jobs WHERE id = ?', justInserted);
      await starting.close();
    }
  });
});

describe('shutdown when Redis went away first', () => {
  // A stack taken down all at once may stop Redis before backend: a graceful quit then waits in ioredis'
  // offline queue for an answer that never comes, and the replica hung until its supervisor's SIGKILL.
  it('closes the queue, the worker and the shared state without Redis', async () => {
    const [ml, redis] = await Promise.all([startMlStandIn(), startRedis()]);
    const app = await startApp({ ML_URL: ml.url, REDIS_URL: redis.url });
    try {
      expect(app.services.jobs.kind).toBe('bullmq');
      // The worker is up and blocked on Redis, as in a running replica.
      await new Promise((r) => setTimeout(r, 300));
      await redis.stop();
      const closed = await Promise.race([
        app.close().then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('still waiting after 15 s'), 15_000)),
      ]);
      expect(closed).toBe('closed');
    } finally {
      await ml.close();
    }
  }, 30_000);
});
