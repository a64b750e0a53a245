/**
 * The chain to ml-service does not amplify load (issue 14): retries only on refused or reset connections,
 * never after a timeout; a timeout or ml-service's own 504 never opens the breaker; a search carries its
 * deadline; a caller's abort ends the call; one user's long searches wait in that user's own lane.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MlClient } from '../src/search/ml.client.js';
import { UserLanes } from '../src/search/user-lanes.js';
import { createLogger } from '../src/platform/logger.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type Client, type TestApp } from './support/harness.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const body = {
  query: { code: 'AAA', start: '2015-01-01', end: '2015-02-01' },
  topK: 5,
  horizon: 10,
  metric: 'dtw',
  normalize: 'z',
  mode: 'history',
  timeframe: 'D',
} as const;

describe('MlClient retry, breaker and deadline rules', () => {
  let server: Server;
  let base: string;
  let calls = 0;
  let handler: Handler = (_req, res) => res.end('{}');
  const closed: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      calls++;
      req.on('close', () => {
        if (!res.writableFinished) closed.push(req.url ?? '');
      });
      req.resume();
      req.on('end', () => handler(req, res, calls));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    calls = 0;
    closed.length = 0;
    server.closeAllConnections();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  });
  const client = () =>
    new MlClient({ baseUrl: base, timeoutMs: 2_000, retries: 2, logger: createLogger('silent') });

  it('sends a reset call again (the request never ran) and answers', async () => {
    handler = (_req, res, n) => {
      if (n === 1) res.socket?.destroy();
      else res.end('{"ok":1}');
    };
    expect((await client().similarBytes(body)).toString()).toBe('{"ok":1}');
    expect(calls).toBe(2);
  });

  it('never sends a timed-out search again, answers 504, and leaves the breaker closed', async () => {
    handler = () => {};
    const c = client();
    // More than the breaker's threshold (5) of them.
    for (let i = 0; i < 6; i++) {
      calls = 0;
      const err = await c.similarBytes(body, 'rid', { budgetMs: 50 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 504, code: 'search_timeout' });
      expect((err as Error).message).toMatch(/time budget of 50 ms/);
      expect(calls).toBe(1);
    }
    expect(c.circuitState).toBe('closed');
    handler = (_req, res) => res.end('{}');
    expect((await c.similarBytes(body)).toString()).toBe('{}');
  });

  it("passes ml-service's own 504 through, once, without counting it toward the breaker", async () => {
    handler = (_req, res) => {
      res.statusCode = 504;
      res.end(
        '{"error":{"code":"search_timeout","message":"the search did not finish within its time budget of 99 ms and was stopped"}}',
      );
    };
    const c = client();
    for (let i = 0; i < 8; i++) {
      calls = 0;
      await expect(c.similarBytes(body, 'rid', { budgetMs: 1_000 })).rejects.toMatchObject({
        status: 504,
        code: 'search_timeout',
        message: /time budget of 99 ms/,
      });
      expect(calls).toBe(1);
    }
    expect(c.circuitState).toBe('closed');
  });

  it('opens the breaker after repeated 5xx failures (ml-service down), without retrying answers', async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    const c = client();
    for (let i = 0; i < 5; i++)
      await expect(c.similarBytes(body)).rejects.toMatchObject({ status: 503, code: 'ml_unavailable' });
    expect(calls).toBe(5);
    expect(c.circuitState).toBe('open');
    await expect(c.similarBytes(body)).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(5);
  });

  it('tells ml-service the time left (x-deadline-ms), within the budget', async () => {
    let seen: string | undefined;
    handler = (req, res) => {
      seen = req.headers['x-deadline-ms'] as string | undefined;
      res.end('{}');
    };
    await client().similarBytes(body, 'rid', { budgetMs: 5_000 });
    expect(Number(seen)).toBeGreaterThan(4_000);
    expect(Number(seen)).toBeLessThanOrEqual(5_000);
  });

  it('ends the call when its caller aborts: ml-service sees the connection close; no retry, no breaker', async () => {
    handler = () => {};
    const c = client();
    const ac = new AbortController();
    const pending = c
      .similarBytes(body, 'rid', { budgetMs: 10_000, signal: ac.signal })
      .catch((e: unknown) => e);
    while (calls === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await pending).toMatchObject({ status: 499, code: 'client_closed' });
    while (closed.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toEqual(['/v1/similar']);
    expect(calls).toBe(1);
    expect(c.circuitState).toBe('closed');
  });
});

describe('UserLanes (long searches per user)', () => {
  it('runs at most perUser of a user at once, the rest in order, others unaffected', async () => {
    const lanes = new UserLanes(2, 3);
    const order: number[] = [];
    const a1 = await lanes.acquire('a', null);
    const a2 = await lanes.acquire('a', null);
    const waits = [3, 4, 5].map((k) => lanes.acquire('a', null).then((rel) => (order.push(k), rel)));
    expect(lanes.load('a')).toEqual({ running: 2, waiting: 3 });
    // Another user is not behind user a.
    const b = await lanes.acquire('b', null);
    // A fourth waiting search of a's is refused, for a only.
    await expect(lanes.acquire('a', null)).rejects.toMatchObject({ status: 429, code: 'too_many_searches' });
    a1();
    a1(); // a second release of the same slot does nothing
    const r3 = await waits[0]!;
    expect(order).toEqual([3]);
    expect(lanes.load('a')).toEqual({ running: 2, waiting: 2 });
    a2();
    r3();
    const [r4, r5] = await Promise.all([waits[1]!, waits[2]!]);
    expect(order).toEqual([3, 4, 5]);
    r4();
    r5();
    b();
    expect(lanes.load('a')).toEqual({ running: 0, waiting: 0 });
  });

  it('drops a waiting search whose deadline passes (504) or whose client leaves (499)', async () => {
    const lanes = new UserLanes(1, 5);
    const held = await lanes.acquire('a', null);
    await expect(lanes.acquire('a', Date.now() + 30)).rejects.toMatchObject({
      status: 504,
      code: 'search_timeout',
    });
    const ac = new AbortController();
    const gone = lanes.acquire('a', null, ac.signal);
    ac.abort();
    await expect(gone).rejects.toMatchObject({ status: 499 });
    expect(lanes.load('a')).toEqual({ running: 1, waiting: 0 });
    held();
    expect(lanes.load('a')).toEqual({ running: 0, waiting: 0 });
  });
});

describe('one user sending many long searches at once, over HTTP through backend', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url, HEAVY_SEARCHES_PER_USER: '2' });
  });
  afterAll(async () => {
    ml.holdDtw(false);
    await app.close();
    await ml.close();
  });

  async function pro(): Promise<Client> {
    const c = await registered(app);
    const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
    const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
    await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    return c;
  }

  it("holds ml-service's load from one user to two long searches while another user's searches are answered", async () => {
    const heavyUser = await pro();
    const other = await registered(app);
    ml.holdDtw(true);
    ml.resetHeld();
    const tenAtOnce = Array.from({ length: 10 }, (_, i) =>
      heavyUser.post('/api/v1/similar', {
        query: { code: 'AAA', start: '2015-02-01', end: '2015-09-01' },
        metric: 'dtw',
        topK: 100,
        horizon: 5 + i,
      }),
    );
    while (ml.held().now < 2) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 3; i++) {
      const r = await other.post('/api/v1/similar', {
        query: { code: 'BBB', start: '2015-02-01', end: '2015-03-15' },
        topK: 5,
        horizon: 10 + i,
      });
      expect(r.status).toBe(200);
    }
    expect(ml.held()).toEqual({ now: 2, max: 2 });
    ml.holdDtw(false);
    const answers = await Promise.all(tenAtOnce);
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(ml.held().max).toBe(2);
    // Every search told ml-service its deadline, within the Pro budget.
    expect(ml.deadlines.length).toBeGreaterThanOrEqual(13);
    for (const d of ml.deadlines) expect(Number(d)).toBeLessThanOrEqual(30_000);
  });
});
