/** HTTP contract: every error case, auth, request ids, workers vs in-process, and reloads. */
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CATALOG_DATA_VERSION_KEY,
  CATALOG_FILE,
  ENTITIES_DIR,
  entityFileName,
  errorBodySchema,
  mlHealthSchema,
  predictResponseSchema,
  similarResponseSchema,
} from '@resemble/contracts';
import Database from 'better-sqlite3';
import { findSimilar } from '../src/search/similarity.service.js';
import { market, start, type Running } from './support/http-service.js';
import { randomWalk, rng, writeStore, type FixtureEntity } from './support/write-store.js';

const TOKEN = 'test-token';

describe('ml-service HTTP', () => {
  let dir: string;
  let fx: FixtureEntity[];
  let svc: Running;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const get = (path: string, headers: Record<string, string> = auth) =>
    fetch(`${svc.url}${path}`, { headers });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-http-'));
    fx = market(3, 12, 900);
    writeStore(dir, fx, 'v1');
    svc = await start(dir, { token: TOKEN });
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function expectError(res: Response, status: number, code?: string) {
    expect(res.status).toBe(status);
    const body = errorBodySchema.parse(await res.json());
    if (code) expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(0);
    return body;
  }

  it('health is ready with counts and needs no token', async () => {
    const res = await fetch(`${svc.url}/health`);
    expect(res.status).toBe(200);
    const h = mlHealthSchema.parse(await res.json());
    expect(h).toMatchObject({
      status: 'ready',
      dataVersion: 'v1',
      entities: 12,
      points: 12 * 900,
      lastReloadError: null,
    });
    expect(h.models.map((m) => m.id)).toContain('analogue');
  });

  it('401 without or with a wrong bearer token', async () => {
    await expectError(
      await post('/v1/similar', {}, { 'content-type': 'application/json' }),
      401,
      'unauthorized',
    );
    await expectError(await get('/v1/entities', { authorization: 'Bearer nope' }), 401, 'unauthorized');
    await expectError(await get('/metrics', {}), 401);
  });

  it('400 for every kind of invalid similar request, with reasons', async () => {
    const e = fx[0]!;
    const cases: unknown[] = [
      '{not json',
      {},
      { query: { series: [1, 2, 3, 4, 5, 6, 7] } },
      { query: { series: Array.from({ length: 501 }, (_, i) => i) } },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, topK: 0 },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, topK: 101 },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, horizon: 251 },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, metric: 'cosine' },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, normalize: 'minmax' },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, mode: 'later' },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, extra: 1 },
      { query: { series: [1, 2, 3, 4, 5, 6, 7, 8] }, filters: { from: '2020-02-30' } },
      { query: { series: [5, 5, 5, 5, 5, 5, 5, 5] } },
      { query: { series: [1, -1, 1, -1, 1, -1, 1, -1] }, normalize: 'mean' },
      { query: { code: e.code, start: e.dates[10], end: e.dates[5] } },
      { query: { code: e.code, start: e.dates[10], end: e.dates[15] } },
      { query: { code: e.code, start: e.dates[0], end: e.dates[600] } },
      { query: { code: '../etc', start: e.dates[0], end: e.dates[20] } },
    ];
    for (const body of cases) {
      const res = await post('/v1/similar', body);
      const err = await expectError(res, 400);
      expect(['invalid_request', 'invalid_json']).toContain(err.error.code);
    }
  });

  it('400 unknown_filter for a market or sector no stock is filed under, naming it and the choices', async () => {
    for (const [filters, field] of [
      [{ market: 'ZZ' }, 'market'],
      [{ sector: 'No Such Sector' }, 'sector'],
    ] as const) {
      const body = { query: { series: [1, 2, 3, 4, 5, 6, 7, 9] }, filters };
      const err = await expectError(await post('/v1/similar', body), 400, 'unknown_filter');
      expect(err.error.message).toContain(`filters.${field}`);
      expect(err.error.details).toMatchObject({ field, value: Object.values(filters)[0] });
      expect(Array.isArray((err.error.details as { allowed: unknown }).allowed)).toBe(true);
    }
  });

  it("POST /v1/similar/check: 204 for a search that would run, the search's own 4xx otherwise", async () => {
    const ok = await post('/v1/similar/check', {
      query: { series: [1, 2, 3, 4, 5, 6, 7, 9] },
      filters: { market: 'US' },
    });
    expect(ok.status).toBe(204);
    expect(await ok.text()).toBe('');
    const err = await expectError(
      await post('/v1/similar/check', {
        query: { series: [1, 2, 3, 4, 5, 6, 7, 9] },
        filters: { sector: 'Nope' },
      }),
      400,
      'unknown_filter',
    );
    expect(err.error.details).toMatchObject({ field: 'sector', value: 'Nope' });
    await expectError(
      await post('/v1/similar/check', { query: { code: 'NOPE', start: '2015-01-05', end: '2015-03-05' } }),
      404,
      'unknown_code',
    );
    await expectError(await post('/v1/similar/check', { query: { series: [1, 2] } }), 400);
  });

  it('404 for unknown codes and routes', async () => {
    await expectError(
      await post('/v1/similar', { query: { code: 'NOPE', start: '2015-01-05', end: '2015-03-05' } }),
      404,
      'unknown_code',
    );
    await expectError(
      await post('/v1/similar', {
        query: { series: [1, 2, 3, 4, 5, 6, 7, 9] },
        filters: { codes: ['NOPE'] },
      }),
      404,
      'unknown_code',
    );
    await expectError(await get('/v1/entities/NOPE/prices'), 404, 'unknown_code');
    await expectError(await get('/v1/nothing-here'), 404, 'not_found');
    await expectError(
      await post('/v1/predict', { query: { code: 'NOPE', start: '2015-01-05', end: '2015-03-05' } }),
      404,
    );
  });

  it('similar over HTTP (2 workers) equals the in-process search, and echoes the request id', async () => {
    for (const body of [
      { query: { code: fx[2]!.code, start: fx[2]!.dates[100], end: fx[2]!.dates[159] }, topK: 30 },
      {
        query: { code: fx[5]!.code, start: fx[5]!.dates[800], end: fx[5]!.dates[899] },
        topK: 100,
        normalize: 'mean',
      },
      { query: { series: Array.from(randomWalk(rng(9), 20)) }, topK: 12, mode: 'now' },
      {
        query: { series: Array.from(randomWalk(rng(10), 24)) },
        topK: 5,
        metric: 'dtw',
        filters: { market: 'JP' },
      },
    ]) {
      const res = await post('/v1/similar', body, { ...auth, 'x-request-id': 'req-abc.123' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('req-abc.123');
      const got = similarResponseSchema.parse(await res.json());
      const want = findSimilar(svc.state.data!, body as never);
      expect({ ...got, tookMs: 0 }).toEqual(JSON.parse(JSON.stringify({ ...want, tookMs: 0 })));
      expect(got.matches.length).toBe(Math.min(body.topK, got.matches.length));
      for (const m of got.matches) expect(m.window!.length).toBe(got.query.length);
    }
    const generated = await get('/health');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('entities search and prices with date bounds', async () => {
    const res = await get('/v1/entities?q=s00&limit=3');
    expect(res.status).toBe(200);
    const { entities } = (await res.json()) as { entities: { code: string; rows: number }[] };
    expect(entities.map((x) => x.code)).toEqual(['S000', 'S001', 'S002']);
    expect(entities[0]!.rows).toBe(900);
    const byName = (await (await get('/v1/entities?q=holdings')).json()) as { entities: unknown[] };
    expect(byName.entities).toHaveLength(12);
    const e = fx[1]!;
    const p = await get(`/v1/entities/${e.code}/prices?from=${e.dates[10]}&to=${e.dates[19]}`);
    const body = (await p.json()) as { code: string; rows: { date: string; close: number }[] };
    expect(body.rows.map((r) => r.date)).toEqual(e.dates.slice(10, 20));
    expect(body.rows.map((r) => r.close)).toEqual(Array.from(e.closes).slice(10, 20));
    await expectError(await get(`/v1/entities/${e.code}/prices?from=2020-13-01`), 400, 'invalid_request');
    await expectError(await get(`/v1/entities/${e.code}/prices?from=2020-02-01&to=2020-01-01`), 400);
    await expectError(await get('/v1/entities?limit=0'), 400);
  });

  it('predict answers the analogue and baseline models and rejects bad input', async () => {
    const e = fx[3]!;
    const query = { code: e.code, start: e.dates[300], end: e.dates[359] };
    for (const model of ['analogue', 'baseline']) {
      const res = await post('/v1/predict', { query, horizon: 10, model });
      expect(res.status).toBe(200);
      const body = predictResponseSchema.parse(await res.json());
      expect(body.model).toBe(model);
      expect(body.dataVersion).toBe('v1');
    }
    await expectError(await post('/v1/predict', { query, model: 'oracle' }), 400);
    await expectError(await post('/v1/predict', { query, horizon: 0 }), 400);
  });

  it('metrics expose request and search figures', async () => {
    const text = await (await get('/metrics')).text();
    expect(text).toContain('ml_http_request_duration_seconds_bucket');
    expect(text).toContain('ml_search_duration_seconds_count{metric="zned",mode="history"}');
    expect(text).toMatch(/ml_data_points 10800/);
    expect(text).toMatch(/ml_search_candidates_total [1-9]/);
  });

  it('reloads on a data_version change and keeps the old data when the new data is invalid', async () => {
    const bigger = market(4, 13, 950);
    writeStore(dir, bigger, 'v2');
    await svc.state.checkVersion();
    let h = mlHealthSchema.parse(await (await get('/health')).json());
    expect(h).toMatchObject({
      status: 'ready',
      dataVersion: 'v2',
      entities: 13,
      points: 13 * 950,
      lastReloadError: null,
    });

    // v3: the catalog promises an entity whose file is missing → keep serving v2 and say why.
    writeStore(dir, market(5, 13, 950), 'v3');
    unlinkSync(join(dir, ENTITIES_DIR, entityFileName('S007')));
    await svc.state.checkVersion();
    h = mlHealthSchema.parse(await (await get('/health')).json());
    expect(h.dataVersion).toBe('v2');
    expect(h.status).toBe('ready');
    expect(h.lastReloadError).toMatch(/S007/);
    const res = await post('/v1/similar', {
      query: { code: 'S012', start: bigger[12]!.dates[0], end: bigger[12]!.dates[29] },
    });
    expect(res.status).toBe(200);

    // v4: a file disagreeing with its catalog row count is refused too.
    writeStore(dir, market(6, 13, 950), 'v4');
    const db = new Database(join(dir, CATALOG_FILE));
    db.prepare('UPDATE entities SET row_count = row_count + 1 WHERE code = ?').run('S001');
    db.prepare('UPDATE meta SET value = ? WHERE key = ?').run('v4', CATALOG_DATA_VERSION_KEY);
    db.close();
    await svc.state.checkVersion();
    h = mlHealthSchema.parse(await (await get('/health')).json());
    expect(h.dataVersion).toBe('v2');
    expect(h.lastReloadError).toMatch(/S001 has 950 rows but the catalog says 951/);
  });

  it('stops a search that runs too long with 504 and keeps serving', async () => {
    const own = mkdtempSync(join(tmpdir(), 'ml-http-slow-'));
    // Far too big for the limit on any machine (a CI host faster than ours once finished 6 × 3,000 in 2 s),
    // in many short entities: a native DTW call covers up to 8 entities and is not interrupted inside,
    // so short entities keep the wait for the stopped workers (and close()) short.
    writeStore(own, market(8, 120, 1000), 'slow');
    const slow = await start(own, { workers: 2, timeoutMs: 500 });
    const post = (body: unknown) =>
      fetch(`${slow.url}/v1/similar`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      // Full-band DTW of L = 500 over ~60,000 windows: full band makes the envelope bounds useless and
      // top-100 keeps the abandoning threshold loose, so this is ~10^10 cell updates, far beyond the 0.5 s limit on any machine.
      const res = await post({
        query: { series: Array.from(randomWalk(rng(12), 500)) },
        metric: 'dtw',
        band: 1,
        topK: 100,
      });
      expect(res.status).toBe(504);
      expect(errorBodySchema.parse(await res.json()).error.code).toBe('search_timeout');
      // The stopped workers are replaced: a small search succeeds again once they are up.
      let status = 0;
      for (let i = 0; i < 40 && status !== 200; i++) {
        status = (await post({ query: { series: [1, 2, 3, 2, 4, 5, 4, 6] }, mode: 'now' })).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 500));
      }
      expect(status).toBe(200);
    } finally {
      await slow.close();
      rmSync(own, { recursive: true, force: true });
    }
  }, 120_000);

  it('answers 503 while loading, and health says loading', async () => {
    const idle = await start(dir, { load: false, workers: 0 });
    try {
      const res = await fetch(`${idle.url}/health`);
      expect(res.status).toBe(503);
      expect(mlHealthSchema.parse(await res.json()).status).toBe('loading');
      const s = await fetch(`${idle.url}/v1/similar`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: { series: [1, 2, 3, 4, 5, 6, 7, 8] } }),
      });
      await expectError(s, 503, 'not_ready');
    } finally {
      await idle.close();
    }
  });
});
