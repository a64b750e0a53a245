import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type TestApp, type Client } from './support/harness.js';

const similar = (over: Record<string, unknown> = {}) => ({
  query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' },
  topK: 5,
  horizon: 10,
  ...over,
});

async function upgrade(c: Client): Promise<void> {
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  const done = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
  if (done.body.plan !== 'pro') throw new Error(`upgrade failed: ${done.text}`);
}

describe('search proxy, plans and quota', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('proxies /similar unchanged in meaning', async () => {
    const c = await registered(app);
    const r = await c.post('/api/v1/similar', similar());
    expect(r.status).toBe(200);
    const direct = await fetch(`${ml.url}/v1/similar`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...similar(), metric: 'zned', normalize: 'z', mode: 'history' }),
    });
    expect(r.body).toEqual(await direct.json());
    expect(r.body.matches).toHaveLength(5);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(r.headers.get('content-length'))).toBe(Buffer.byteLength(r.text));
  });

  it('proxies entities, prices and predict; passes 404 from ml-service through', async () => {
    const c = await registered(app);
    const ents = await c.get('/api/v1/entities?q=B&limit=5');
    expect(ents.body.entities.map((e: { code: string }) => e.code)).toEqual(['BBB']);
    expect(ents.body.entities[0]).toMatchObject({
      name: 'BBB Corp',
      sector: 'Tests',
      kind: 'stock',
      hasPrices: true,
      match: 'codePrefix',
    });
    expect(ents.body.asOf).toBe('2016-02-04');
    const prices = await c.get('/api/v1/entities/AAA/prices?from=2015-01-01&to=2015-01-10');
    expect(prices.body.rows).toHaveLength(10);
    // asOf is the stock's newest price, whatever window was asked for.
    expect(prices.body.asOf).toBe('2016-02-04');
    expect((await c.get('/api/v1/entities/facets')).body).toEqual({
      markets: ['TEST'],
      sectors: ['Tests'],
      kinds: ['stock'],
    });
    const missing = await c.get('/api/v1/entities/ZZZ/prices');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('unknown_code');
    const p = await c.post('/api/v1/predict', {
      query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' },
      model: 'baseline',
    });
    expect(p.status).toBe(200);
    expect(p.body.model).toBe('baseline');
  });

  it('validates queries, params and bodies', async () => {
    const c = await registered(app);
    expect((await c.get('/api/v1/entities?limit=1000')).status).toBe(400);
    expect((await c.get('/api/v1/entities/..%2Fetc/prices')).status).toBe(400);
    expect((await c.get('/api/v1/entities/AAA/prices?from=yesterday')).status).toBe(400);
    const r = await c.post('/api/v1/similar', { query: { series: [1, 2, 3] } });
    expect(r.status).toBe(400);
    expect(r.body.error.details[0].path).toContain('query');
  });

  it('enforces the free plan: 5 searches a UTC day, then 429 with reset time and upgrade hint', async () => {
    const c = await registered(app);
    for (let i = 0; i < 5; i++) expect((await c.post('/api/v1/similar', similar())).status).toBe(200);
    const over = await c.post('/api/v1/similar', similar());
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('quota_exceeded');
    expect(over.body.error.details.upgradeUrl).toBe('/pricing');
    const resetsAt = new Date(over.body.error.details.resetsAt);
    expect(resetsAt.getUTCHours()).toBe(0);
    expect(resetsAt.getTime()).toBeGreaterThan(Date.now());
    expect((await c.get('/api/v1/me')).body.usage).toMatchObject({ searchesToday: 5, quota: 5 });
  });

  it('keeps the daily quota exact under concurrent searches', async () => {
    const c = await registered(app);
    const statuses = (
      await Promise.all(Array.from({ length: 12 }, () => c.post('/api/v1/similar', similar())))
    ).map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect((await c.get('/api/v1/me')).body.usage).toMatchObject({ searchesToday: 5, quota: 5 });
  });

  it('counts every search-backed call against the free quota: predict with the analogue model too, baseline not', async () => {
    const c = await registered(app);
    const predict = (model: string) =>
      c.post('/api/v1/predict', { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, model });
    for (let i = 0; i < 3; i++) expect((await c.post('/api/v1/similar', similar())).status).toBe(200);
    expect((await predict('analogue')).status).toBe(200);
    // The default model is the analogue one: a body without "model" is a search as well.
    expect(
      (await c.post('/api/v1/predict', { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' } }))
        .status,
    ).toBe(200);
    expect((await c.get('/api/v1/me')).body.usage).toMatchObject({ searchesToday: 5, quota: 5 });
    const over = await predict('analogue');
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('quota_exceeded');
    expect((await c.post('/api/v1/similar', similar())).status).toBe(429);
    // The baseline is the stock's own drift, no search: it neither counts nor is refused by the quota.
    expect((await predict('baseline')).status).toBe(200);
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(5);
  });

  it('enforces free plan limits with 403 plan_limit', async () => {
    const c = await registered(app);
    const topK = await c.post('/api/v1/similar', similar({ topK: 6 }));
    expect(topK.status).toBe(403);
    expect(topK.body.error).toMatchObject({ code: 'plan_limit', details: { field: 'topK', max: 5 } });
    expect((await c.post('/api/v1/similar', similar({ metric: 'dtw' }))).body.error.code).toBe('plan_limit');
    expect(
      (
        await c.post('/api/v1/predict', {
          query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' },
          model: 'brainjs',
        })
      ).body.error.code,
    ).toBe('plan_limit');
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(0);
  });

  it('sign up, search, hit the quota, upgrade through the sandbox, search more', async () => {
    const c = await registered(app);
    for (let i = 0; i < 5; i++) await c.post('/api/v1/similar', similar());
    expect((await c.post('/api/v1/similar', similar())).status).toBe(429);
    await upgrade(c);
    const me = (await c.get('/api/v1/me')).body;
    expect(me).toMatchObject({
      plan: 'pro',
      billingProvider: 'sandbox',
      testMode: true,
      usage: { quota: null },
    });
    for (let i = 0; i < 3; i++)
      expect((await c.post('/api/v1/similar', similar({ topK: 50, metric: 'dtw' }))).status).toBe(200);
  });

  it('answers 503 when ml-service is down, keeps running, and does not charge the quota', async () => {
    const c = await registered(app);
    ml.setDown(true);
    try {
      const r = await c.post('/api/v1/similar', similar());
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('ml_unavailable');
      expect(r.body.error.message).toMatch(/temporarily unavailable/);
    } finally {
      ml.setDown(false);
    }
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(0);
  });

  it('answers 503 when ml-service is unreachable', async () => {
    const dead = await startApp({ ML_URL: 'http://127.0.0.1:9', ML_TIMEOUT_MS: '500' });
    try {
      const c = await registered(dead);
      const r = await c.post('/api/v1/similar', similar());
      expect(r.status).toBe(503);
      expect((await c.get('/api/v1/health')).body.ml).toBe('down');
    } finally {
      await dead.close();
    }
  });

  it('exports CSV for Pro only', async () => {
    const c = await registered(app);
    const free = await c.post('/api/v1/export/similar.csv', similar());
    expect(free.status).toBe(403);
    expect(free.body.error.code).toBe('plan_required');
    await upgrade(c);
    const r = await c.post('/api/v1/export/similar.csv', similar({ topK: 3 }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = r.text.trim().split('\r\n');
    expect(lines[0]).toBe('rank,code,start,end,distance,forward_return,data_version,as_of,timeframe');
    expect(lines).toHaveLength(4);
    expect(lines[1]!.split(',').slice(-2)).toEqual(['2016-02-04', 'D']);
  });

  it.each([
    ['GET', '/api/v1/entities?q=A'],
    ['GET', '/api/v1/entities/AAA/prices'],
    ['GET', '/api/v1/entities/facets'],
    ['POST', '/api/v1/similar'],
    ['POST', '/api/v1/predict'],
    ['POST', '/api/v1/export/similar.csv'],
  ])('%s %s requires authentication', async (method, path) => {
    const r = await app.client().req(method, path, method === 'GET' ? undefined : similar());
    expect(r.status).toBe(401);
  });
});
