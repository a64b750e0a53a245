/**
 * Issue 18, "results that lead somewhere": recent searches, editing saved patterns, the backtest scores
 * and settings a result page shows, and the sandbox outbox (mail kept and listed when there is no SMTP).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, ConfigError } from '../src/config.js';
import { backtestScores } from '../src/jobs/job-handlers.js';
import { searchKey } from '../src/search/recent-searches.repo.js';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { registered, startApp, type Client, type TestApp } from './support/harness.js';
import { mulberry32 } from '@resemble/contracts';

const search = (start: string, end: string, extra: Record<string, unknown> = {}) => ({
  query: { code: 'AAA', start, end },
  topK: 5,
  horizon: 10,
  ...extra,
});

async function upgrade(c: Client): Promise<void> {
  const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
  const session = new URL(co.body.redirectUrl, 'http://x').searchParams.get('session');
  await c.post('/api/v1/billing/sandbox/complete', { session, outcome: 'success' });
}

describe('results that lead somewhere', () => {
  let ml: MlStandIn;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    app = await startApp({ ML_URL: ml.url, FREE_SEARCHES_PER_DAY: '100', MAIL_SANDBOX: 'true' });
  });
  afterAll(async () => {
    await app?.close();
    await ml?.close();
  });

  it('recent searches: newest first, de-duplicated, the last 10, each user their own', async () => {
    const c = await registered(app);
    const other = await registered(app);
    expect((await c.get('/api/v1/recent-searches')).body).toEqual({ searches: [] });
    // 12 distinct windows (different ends), then the third again with its keys in another order.
    const ends = Array.from({ length: 12 }, (_, i) => `2015-03-${String(10 + i).padStart(2, '0')}`);
    for (const end of ends)
      expect((await c.post('/api/v1/similar', search('2015-02-01', end))).status).toBe(200);
    const again = { horizon: 10, topK: 5, query: { end: ends[2], code: 'AAA', start: '2015-02-01' } };
    expect((await c.post('/api/v1/similar', again)).status).toBe(200);
    // A failed search (unknown code) is not remembered.
    const bad = await c.post('/api/v1/similar', {
      ...search('2015-02-01', '2015-03-01'),
      query: { code: 'ZZZ', start: '2015-02-01', end: '2015-03-01' },
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    const list = (await c.get('/api/v1/recent-searches')).body.searches as {
      request: { query: { end: string } } & Record<string, unknown>;
      createdAt: string;
    }[];
    expect(list).toHaveLength(10);
    expect(list[0]!.request.query.end).toBe(ends[2]);
    // The rest are the newest others in order; the two oldest are gone and the re-run one moved up.
    expect(list.slice(1).map((s) => s.request.query.end)).toEqual(ends.slice(3).reverse());
    // Stored with the defaults the search ran with, so the link reproduces it exactly.
    expect(list[0]!.request).toMatchObject({
      metric: 'zned',
      mode: 'history',
      normalize: 'z',
      timeframe: 'D',
    });
    expect((await other.get('/api/v1/recent-searches')).body.searches).toEqual([]);
    expect((await app.client().get('/api/v1/recent-searches')).status).toBe(401);
  });

  it('searchKey ignores key order and undefined fields', () => {
    const a = searchKey(
      search('2015-02-01', '2015-03-01', { filters: { market: 'X', kind: 'stock' } }) as never,
    );
    const b = searchKey({
      filters: { kind: 'stock', market: 'X' },
      horizon: 10,
      topK: 5,
      band: undefined,
      query: { end: '2015-03-01', start: '2015-02-01', code: 'AAA' },
    } as never);
    expect(a).toBe(b);
    expect(searchKey(search('2015-02-01', '2015-03-02') as never)).not.toBe(a);
  });

  it('saved patterns: rename and change the alert distance; bad edits say what is wrong', async () => {
    const c = await registered(app);
    await upgrade(c);
    const p = (
      await c.post('/api/v1/patterns', {
        name: 'first',
        request: search('2015-02-01', '2015-03-15'),
        threshold: 2,
      })
    ).body;
    const renamed = await c.req('PATCH', `/api/v1/patterns/${p.id}`, { name: '  breakout  ' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: p.id, name: 'breakout', threshold: 2 });
    const moved = await c.req('PATCH', `/api/v1/patterns/${p.id}`, { threshold: 3.5 });
    expect(moved.body).toMatchObject({ name: 'breakout', threshold: 3.5, lastScannedVersion: null });
    expect((await c.get('/api/v1/patterns')).body.patterns[0]).toMatchObject({
      name: 'breakout',
      threshold: 3.5,
    });

    const empty = await c.req('PATCH', `/api/v1/patterns/${p.id}`, {});
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body)).toMatch(/give name, threshold or both/);
    const neg = await c.req('PATCH', `/api/v1/patterns/${p.id}`, { threshold: -1 });
    expect(neg.status).toBe(400);
    expect(JSON.stringify(neg.body)).toMatch(/threshold/);
    expect((await c.req('PATCH', `/api/v1/patterns/${p.id}`, { name: '' })).status).toBe(400);
    expect((await c.req('PATCH', `/api/v1/patterns/${p.id}`, { name: 'x', extra: 1 })).status).toBe(400);
    expect((await c.req('PATCH', '/api/v1/patterns/not-a-uuid', { name: 'x' })).status).toBe(400);
    // Another user's pattern is not there for them.
    const other = await registered(app);
    expect((await other.req('PATCH', `/api/v1/patterns/${p.id}`, { name: 'mine now' })).status).toBe(404);
    expect((await c.get('/api/v1/patterns')).body.patterns[0].name).toBe('breakout');
  });

  it('backtest jobs: the result carries Brier score, base rate and the settings', async () => {
    const c = await registered(app);
    await upgrade(c);
    const params = { code: 'AAA', windowLength: 30, horizon: 10, samples: 5, topK: 5 };
    const { id } = (await c.post('/api/v1/jobs', { kind: 'backtest', params })).body;
    await app.services.jobs.idle();
    const job = (await c.get(`/api/v1/jobs/${id}`)).body;
    expect(job.status).toBe('succeeded');
    expect(job.params).toEqual(params);
    expect(job.result.settings).toEqual(params);
    const samples = job.result.samples as { predictedUp: number | null; actualReturn: number }[];
    const scored = samples.filter((s) => s.predictedUp !== null);
    const up = (s: { actualReturn: number }) => (s.actualReturn > 0 ? 1 : 0);
    let brier = 0;
    for (const s of scored) brier += (s.predictedUp! - up(s)) ** 2;
    expect(job.result.brier).toBeCloseTo(brier / scored.length, 12);
    expect(job.result.baseRate).toBeCloseTo(
      samples.filter((s) => s.actualReturn > 0).length / samples.length,
      12,
    );
  });

  it('backtestScores agrees with a plain loop on seeded data, and handles the empty cases', () => {
    const rnd = mulberry32(18);
    for (let trial = 0; trial < 20; trial++) {
      const samples = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => ({
        predictedUp: rnd() < 0.2 ? null : Math.round(rnd() * 10) / 10,
        actualReturn: rnd() - 0.45,
      }));
      let hits = 0;
      let n = 0;
      let b = 0;
      let ups = 0;
      for (const s of samples) if (s.actualReturn > 0) ups++;
      const base = ups / samples.length;
      let bb = 0;
      for (const s of samples) {
        if (s.predictedUp === null) continue;
        n++;
        const o = s.actualReturn > 0 ? 1 : 0;
        if (s.predictedUp > 0.5 === s.actualReturn > 0) hits++;
        b += (s.predictedUp - o) ** 2;
        bb += (base - o) ** 2;
      }
      const r = backtestScores(samples, hits);
      expect(r.baseRate).toBeCloseTo(base, 12);
      if (n === 0) expect(r).toMatchObject({ hitRate: null, brier: null, baseBrier: null });
      else {
        expect(r.hitRate).toBeCloseTo(hits / n, 12);
        expect(r.brier).toBeCloseTo(b / n, 12);
        expect(r.baseBrier).toBeCloseTo(bb / n, 12);
      }
    }
    expect(backtestScores([], 0)).toEqual({ hitRate: null, brier: null, baseRate: null, baseBrier: null });
    // A perfect forecaster scores 0; always 0.5 scores 0.25.
    const two = [
      { predictedUp: 1, actualReturn: 0.1 },
      { predictedUp: 0, actualReturn: -0.1 },
    ];
    expect(backtestScores(two, 2).brier).toBe(0);
    expect(
      backtestScores(
        two.map((s) => ({ ...s, predictedUp: 0.5 })),
        0,
      ).brier,
    ).toBe(0.25);
  });

  it('sandbox outbox: sent mail is kept and listed, newest first, with its link', async () => {
    const c = await registered(app, `outbox-${Date.now()}@example.com`);
    await c.post('/api/v1/auth/forgot', { email: c.email });
    type Kept = { to: string; subject: string; link: string | null; text: string };
    // /auth/forgot answers before its mail is sent (the timing must not tell whether the address exists),
    // so the outbox write may land just after the response.
    const mine = await vi.waitFor(async () => {
      const box = await app.client().get('/api/v1/dev/outbox');
      expect(box.status).toBe(200);
      expect(box.body.sandbox).toBe(true);
      const kept = (box.body.mails as Kept[]).filter((m) => m.to === c.email);
      expect(kept).toHaveLength(2);
      return kept;
    });
    // Verification first, then the reset: listed newest first.
    expect(mine.map((m) => m.subject)).toEqual([
      'Resemble: reset your password',
      'Resemble: confirm your email',
    ]);
    expect(mine[0]!.link).toMatch(/\/reset-password\?token=/);
    expect(mine[0]!.text).toContain(mine[0]!.link!);
    expect((await app.client().get('/api/v1/dev/outbox?limit=1')).body.mails).toHaveLength(1);
    expect((await app.client().get('/api/v1/dev/outbox?limit=x')).status).toBe(400);
  });
});

describe('sandbox outbox is off unless asked for, and never in production', () => {
  it('answers 404 without MAIL_SANDBOX (the test default)', async () => {
    const app = await startApp();
    try {
      const r = await app.client().get('/api/v1/dev/outbox');
      expect(r.status).toBe(404);
      const c = await registered(app);
      await c.post('/api/v1/auth/forgot', { email: c.email });
      const kept = await app.services.database.kysely.selectFrom('mail_outbox').selectAll().execute();
      expect(kept).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('defaults on in development without SMTP_URL, off with it; refused in production', () => {
    const base = { APP_DB: ':memory:', JWT_SECRET: 'x'.repeat(40) };
    expect(loadConfig({ ...base, NODE_ENV: 'development' }).mail.sandbox).toBe(true);
    expect(
      loadConfig({ ...base, NODE_ENV: 'development', SMTP_URL: 'smtp://127.0.0.1:25' }).mail.sandbox,
    ).toBe(false);
    expect(loadConfig({ ...base, NODE_ENV: 'production', BILLING_SANDBOX: 'true' }).mail.sandbox).toBe(false);
    expect(() =>
      loadConfig({ ...base, NODE_ENV: 'production', BILLING_SANDBOX: 'true', MAIL_SANDBOX: 'true' }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, NODE_ENV: 'development', MAIL_SANDBOX: 'yes' })).toThrow(
      /MAIL_SANDBOX/,
    );
  });
});
