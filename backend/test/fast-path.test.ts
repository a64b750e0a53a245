import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { Client, registered, startApp, type TestApp } from './support/harness.js';
import { createLogger } from '../src/platform/logger.js';

const similar = (over: Record<string, unknown> = {}) => ({ query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, topK: 5, horizon: 10, ...over });
const predict = { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, model: 'baseline' };

/** Status, body and headers of an answer, without what differs per request by nature. */
function shape(r: { status: number; text: string; headers: Headers }) {
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (k === 'date' || k === 'x-request-id' || k === 'etag') return;
    // Remaining count and seconds to reset move with every request; the policy and format must not.
    headers[k] = k === 'ratelimit' ? v.replace(/r=\d+; t=\d+/g, 'r=?; t=?') : v;
  });
  return { status: r.status, body: r.text, headers, etag: r.headers.has('etag') };
}

describe('fast dispatch of the proxy routes answers as Express does', () => {
  let ml: MlStandIn;
  let app: TestApp;
  let expressOnly: Server;
  let lines: string[];
  beforeAll(async () => {
    ml = await startMlStandIn();
    lines = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    app = await startApp({ ML_URL: ml.url, FREE_SEARCHES_PER_DAY: '3', LOG_LEVEL: 'info' }, { logger: createLogger('info', sink) });
    // The same built app (same database, limits and sessions) served by Express alone.
    expressOnly = createServer(app.expressApp).listen(0, '127.0.0.1');
    await new Promise((ok) => expressOnly.once('listening', ok));
  });
  afterAll(async () => {
    expressOnly.closeAllConnections();
    await new Promise((ok) => expressOnly.close(ok));
    await app.close();
    await ml.close();
  });

  /** One client, its requests sent alternately to the fast path and to Express. */
  async function both(c: Client, send: (c: Client) => Promise<{ status: number; text: string; headers: Headers }>) {
    const fast = await send(c);
    const viaExpress = await send(c.at(`http://127.0.0.1:${(expressOnly.address() as AddressInfo).port}`));
    expect(shape(fast)).toEqual(shape(viaExpress));
    return fast;
  }

  it('successes, validation errors, plan limits and quota', async () => {
    const c = await registered(app);
    expect((await both(c, (x) => x.post('/api/v1/similar', similar()))).status).toBe(200);
    expect((await both(c, (x) => x.post('/api/v1/predict', predict))).status).toBe(200);
    expect((await both(c, (x) => x.post('/api/v1/similar', { query: { series: [1, 2] } }))).status).toBe(400);
    expect((await both(c, (x) => x.post('/api/v1/similar', '{"query":', { 'content-type': 'application/json' }))).status).toBe(400);
    expect((await both(c, (x) => x.post('/api/v1/similar', similar({ topK: 50 })))).status).toBe(403);
    expect((await both(c, (x) => x.post('/api/v1/predict', { ...predict, model: 'brainjs' }))).status).toBe(403);
    expect((await both(c, (x) => x.post('/api/v1/similar', similar({ query: { code: 'ZZZ', start: '2015-02-01', end: '2015-03-15' } })))).status).toBe(404);
    // Quota 3 a day: one success above, two refunded failures; two more succeed, then both paths refuse.
    await c.post('/api/v1/similar', similar());
    expect((await both(c, (x) => x.post('/api/v1/similar', similar()))).status).toBe(429);
  });

  it('authentication, CSRF and ml-service outages', async () => {
    const anon = app.client();
    expect((await both(anon, (x) => x.post('/api/v1/similar', similar()))).status).toBe(401);
    const c = await registered(app);
    c.csrf = false;
    expect((await both(c, (x) => x.post('/api/v1/similar', similar()))).status).toBe(403);
    c.csrf = true;
    ml.setDown(true);
    try {
      expect((await both(c, (x) => x.post('/api/v1/predict', predict))).status).toBe(503);
    } finally {
      ml.setDown(false);
    }
  });

  it('writes the same completion line for a refused request', async () => {
    const anon = app.client();
    const pick = () =>
      lines
        .map((l) => JSON.parse(l))
        .filter((l) => l.msg === 'request completed' && l.req?.headers?.['x-mark'] === 'cmp')
        .map((l) => ({ level: l.level, req: { ...l.req, id: undefined, remotePort: undefined, headers: { ...l.req.headers, host: undefined } }, res: { ...l.res, headers: { ...l.res.headers, date: undefined, 'x-request-id': undefined, ratelimit: undefined } } }));
    await both(anon, (x) => x.post('/api/v1/similar', similar(), { 'x-mark': 'cmp' }));
    const [fast, viaExpress] = pick();
    expect(fast).toEqual(viaExpress);
    expect(fast).toMatchObject({ level: 30, req: { method: 'POST', url: '/api/v1/similar' }, res: { statusCode: 401 } });
  });

  it('leaves other forms of the path to Express', async () => {
    const c = await registered(app);
    expect((await c.post('/api/v1/similar?x=1', similar())).status).toBe(200);
    expect((await c.post('/api/v1/similar/', similar())).status).toBe(200);
    expect((await c.get('/api/v1/similar')).status).toBe(404);
  });
});
