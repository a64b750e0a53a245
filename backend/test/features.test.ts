import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, openApiPath, type RouteDef } from '@resemble/contracts';
import { buildOpenApi } from '../src/openapi/openapi.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import {
  PASSWORD,
  registered,
  startApp,
  type Client,
  type TestApp,
  rawSql,
  sameDatabaseAs,
} from './support/harness.js';

const query = { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, topK: 5, horizon: 10 };

async function upgrade(c: Client): Promise<void> {
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
}

/** Reads server-sent events until `until` matches one, or the timeout. */
async function collectEvents(
  url: string,
  cookie: string,
  until: (type: string, data: any) => boolean,
  start: () => Promise<unknown>,
) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { cookie }, signal: ac.signal });
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = res.body!.getReader();
  const seen: { type: string; data: any }[] = [];
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
          if (until(type, JSON.parse(data))) return seen;
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

describe('tokens, jobs, events, patterns, admin, OpenAPI', () => {
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

  it('API tokens: Pro only, shown once, scoped, Bearer skips CSRF, revocable', async () => {
    const c = await registered(app);
    expect((await c.post('/api/v1/tokens', { name: 'script' })).body.error.code).toBe('plan_required');
    await upgrade(c);
    const created = await c.post('/api/v1/tokens', { name: 'script', scopes: ['search'] });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    expect(token).toMatch(/^rsm_/);
    const list = (await c.get('/api/v1/tokens')).body.tokens;
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(token);
    expect(JSON.stringify(await rawSql(app.services).all('SELECT * FROM api_tokens'))).not.toContain(token);

    const bot = app.client();
    bot.bearer = token;
    expect((await bot.post('/api/v1/similar', query)).status).toBe(200);
    const outOfScope = await bot.get('/api/v1/patterns');
    expect(outOfScope.status).toBe(403);
    expect(outOfScope.body.error.code).toBe('insufficient_scope');
    expect((await bot.get('/api/v1/me')).status).toBe(403);
    expect((await bot.post('/api/v1/tokens', { name: 'x' })).status).toBe(403);

    expect((await c.del(`/api/v1/tokens/${created.body.id}`)).status).toBe(204);
    expect((await bot.post('/api/v1/similar', query)).status).toBe(401);
    expect((await c.del(`/api/v1/tokens/${created.body.id}`)).status).toBe(404);
    expect((await c.del('/api/v1/tokens/not-a-uuid')).status).toBe(400);
  });

  it('API tokens: every session-only route answers 403 insufficient_scope, logout included', async () => {
    const c = await registered(app);
    await upgrade(c);
    const created = await c.post('/api/v1/tokens', {
      name: 'all scopes',
      scopes: ['search', 'patterns', 'jobs'],
    });
    const bot = app.client();
    bot.bearer = created.body.token as string;
    // From the contract: every route that is not open to a token's scope (or to anyone, or to a signature).
    const sessionOnly = (Object.values(api) as RouteDef[])
      .filter((r) => ['credentials', 'session', 'admin'].includes(r.auth) && !r.scope)
      .map(
        (r) =>
          [
            r.method,
            openApiPath(r.path).replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000'),
          ] as const,
      );
    expect(sessionOnly.map(([m, p]) => `${m} ${p}`)).toEqual(
      expect.arrayContaining(['POST /auth/logout', 'POST /auth/refresh', 'GET /me']),
    );
    for (const [method, path] of sessionOnly) {
      const r = await bot.req(method, `/api/v1${path}`, method === 'GET' ? undefined : {});
      expect({ route: `${method} ${path}`, status: r.status, code: r.body?.error?.code }).toEqual({
        route: `${method} ${path}`,
        status: 403,
        code: 'insufficient_scope',
      });
    }
    // The owner's session is untouched by the token's attempts.
    expect((await c.get('/api/v1/me')).status).toBe(200);
  });

  it('caps active API tokens per account', async () => {
    const c = await registered(app);
    await upgrade(c);
    for (let i = 0; i < 20; i++) expect((await c.post('/api/v1/tokens', { name: `t${i}` })).status).toBe(201);
    const r = await c.post('/api/v1/tokens', { name: 'one too many' });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('too_many_tokens');
    expect((await c.post('/api/v1/tokens', { name: '' })).status).toBe(400);
    expect((await c.post('/api/v1/tokens', { name: 'x', scopes: ['admin'] })).status).toBe(400);
  });

  it('API tokens stop working when the subscription lapses', async () => {
    const c = await registered(app);
    await upgrade(c);
    const token = (await c.post('/api/v1/tokens', { name: 'lapse' })).body.token;
    await rawSql(app.services).run(
      "UPDATE subscriptions SET current_period_end = '2000-01-01T00:00:00.000Z' WHERE user_id = (SELECT id FROM users WHERE email = ?)",
      c.email,
    );
    const bot = app.client();
    bot.bearer = token;
    const r = await bot.post('/api/v1/similar', query);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('plan_required');
    bot.bearer = 'rsm_forged';
    expect((await bot.post('/api/v1/similar', query)).status).toBe(401);
  });

  it('jobs: 202 + id, progress and completion over SSE, result via GET', async () => {
    const c = await registered(app);
    expect((await c.post('/api/v1/jobs', { kind: 'export', params: query })).status).toBe(403);
    await upgrade(c);
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let id = '';
    const events = await collectEvents(
      `${app.url}/api/v1/events`,
      cookie,
      (t, d) => t === 'job.done' && d.id === id,
      async () => {
        const r = await c.post('/api/v1/jobs', {
          kind: 'backtest',
          params: { code: 'AAA', windowLength: 30, horizon: 10, samples: 4, topK: 5 },
        });
        expect(r.status).toBe(202);
        expect(r.headers.get('location')).toBe(`/api/v1/jobs/${r.body.id}`);
        id = r.body.id;
      },
    );
    expect(events.filter((e) => e.type === 'job.progress').length).toBeGreaterThanOrEqual(4);
    expect(events.at(-1)).toMatchObject({ type: 'job.done', data: { id, status: 'succeeded' } });
    const job = (await c.get(`/api/v1/jobs/${id}`)).body;
    expect(job).toMatchObject({ status: 'succeeded', progress: 1, kind: 'backtest' });
    expect(job.result.samples).toHaveLength(4);
    expect(job.result.evaluated).toBe(4);
    // Each sample's actual return is computed from the stand-in's prices: check one by hand.
    const prices = (await c.get('/api/v1/entities/AAA/prices')).body.rows as {
      date: string;
      close: number;
    }[];
    const s0 = job.result.samples[0];
    const i = prices.findIndex((p) => p.date === s0.end);
    expect(s0.actualReturn).toBeCloseTo(prices[i + 10].close / prices[i].close - 1, 12);
    // The result is dated by the stock's newest price, as every market-data answer is.
    expect(job.result.asOf).toBe(prices.at(-1)!.date);
    expect((await c.get('/api/v1/jobs')).body.jobs[0].id).toBe(id);
    // Every sample was a search: counted against the plan (Pro: unlimited, still counted).
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(4);
  });

  it('jobs: export produces CSV; a failing job reports its error; other users cannot see it', async () => {
    const c = await registered(app);
    await upgrade(c);
    const ex = await c.post('/api/v1/jobs', { kind: 'export', params: query });
    const bad = await c.post('/api/v1/jobs', { kind: 'backtest', params: { code: 'ZZZ' } });
    await app.services.jobs.idle();
    const exJob = (await c.get(`/api/v1/jobs/${ex.body.id}`)).body;
    expect(exJob.status).toBe('succeeded');
    expect(exJob.result.csv.split('\r\n')[0]).toBe(
      'rank,code,start,end,distance,forward_return,data_version,as_of,timeframe',
    );
    // The export's search counts; the failed backtest's prices lookup never reached a search.
    expect((await c.get('/api/v1/me')).body.usage.searchesToday).toBe(1);
    const badJob = (await c.get(`/api/v1/jobs/${bad.body.id}`)).body;
    expect(badJob.status).toBe('failed');
    expect(badJob.error).toMatch(/unknown code/);
    const other = await registered(app);
    expect((await other.get(`/api/v1/jobs/${ex.body.id}`)).status).toBe(404);
    expect((await c.post('/api/v1/jobs', { kind: 'dance', params: {} })).status).toBe(400);
  });

  it('patterns: alert scan after a data refresh notifies once per version, over SSE too', async () => {
    const c = await registered(app);
    expect((await c.post('/api/v1/patterns', { name: 'p', request: query, threshold: 100 })).status).toBe(
      403,
    );
    await upgrade(c);
    const loose = await c.post('/api/v1/patterns', { name: 'loose', request: query, threshold: 1000 });
    const strict = await c.post('/api/v1/patterns', { name: 'strict', request: query, threshold: 0.000001 });
    expect(loose.status).toBe(201);
    expect((await c.get('/api/v1/patterns')).body.patterns).toHaveLength(2);
    expect((await c.post('/api/v1/patterns', { name: 'x', request: query, threshold: -1 })).status).toBe(400);
    // A pattern the nightly scan could never run is refused at save, with ml-service's reason.
    const saves = ml.requests.filter((r) => r.path === '/v1/similar/check');
    expect(saves.at(-1)!.body).toMatchObject({ mode: 'now' });
    const typo = await c.post('/api/v1/patterns', {
      name: 'typo',
      request: { ...query, filters: { sector: 'Energie' } },
      threshold: 10,
    });
    expect([typo.status, typo.body.error.code]).toEqual([400, 'unknown_filter']);
    expect(typo.body.error.details).toMatchObject({ field: 'sector', value: 'Energie' });
    const gone = await c.post('/api/v1/patterns', {
      name: 'gone',
      request: { ...query, query: { ...query.query, code: 'ZZZ' } },
      threshold: 10,
    });
    expect([gone.status, gone.body.error.code]).toEqual([404, 'unknown_code']);
    ml.setDown(true);
    const down = await c.post('/api/v1/patterns', { name: 'down', request: query, threshold: 10 });
    ml.setDown(false);
    expect([down.status, down.body.error.code]).toEqual([503, 'ml_unavailable']);
    expect((await c.get('/api/v1/patterns')).body.patterns).toHaveLength(2);

    const scanner = app.services.alerts;
    ml.setDataVersion('v2');
    const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const events = await collectEvents(
      `${app.url}/api/v1/events`,
      cookie,
      (t) => t === 'alert.fired',
      async () => {
        const r = await scanner.tick();
        expect(r).toMatchObject({ dataVersion: 'v2' });
        expect(r!.fired).toBeGreaterThanOrEqual(1);
      },
    );
    expect(events.some((e) => e.type === 'alert.fired' && e.data.patternName === 'loose')).toBe(true);
    expect(ml.requests.filter((r) => r.path === '/v1/similar').at(-1)!.body).toMatchObject({ mode: 'now' });
    expect(await scanner.tick()).toBeNull();
    const notes = (await c.get('/api/v1/notifications')).body;
    const mine = notes.notifications.filter(
      (n: { payload: { patternId: string } }) => n.payload.patternId === loose.body.id,
    );
    expect(mine).toHaveLength(1);
    // The alert names the day its "now" meant: the stand-in's newest price (the series end 2016-02-04).
    expect(mine[0].payload.asOf).toBe('2016-02-04');
    expect(
      notes.notifications.some(
        (n: { payload: { patternId: string } }) => n.payload.patternId === strict.body.id,
      ),
    ).toBe(false);
    expect((await c.post(`/api/v1/notifications/${mine[0].id}/read`)).status).toBe(200);
    expect((await c.get('/api/v1/notifications')).body.unread).toBe(notes.unread - 1);
    expect((await c.del(`/api/v1/patterns/${strict.body.id}`)).status).toBe(204);
    expect((await c.del(`/api/v1/patterns/${strict.body.id}`)).status).toBe(404);
  });

  it('admin: role required; overview shows users, revenue, payments, data version, ml health, data freshness per source', async () => {
    const c = await registered(app);
    expect((await c.get('/api/v1/admin/overview')).status).toBe(403);
    const env = {
      ...process.env,
      // The app's own database, on whichever engine this run uses.
      ...sameDatabaseAs(app),
      SCRYPT_LOG_N: '12',
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(40),
    };
    const cli = resolve(import.meta.dirname, '../src/cli/create-admin.ts');
    const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
    // Async on purpose: a blocking child would freeze the in-process server under test.
    const run = promisify(execFile);
    const { stdout } = await run(
      tsx,
      [cli, '--email', 'ops@example.com', '--password', 'operator long secret'],
      { env },
    );
    expect(stdout).toMatch(/created admin ops@example.com/);
    let bad: { code: number | null; stderr: string } = { code: 0, stderr: '' };
    try {
      await run(tsx, [cli, '--email', 'nope'], { env });
    } catch (e) {
      bad = e as { code: number; stderr: string };
    }
    expect(bad.code).toBe(2);
    expect(String(bad.stderr)).toMatch(/usage/);
    const admin = app.client();
    expect(
      (await admin.post('/api/v1/auth/login', { email: 'ops@example.com', password: 'operator long secret' }))
        .status,
    ).toBe(200);
    const pro = await registered(app);
    await upgrade(pro);
    // A daily J-Quants run that last succeeded on 2024-12-27: the operator sees it, days behind and flagged.
    const runs = join(app.dir, 'data', 'runs');
    mkdirSync(runs, { recursive: true });
    writeFileSync(
      join(runs, '20241227T100000Z-jquants-abc123.json'),
      JSON.stringify({
        id: '20241227T100000Z-jquants-abc123',
        source: 'jquants',
        startedAt: '2024-12-27T10:00:00.000Z',
        finishedAt: '2024-12-27T10:05:00.000Z',
        durationMs: 300_000,
        ok: ['7203'],
        failed: [],
        skipped: [],
        rowsAdded: 1,
        rowsRejected: [],
        success: true,
        market: 'JP',
        dataThrough: '2024-12-27',
        upcomingTradingDays: ['2024-12-30', '2025-01-06'],
      }),
    );
    const o = (await admin.get('/api/v1/admin/overview')).body;
    expect(o.dataSources).toEqual([
      expect.objectContaining({
        source: 'jquants',
        market: 'JP',
        lastSuccessAt: '2024-12-27T10:05:00.000Z',
        dataThrough: '2024-12-27',
        stale: true,
      }),
    ]);
    expect(o.dataSources[0].tradingDaysBehind).toBeGreaterThan(2);
    expect(o.users).toBeGreaterThanOrEqual(3);
    expect(o.usersByPlan.pro).toBeGreaterThanOrEqual(1);
    expect(o.revenueByMonth[0].amountJpy).toBeGreaterThanOrEqual(1480);
    expect(o.ml.status).toBe('ready');
    expect(o.testMode).toBe(true);
    expect(
      (await admin.get('/api/v1/admin/users')).body.users.some(
        (u: { email: string; plan: string }) => u.email === pro.email && u.plan === 'pro',
      ),
    ).toBe(true);
    expect((await admin.get('/api/v1/admin/payments')).body.payments.length).toBeGreaterThanOrEqual(1);
    void PASSWORD;
  });

  it('serves OpenAPI 3.1 and a docs page; the committed copy matches the contracts', async () => {
    const doc = (await app.client().get('/api/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(
      doc.paths['/similar'].post.requestBody.content['application/json'].schema.properties.topK,
    ).toMatchObject({ type: 'integer', maximum: 100 });
    const committed = JSON.parse(readFileSync(resolve(import.meta.dirname, '../openapi.json'), 'utf8'));
    // If this fails: npm run openapi -w backend, and commit backend/openapi.json.
    expect(committed).toEqual(buildOpenApi());
    const docs = await app.client().get('/api/v1/docs');
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    expect(docs.text).toContain('/api/v1/similar');
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it.each([
    ['GET', '/api/v1/tokens'],
    ['POST', '/api/v1/tokens'],
    ['DELETE', '/api/v1/tokens/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/v1/jobs'],
    ['GET', '/api/v1/jobs'],
    ['GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000'],
    ['POST', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/cancel'],
    ['GET', '/api/v1/events'],
    ['GET', '/api/v1/patterns'],
    ['POST', '/api/v1/patterns'],
    ['DELETE', '/api/v1/patterns/00000000-0000-4000-8000-000000000000'],
    ['GET', '/api/v1/notifications'],
    ['POST', '/api/v1/notifications/00000000-0000-4000-8000-000000000000/read'],
    ['GET', '/api/v1/admin/overview'],
    ['GET', '/api/v1/admin/users'],
    ['GET', '/api/v1/admin/payments'],
  ])('%s %s requires authentication', async (method, path) => {
    const r = await app.client().req(method, path, method === 'GET' ? undefined : {});
    expect(r.status).toBe(401);
  });
});
