/**
 * The job queue without Redis (one backend): cancel of a queued and of a running job, jobs the previous
 * process left queued run at start, and jobs it left running are failed (they were its own: in this
 * mode one backend owns its database).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
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
  await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
  return c;
}

describe('in-process job queue', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url, RATE_LIMIT_USER_PER_MIN: '1000' });
  });
  afterAll(async () => {
    await app?.close();
    await ml?.close();
  });

  it('cancels a queued job at once and a running one at its next step', async () => {
    expect(app.services.jobs.kind).toBe('in-process');
    ml.setSearchDelay(100);
    const c = await proUser(app);
    const stream = await openEvents(app.url, [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    try {
      const running = (await c.post('/api/v1/jobs', backtest(40))).body.id as string;
      await stream.waitFor((e) => e.type === 'job.progress' && e.data.id === running);
      const queued = (await c.post('/api/v1/jobs', backtest(40))).body.id as string;
      expect((await c.post(`/api/v1/jobs/${queued}/cancel`)).body).toEqual({
        id: queued,
        status: 'canceled',
      });
      expect((await c.post(`/api/v1/jobs/${running}/cancel`)).body).toEqual({
        id: running,
        status: 'canceling',
      });
      await app.services.jobs.idle();
      const a = (await c.get(`/api/v1/jobs/${running}`)).body;
      expect(a).toMatchObject({ status: 'failed', error: 'canceled by the user' });
      expect(a.progress).toBeLessThan(1);
      expect((await c.get(`/api/v1/jobs/${queued}`)).body).toMatchObject({
        status: 'failed',
        error: 'canceled by the user',
        progress: 0,
      });
      expect(stream.events.some((e) => e.type === 'job.progress' && e.data.id === queued)).toBe(false);
      expect((await c.post(`/api/v1/jobs/${queued}/cancel`)).status).toBe(409);
      // Another user's job is not theirs to cancel.
      const other = await registered(app);
      expect((await other.post(`/api/v1/jobs/${running}/cancel`)).status).toBe(404);
    } finally {
      stream.close();
      ml.setSearchDelay(0);
    }
  });

  it('at start, fails the jobs its previous run left running and runs the ones it left queued', async () => {
    const c = await proUser(app);
    const userId = (await c.get('/api/v1/me')).body.id as string;
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const insert = {
      run: (...args: unknown[]) =>
        rawSql(app.services).run(
          'INSERT INTO jobs (id, user_id, kind, params, status, progress, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)',
          ...args,
        ),
    };
    const wasRunning = randomUUID();
    const wasQueued = randomUUID();
    await insert.run(
      wasRunning,
      userId,
      'backtest',
      JSON.stringify(backtest(2).params),
      'running',
      0.5,
      old,
      old,
    );
    await insert.run(
      wasQueued,
      userId,
      'backtest',
      JSON.stringify(backtest(2).params),
      'queued',
      0,
      old,
      old,
    );
    // A second backend on the same database stands for this one restarted.
    const again = await startApp({ ML_URL: ml.url, ...sameDatabaseAs(app) });
    try {
      await again.services.jobs.idle();
      const viaAgain = again.client();
      for (const [k, v] of c.cookies) viaAgain.cookies.set(k, v);
      expect((await viaAgain.get(`/api/v1/jobs/${wasRunning}`)).body).toMatchObject({
        status: 'failed',
        error: 'interrupted by a restart',
      });
      const ran = (await viaAgain.get(`/api/v1/jobs/${wasQueued}`)).body;
      expect(ran).toMatchObject({ status: 'succeeded', progress: 1 });
      expect(ran.result.samples).toHaveLength(2);
    } finally {
      await again.close();
    }
  });
});
