/** Timeframes (D/W/M) through the public API: validation, pass-through to ml-service, saved patterns. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type Client, type TestApp } from './support/harness.js';

const query = { code: 'AAA', start: '2015-02-01', end: '2015-09-15' };

async function upgrade(c: Client): Promise<void> {
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  const done = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
  if (done.body.plan !== 'pro') throw new Error(`upgrade failed: ${done.text}`);
}

describe('timeframes through the public API', () => {
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
  const lastBody = (path: string) => ml.requests.filter((r) => r.path === path).at(-1)!.body;

  it('similar and predict pass the timeframe to ml-service; D is the default', async () => {
    const c = await registered(app);
    const w = await c.post('/api/v1/similar', { query, topK: 3, horizon: 4, timeframe: 'W' });
    expect(w.status).toBe(200);
    expect(w.body.timeframe).toBe('W');
    expect(lastBody('/v1/similar')).toMatchObject({ timeframe: 'W', horizon: 4 });
    expect((await c.post('/api/v1/similar', { query, topK: 3 })).status).toBe(200);
    expect(lastBody('/v1/similar')).toMatchObject({ timeframe: 'D' });
    const p = await c.post('/api/v1/predict', { query, horizon: 2, model: 'baseline', timeframe: 'M' });
    expect(p.status).toBe(200);
    expect(p.body.timeframe).toBe('M');
    expect(lastBody('/v1/predict')).toMatchObject({ timeframe: 'M' });
  });

  it('a bad timeframe is a 400 naming the field and the allowed values, and costs no quota', async () => {
    const c = await registered(app);
    const before = ml.requests.length;
    for (const bad of ['weekly', 'd', 7, null]) {
      const r = await c.post('/api/v1/similar', { query, timeframe: bad });
      expect(r.status).toBe(400);
      expect(r.body.error.details).toContainEqual({
        path: 'timeframe',
        message: 'timeframe must be "D" (daily), "W" (weekly) or "M" (monthly)',
      });
    }
    expect((await c.post('/api/v1/predict', { query, timeframe: 'Y' })).status).toBe(400);
    expect((await c.get('/api/v1/entities/AAA/prices?timeframe=weekly')).status).toBe(400);
    expect(ml.requests.length).toBe(before);
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(0);
  });

  it('prices come as candles of the timeframe asked', async () => {
    const c = await registered(app);
    const daily = await c.get('/api/v1/entities/AAA/prices?from=2015-01-01&to=2015-03-31');
    const weekly = await c.get('/api/v1/entities/AAA/prices?from=2015-01-01&to=2015-03-31&timeframe=W');
    const monthly = await c.get('/api/v1/entities/AAA/prices?from=2015-01-01&to=2015-03-31&timeframe=M');
    expect(daily.body.rows).toHaveLength(90);
    expect(weekly.body.rows).toHaveLength(14); // Thu 1 Jan .. Tue 31 Mar: 13 whole weeks and the partial first
    expect(monthly.body.rows.map((r: { date: string }) => r.date)).toEqual([
      '2015-01-31',
      '2015-02-28',
      '2015-03-31',
    ]);
    expect(monthly.body.rows[0].volume).toBe(31 * 1000);
  });

  it('a saved pattern keeps its timeframe, and its alerts search and say it', async () => {
    const c = await registered(app);
    await upgrade(c);
    const created = await c.post('/api/v1/patterns', {
      name: 'weekly',
      request: { query, timeframe: 'W' },
      threshold: 1000,
    });
    expect(created.status).toBe(201);
    expect(created.body.request.timeframe).toBe('W');
    const listed = (await c.get('/api/v1/patterns')).body.patterns;
    expect(listed.find((p: { id: string }) => p.id === created.body.id).request.timeframe).toBe('W');
    ml.setDataVersion(`tf-${Date.now()}`);
    const scan = await app.services.alerts.tick();
    expect(scan!.fired).toBeGreaterThanOrEqual(1);
    const scans = ml.requests
      .filter((r) => r.path === '/v1/similar')
      .map((r) => r.body as { timeframe: string; mode: string });
    expect(scans.some((b) => b.timeframe === 'W' && b.mode === 'now')).toBe(true);
    const notes = (await c.get('/api/v1/notifications')).body.notifications;
    const mine = notes.find(
      (n: { payload: { patternId: string } }) => n.payload.patternId === created.body.id,
    );
    expect(mine.payload.timeframe).toBe('W');
  });
});
