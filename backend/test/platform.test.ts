import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger } from '../src/platform/logger.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type TestApp } from './support/harness.js';

describe('platform', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn({ token: 'ml-secret' });
    app = await startApp({ ML_URL: ml.url, ML_TOKEN: 'ml-secret' });
  });
  afterAll(async () => {
    await app.close();
    await ml.close();
  });

  it('reports health with ml up, then down without falling over', async () => {
    const c = app.client();
    expect((await c.get('/api/v1/health')).body).toMatchObject({ status: 'ok', ml: 'up', dataVersion: 'v1' });
    ml.setDown(true);
    try {
      const r = await c.get('/api/v1/health');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'ok', ml: 'down' });
    } finally {
      ml.setDown(false);
    }
  });

  it('echoes a caller request id and forwards it with the ml token', async () => {
    const c = await registered(app);
    const r = await c.get('/api/v1/entities?q=A', { 'x-request-id': 'trace-abc-123' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('trace-abc-123');
    const seen = ml.requests.filter((q) => q.path === '/v1/entities').at(-1)!;
    expect(seen.requestId).toBe('trace-abc-123');
    expect(seen.auth).toBe('Bearer ml-secret');
  });

  it("treats an ml-service token mismatch as our outage (503), not the user's error", async () => {
    const wrong = await startApp({ ML_URL: ml.url, ML_TOKEN: 'not-the-token' });
    try {
      const c = await registered(wrong);
      const r = await c.get('/api/v1/entities?q=A');
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('ml_unavailable');
    } finally {
      await wrong.close();
    }
  });

  it('makes up a request id when the caller sends none or an unsafe one', async () => {
    const c = app.client();
    const a = await c.get('/api/v1/plans');
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const b = await c.get('/api/v1/plans', { 'x-request-id': 'bad id with spaces <script>' });
    expect(b.headers.get('x-request-id')).not.toContain('script');
  });

  it('sets a strict CSP on API answers and no x-powered-by', async () => {
    const r = await app.client().get('/api/v1/plans');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(r.headers.get('x-powered-by')).toBeNull();
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers unknown routes, bad JSON and oversized bodies with the error shape', async () => {
    const c = app.client();
    const nf = await c.get('/api/v1/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('not_found');
    const bad = await c.post('/api/v1/auth/login', '{"email":', { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'invalid_request',
      message: 'request body is not valid JSON',
    });
    const big = await c.post('/api/v1/auth/login', { email: 'a@b.co', password: 'x'.repeat(200_000) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
  });

  it('answers a login body whose email is an object with 400, not 500', async () => {
    const r = await app
      .client()
      .post('/api/v1/auth/login', { email: { toString: 1 }, password: 'whatever password' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_request');
    expect((r.body.error.details as { path: string }[]).map((d) => d.path)).toContain('email');
  });

  it.each(['/api/v1/jobs/%', '/api/v1/entities/%zz/prices', '/api/v1/patterns/%E0%A4%A'])(
    'answers a bad percent-escape in a path parameter (%s) with 400, not 500',
    async (path) => {
      const c = await registered(app);
      const r = await c.req(path.includes('patterns') ? 'DELETE' : 'GET', path);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.message).toMatch(/percent/);
    },
  );

  it('names every invalid field of a body', async () => {
    const r = await app
      .client()
      .post('/api/v1/auth/register', { email: 'not-an-email', password: 'short', extra: 1 });
    expect(r.status).toBe(400);
    const paths = (r.body.error.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['email', 'password']));
  });

  it('lists every bad env key at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', ML_URL: 'not a url', NODE_ENV: 'staging' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT');
    expect(msg).toContain('ML_URL');
    expect(msg).toContain('NODE_ENV');
  });

  it('requires JWT_SECRET in production and complete provider key sets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', APP_DB: ':memory:' })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ APP_DB: ':memory:', STRIPE_SECRET_KEY: 'sk_test_x' })).toThrow(
      /STRIPE_WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ APP_DB: ':memory:', AMAZON_PAY_MERCHANT_ID: 'M' })).toThrow(
      /AMAZON_PAY_PUBLIC_KEY_ID/,
    );
  });

  it('parses the env into typed parts: a provider block or null, real booleans, typos refused', () => {
    const base = { APP_DB: ':memory:' };
    const plain = loadConfig(base);
    expect(plain.billing).toMatchObject({ stripe: null, amazonPay: null, sandbox: true });
    expect(plain.server).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      cookieSecure: false,
      trustProxy: ['loopback'],
    });
    const amazon = {
      AMAZON_PAY_PUBLIC_KEY_ID: 'K',
      AMAZON_PAY_PRIVATE_KEY: 'PEM',
      AMAZON_PAY_MERCHANT_ID: 'M',
      AMAZON_PAY_STORE_ID: 'S',
    };
    const paid = loadConfig({
      ...base,
      ...amazon,
      AMAZON_PAY_SANDBOX: 'false',
      STRIPE_SECRET_KEY: 'sk',
      STRIPE_WEBHOOK_SECRET: 'wh',
      STRIPE_PRICE_PRO: 'pr',
    });
    expect(paid.billing.stripe).toEqual({ secretKey: 'sk', webhookSecret: 'wh', pricePro: 'pr' });
    expect(paid.billing.amazonPay).toEqual({
      publicKeyId: 'K',
      privateKey: 'PEM',
      merchantId: 'M',
      storeId: 'S',
      sandbox: false,
    });
    expect(paid.billing.sandbox).toBe(false);
    expect(loadConfig({ ...base, ...amazon }).billing.amazonPay?.sandbox).toBe(true);
    // "yes" is not silently false: the operator hears which key is wrong.
    expect(() =>
      loadConfig({ ...base, ...amazon, AMAZON_PAY_SANDBOX: 'yes', BILLING_SANDBOX: 'no' }),
    ).toThrow(/AMAZON_PAY_SANDBOX[\s\S]*BILLING_SANDBOX/);
  });

  it('refuses production without a payment provider unless the sandbox is enabled on purpose, listing what is missing', () => {
    const prod = { NODE_ENV: 'production', APP_DB: ':memory:', JWT_SECRET: 'p'.repeat(40) };
    let err: unknown;
    try {
      loadConfig(prod);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const key of [
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'STRIPE_PRICE_PRO',
      'AMAZON_PAY_PUBLIC_KEY_ID',
      'AMAZON_PAY_STORE_ID',
      'BILLING_SANDBOX=true',
    ]) {
      expect(msg).toContain(key);
    }
    expect(loadConfig({ ...prod, BILLING_SANDBOX: 'true' }).billing.sandbox).toBe(true);
    const stripe = {
      STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_x',
      STRIPE_PRICE_PRO: 'price_x',
    };
    expect(loadConfig({ ...prod, ...stripe }).billing.sandbox).toBe(false);
    // A real provider always wins: the sandbox never serves beside it.
    expect(loadConfig({ ...prod, ...stripe, BILLING_SANDBOX: 'true' }).billing.sandbox).toBe(false);
    // Outside production the sandbox is the default, and switching it off without keys is refused too.
    expect(loadConfig({ APP_DB: ':memory:' }).billing.sandbox).toBe(true);
    expect(() => loadConfig({ APP_DB: ':memory:', BILLING_SANDBOX: 'false' })).toThrow(/no payment provider/);
  });

  it('serves no sandbox checkout in production with a real provider, even when BILLING_SANDBOX=true', async () => {
    const live = await startApp({
      ML_URL: ml.url,
      NODE_ENV: 'production',
      BILLING_SANDBOX: 'true',
      STRIPE_SECRET_KEY: 'sk_test_local',
      STRIPE_WEBHOOK_SECRET: 'whsec_local',
      STRIPE_PRICE_PRO: 'price_local',
    });
    try {
      const plans = await live.client().get('/api/v1/plans');
      expect(plans.body).toMatchObject({ testMode: false, providers: ['stripe'] });
      const c = await registered(live);
      const r = await c.post('/api/v1/billing/checkout', { provider: 'sandbox', plan: 'pro' });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect((await c.get('/api/v1/me')).body.plan).toBe('free');
    } finally {
      await live.close();
    }
  });

  it('puts the request id on every log line of a request and keeps secrets out', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    const logged = await startApp(
      { ML_URL: ml.url, ML_TOKEN: 'ml-secret', LOG_LEVEL: 'info' },
      { logger: createLogger('info', sink) },
    );
    try {
      const c = logged.client();
      await c.post(
        '/api/v1/auth/login',
        { email: 'who@example.com', password: 'my very secret password' },
        { 'x-request-id': 'log-trace-42' },
      );
      const mine = lines
        .map((l) => JSON.parse(l))
        .filter((l) => l.reqId === 'log-trace-42' || l.req?.id === 'log-trace-42');
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(lines.join('')).not.toContain('my very secret password');
    } finally {
      await logged.close();
    }
  });

  it('redacts passwords, tokens, cookies and authorization in logs', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    const log = createLogger('info', sink);
    log.info(
      {
        password: 'hunter2hunter2',
        body: { newPassword: 'p4ssw0rd!!', token: 'tok' },
        req: { headers: { authorization: 'Bearer rsm_x', cookie: 'access_token=abc' } },
      },
      'x',
    );
    const out = lines.join('');
    for (const secret of ['hunter2hunter2', 'p4ssw0rd!!', 'rsm_x', 'access_token=abc', '"tok"'])
      expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
