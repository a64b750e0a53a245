import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type TestApp } from './support/harness.js';
import { loadConfig } from '../src/config.js';

describe('rate limits', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
  });
  afterAll(async () => {
    await app?.close();
    await ml.close();
  });

  it('limits each user on search routes (fair use, Pro included) with 429 rate_limited', async () => {
    app = await startApp({ ML_URL: ml.url, RATE_LIMIT_USER_PER_MIN: '3' });
    const a = await registered(app);
    const b = await registered(app);
    for (let i = 0; i < 3; i++) expect((await a.get('/api/v1/entities?q=A')).status).toBe(200);
    const r = await a.get('/api/v1/entities?q=A');
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    expect(r.headers.get('ratelimit-policy') ?? r.headers.get('ratelimit')).toBeTruthy();
    // Another user from the same address is not affected.
    expect((await b.get('/api/v1/entities?q=A')).status).toBe(200);
    await app.close();
    app = undefined as unknown as TestApp;
  });

  it('limits each IP across the whole API, but never webhooks', async () => {
    app = await startApp({ ML_URL: ml.url, RATE_LIMIT_IP_PER_MIN: '4' });
    const c = app.client();
    for (let i = 0; i < 4; i++) expect((await c.get('/api/v1/plans')).status).toBe(200);
    const r = await c.get('/api/v1/plans');
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    // The sandbox has no Stripe: 404 here proves the request got past the limiter to the router.
    const hook = await c.post('/api/v1/webhooks/stripe', '{}', { 'content-type': 'application/json' });
    expect(hook.status).toBe(404);
    await app.close();
    app = undefined as unknown as TestApp;
  });

  it('reads X-Forwarded-For only from the configured proxy addresses: a direct caller cannot rotate it', async () => {
    // The proxy is elsewhere (a documentation address): this test's loopback connection is a direct caller.
    app = await startApp({
      ML_URL: ml.url,
      RATE_LIMIT_IP_PER_MIN: '4',
      TRUST_PROXY: '192.0.2.10, 198.51.100.0/24',
    });
    const c = app.client();
    const from = (ip: string) => c.get('/api/v1/plans', { 'x-forwarded-for': ip });
    for (let i = 0; i < 4; i++) expect((await from(`203.0.113.${i}`)).status).toBe(200);
    expect((await from('203.0.113.99')).status).toBe(429);
    await app.close();
    // When the connection does come from a configured proxy (loopback here), its X-Forwarded-For names the client.
    app = await startApp({ ML_URL: ml.url, RATE_LIMIT_IP_PER_MIN: '4', TRUST_PROXY: 'loopback' });
    const p = app.client();
    const via = (ip: string) => p.get('/api/v1/plans', { 'x-forwarded-for': ip });
    for (let i = 0; i < 6; i++) expect((await via(`203.0.113.${i}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await via('203.0.113.0')).status).toBe(200);
    expect((await via('203.0.113.0')).status).toBe(429);
  });

  it('refuses a hop count or anything but addresses, subnets and their names in TRUST_PROXY', () => {
    const base = { APP_DB: ':memory:' };
    expect(() => loadConfig({ ...base, TRUST_PROXY: '1' })).toThrow(/TRUST_PROXY.*hop count/);
    expect(() => loadConfig({ ...base, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/40' })).toThrow(/TRUST_PROXY/);
    expect(
      loadConfig({ ...base, TRUST_PROXY: ' 10.0.0.5 , fd00::/8,uniquelocal' }).server.trustProxy,
    ).toEqual(['10.0.0.5', 'fd00::/8', 'uniquelocal']);
    expect(loadConfig({ ...base, TRUST_PROXY: '' }).server.trustProxy).toEqual([]);
    expect(loadConfig(base).server.trustProxy).toEqual(['loopback']);
  });
});
