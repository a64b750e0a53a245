import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type TestApp } from './support/harness.js';

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
  });
});
