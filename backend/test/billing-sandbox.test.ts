import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, relogin, startApp, type Client, type TestApp } from './support/harness.js';

async function checkout(c: Client): Promise<string> {
  const r = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ provider: 'sandbox', testMode: true });
  expect(r.body.redirectUrl).toMatch(/^\/billing\/sandbox\?session=/);
  return new URL(r.body.redirectUrl, 'http://x').searchParams.get('session')!;
}

describe('sandbox billing (test mode)', () => {
  let ml: MlStandIn;
  let app: TestApp;
  let now = Date.now();
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url }, { now: () => now });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('lists plans publicly with test mode and the sandbox provider', async () => {
    const r = await app.client().get('/api/v1/plans');
    expect(r.body.testMode).toBe(true);
    expect(r.body.providers).toEqual(['sandbox']);
    const pro = r.body.plans.find((p: { id: string }) => p.id === 'pro');
    expect(pro).toMatchObject({
      priceJpy: 1480,
      interval: 'month',
      limits: { maxTopK: 100, searchesPerDay: null },
    });
    expect(r.body.plans.find((p: { id: string }) => p.id === 'free').limits).toMatchObject({
      searchesPerDay: 5,
      maxTopK: 5,
      metrics: ['zned'],
    });
  });

  it('rejects unavailable providers', async () => {
    const c = await registered(app);
    const r = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'stripe' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('provider_unavailable');
    expect((await c.post('/api/v1/billing/checkout', { plan: 'free', provider: 'sandbox' })).status).toBe(
      400,
    );
  });

  it('declined checkout grants nothing and records a failed payment', async () => {
    const c = await registered(app);
    const session = await checkout(c);
    const r = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'decline' });
    expect(r.body).toMatchObject({ outcome: 'declined', plan: 'free', subscription: null });
    expect(r.body.payments[0]).toMatchObject({ status: 'failed', provider: 'sandbox' });
    const again = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    expect(again.status).toBe(409);
    expect((await c.get('/api/v1/me')).body.plan).toBe('free');
  });

  it("cannot complete someone else's checkout session", async () => {
    const owner = await registered(app);
    const thief = await registered(app);
    const session = await checkout(owner);
    const r = await thief.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    expect(r.status).toBe(404);
    expect((await thief.get('/api/v1/me')).body.plan).toBe('free');
  });

  it('upgrades, renews monthly exactly once per period, and survives a re-run', async () => {
    const c = await registered(app);
    const session = await checkout(c);
    const done = await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    expect(done.body).toMatchObject({
      outcome: 'success',
      plan: 'pro',
      subscription: { provider: 'sandbox', status: 'active', cancelAtPeriodEnd: false },
    });
    expect((await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' })).status).toBe(409);
    const end1 = done.body.subscription.currentPeriodEnd;
    now = Date.parse(end1) + 1000;
    await app.services.billing.renewDue();
    await app.services.billing.renewDue();
    await relogin(c);
    const after = (await c.get('/api/v1/billing/subscription')).body;
    expect(after.plan).toBe('pro');
    expect(Date.parse(after.subscription.currentPeriodEnd)).toBeGreaterThan(Date.parse(end1));
    expect(after.payments.filter((p: { status: string }) => p.status === 'succeeded')).toHaveLength(2);
    now = Date.now();
  });

  it('a declined renewal sends the user to fix payment and access ends with the period', async () => {
    const c = await registered(app);
    const session = await checkout(c);
    await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    const r = await c.post('/api/v1/billing/sandbox/renew', { outcome: 'decline' });
    expect(r.body).toMatchObject({
      outcome: 'declined',
      subscription: { status: 'past_due', needsPaymentFix: true },
    });
    now = Date.parse(r.body.subscription.currentPeriodEnd) + 1000;
    try {
      await relogin(c);
      expect((await c.get('/api/v1/me')).body.plan).toBe('free');
      await app.services.billing.renewDue();
      expect((await c.get('/api/v1/billing/subscription')).body.subscription.status).toBe('canceled');
      // Fixing payment = a new checkout.
      const s2 = await checkout(c);
      expect(
        (await c.post('/api/v1/billing/sandbox/complete', { session: s2, outcome: 'success' })).body.plan,
      ).toBe('pro');
    } finally {
      now = Date.now();
    }
  });

  it('renewal paid in test mode extends the period', async () => {
    const c = await registered(app);
    const session = await checkout(c);
    const first = (await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' })).body
      .subscription.currentPeriodEnd;
    const r = await c.post('/api/v1/billing/sandbox/renew', { outcome: 'success' });
    expect(r.body.outcome).toBe('renewed');
    expect(Date.parse(r.body.subscription.currentPeriodEnd)).toBeGreaterThan(Date.parse(first));
  });

  it('cancel keeps Pro to the end of the paid period, then drops to free', async () => {
    const c = await registered(app);
    expect((await c.post('/api/v1/billing/cancel')).status).toBe(409);
    const session = await checkout(c);
    await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
    const r = await c.post('/api/v1/billing/cancel');
    expect(r.body).toMatchObject({ plan: 'pro', subscription: { cancelAtPeriodEnd: true } });
    now = Date.parse(r.body.subscription.currentPeriodEnd) + 1000;
    try {
      await app.services.billing.renewDue();
      await relogin(c);
      const after = (await c.get('/api/v1/billing/subscription')).body;
      expect(after.plan).toBe('free');
      expect(after.subscription.status).toBe('canceled');
      expect(after.payments.filter((p: { status: string }) => p.status === 'succeeded')).toHaveLength(1);
    } finally {
      now = Date.now();
    }
  });

  it('validates billing bodies', async () => {
    const c = await registered(app);
    expect(
      (await c.post('/api/v1/billing/sandbox/complete', { session: 'x', outcome: 'maybe' })).status,
    ).toBe(400);
    expect((await c.post('/api/v1/billing/sandbox/renew', { outcome: 'success' })).status).toBe(409);
    expect((await c.post('/api/v1/billing/portal')).status).toBe(404);
    expect((await c.get('/api/v1/billing/amazonpay/button')).status).toBe(404);
  });

  it.each([
    ['POST', '/api/v1/billing/checkout'],
    ['GET', '/api/v1/billing/subscription'],
    ['POST', '/api/v1/billing/cancel'],
    ['POST', '/api/v1/billing/portal'],
    ['POST', '/api/v1/billing/sandbox/complete'],
    ['POST', '/api/v1/billing/sandbox/renew'],
    ['GET', '/api/v1/billing/amazonpay/button'],
    ['POST', '/api/v1/billing/amazonpay/complete'],
  ])('%s %s requires authentication', async (method, path) => {
    const r = await app.client().req(method, path, method === 'GET' ? undefined : {});
    expect(r.status).toBe(401);
  });
});
