/**
 * Two backend replicas on one database and one real Redis (REDIS_URL) behave as one: quotas, limits,
 * password guesses, revocations and job events hold across them. Without Redis each replica keeps its
 * own counters, revocation list and event streams, and every test here fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { startRedis, type RedisServer } from './support/redis-server.js';
import {
  PASSWORD,
  registered,
  startApp,
  type Client,
  type TestApp,
  rawSql,
  sameDatabaseAs,
} from './support/harness.js';

const similar = { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, topK: 5, horizon: 10 };

/** The same browser session, pointed at the other replica (a proxy may send any request to either). */
function on(app: TestApp, c: Client): Client {
  const other = app.client();
  for (const [k, v] of c.cookies) other.cookies.set(k, v);
  return other;
}

/** Events of one SSE stream until `until` matches one or 10 s pass; `start` runs once the stream is open. */
async function streamEvents(
  url: string,
  cookie: string,
  until: (type: string) => boolean,
  start: () => Promise<unknown>,
) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { cookie }, signal: ac.signal });
  const reader = res.body!.getReader();
  const seen: { type: string; data: { id?: string; status?: string } }[] = [];
  const timer = setTimeout(() => ac.abort(), 10_000);
  let buf = '';
  await start();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (type && data) {
          seen.push({ type, data: JSON.parse(data) });
          if (until(type)) return seen;
        }
      }
    }
  } catch {
    return seen;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return seen;
}

describe('two replicas sharing Redis', () => {
  let ml: MlStandIn;
  let redis: RedisServer;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [ml, redis] = await Promise.all([startMlStandIn(), startRedis()]);
    const env = {
      ML_URL: ml.url,
      REDIS_URL: redis.url,
      LOGIN_MAX_PER_ACCOUNT: '4',
      RATE_LIMIT_USER_PER_MIN: '40',
    };
    a = await startApp(env);
    b = await startApp({ ...env, ...sameDatabaseAs(a) });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.stop();
    await ml?.close();
  });

  it('an account made on one replica logs in on the other', async () => {
    const c = await registered(a, 'both@example.com');
    const r = await b.client().post('/api/v1/auth/login', { email: 'both@example.com', password: PASSWORD });
    expect(r.status).toBe(200);
    expect((await on(b, c).get('/api/v1/me')).body.email).toBe('both@example.com');
  });

  it("holds a free user's 5 searches a day across replicas under 20 concurrent requests", async () => {
    const c = await registered(a);
    const viaB = on(b, c);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? viaB : c).post('/api/v1/similar', similar)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(5);
    expect((await viaB.get('/api/v1/me')).body.usage.searchesToday).toBe(5);
    // Counted in Redis, not in the replicas' shared database (the in-process store).
    expect(await redis.client.keys('resemble:quota*')).not.toHaveLength(0);
    expect(await rawSql(a.services).get('SELECT COUNT(*) AS n FROM usage')).toEqual({ n: 0 });
  });

  it('gives a search back in Redis when ml-service fails', async () => {
    const c = await registered(b);
    expect((await c.post('/api/v1/similar', similar)).status).toBe(200);
    ml.setDown(true);
    try {
      expect((await c.post('/api/v1/similar', similar)).status).toBe(503);
    } finally {
      ml.setDown(false);
    }
    expect((await on(a, c).get('/api/v1/me')).body.usage.searchesToday).toBe(1);
  });

  it('a logout on one replica is refused by the other at once', async () => {
    const c = await registered(a);
    const viaB = on(b, c);
    // B has verified (and memoised) the token before the logout.
    expect((await viaB.get('/api/v1/me')).status).toBe(200);
    expect((await c.post('/api/v1/auth/logout')).status).toBe(200);
    const r = await viaB.get('/api/v1/me');
    expect(r.status).toBe(401);
  });

  it('counts wrong passwords on either replica against one per-account limit', async () => {
    await registered(a, 'guessed@example.com');
    for (let i = 0; i < 4; i++) {
      const app = i % 2 ? b : a;
      expect(
        (
          await app
            .client()
            .post('/api/v1/auth/login', { email: 'guessed@example.com', password: 'wrong password guess' })
        ).status,
      ).toBe(401);
    }
    expect(
      (await b.client().post('/api/v1/auth/login', { email: 'guessed@example.com', password: PASSWORD }))
        .status,
    ).toBe(429);
    expect(
      (await a.client().post('/api/v1/auth/login', { email: 'guessed@example.com', password: PASSWORD }))
        .status,
    ).toBe(429);
  });

  it('limits a user per minute across replicas', async () => {
    const prices = '/api/v1/entities/AAA/prices?from=2015-01-01&to=2015-01-05';
    const c = await registered(a);
    const viaB = on(b, c);
    for (let i = 0; i < 40; i++) expect((await (i % 2 ? viaB : c).get(prices)).status).toBe(200);
    expect((await viaB.get(prices)).status).toBe(429);
    expect((await c.get(prices)).status).toBe(429);
  });

  it("streams a job's progress on the replica the browser holds the stream on, while the other runs it", async () => {
    const c = await registered(a);
    const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
    const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
    expect(
      (await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' })).body.plan,
    ).toBe('pro');
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let id = '';
    const events = await streamEvents(
      `${b.url}/api/v1/events`,
      cookie,
      (t) => t === 'job.done',
      async () => {
        const r = await c.post('/api/v1/jobs', {
          kind: 'backtest',
          params: { code: 'AAA', windowLength: 30, horizon: 10, samples: 3, topK: 5 },
        });
        expect(r.status).toBe(202);
        id = r.body.id;
      },
    );
    expect(events.filter((e) => e.type === 'job.progress' && e.data.id === id).length).toBeGreaterThanOrEqual(
      3,
    );
    expect(events.at(-1)).toMatchObject({ type: 'job.done', data: { id, status: 'succeeded' } });
  });
});
