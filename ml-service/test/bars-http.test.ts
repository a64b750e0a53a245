/** Timeframes over HTTP: /v1/similar, /v1/predict and the prices route with W and M, and bad values. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  errorBodySchema,
  periodKey,
  predictResponseSchema,
  resamplePriceRows,
  similarResponseSchema,
  type PriceRow,
} from '@resemble/contracts';
import { findSimilar } from '../src/search/similarity.service.js';
import { market, start, type Running } from './support/http-service.js';
import { writeStore, type FixtureEntity } from './support/write-store.js';

describe('timeframes over HTTP', () => {
  let dir: string;
  let fx: FixtureEntity[];
  let svc: Running;
  const post = (path: string, body: unknown) =>
    fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-bars-http-'));
    fx = market(9, 6, 1300);
    writeStore(dir, fx, 'v1');
    svc = await start(dir);
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('similar on weekly and monthly bars equals the in-process search and says its timeframe', async () => {
    const e = fx[1]!;
    for (const [timeframe, start, end] of [
      ['W', e.dates[200]!, e.dates[399]!],
      ['M', e.dates[100]!, e.dates[999]!],
    ] as const) {
      const body = { query: { code: e.code, start, end }, topK: 5, horizon: 4, timeframe };
      const res = await post('/v1/similar', body);
      expect(res.status).toBe(200);
      const got = similarResponseSchema.parse(await res.json());
      const want = findSimilar(svc.state.data!, body);
      expect(got.timeframe).toBe(timeframe);
      expect(got.query.length).toBe(want.query.length);
      expect(got.query.length).toBeLessThan(timeframe === 'W' ? 45 : 46); // bars, not 200 or 900 days
      expect(got.matches).toEqual(want.matches);
      // A bar is dated by its last trading day of its period: no later trading day of the stock shares it.
      for (const m of got.matches) {
        const dates = fx.find((f) => f.code === m.code)!.dates;
        const next = dates[dates.indexOf(m.end) + 1]!;
        expect(periodKey(next, timeframe)).not.toBe(periodKey(m.end, timeframe));
        expect(m.forwardPath).toHaveLength(4);
      }
    }
  });

  it('predict counts the horizon in bars, and refuses brainjs for W', async () => {
    const e = fx[2]!;
    const query = { code: e.code, start: e.dates[300]!, end: e.dates[599]! };
    const res = await post('/v1/predict', { query, horizon: 3, timeframe: 'W' });
    expect(res.status).toBe(200);
    const p = predictResponseSchema.parse(await res.json());
    expect(p.timeframe).toBe('W');
    expect(p.forecast.fan).toHaveLength(3);
    const brain = await post('/v1/predict', { query, horizon: 3, timeframe: 'M', model: 'brainjs' });
    expect(brain.status).toBe(400);
    expect(errorBodySchema.parse(await brain.json()).error.code).toBe('unsupported_timeframe');
  });

  it('prices in weekly candles: OHLCV resampled from the daily rows', async () => {
    const e = fx[0]!;
    const daily = (await (await fetch(`${svc.url}/v1/entities/${e.code}/prices`)).json()) as {
      rows: PriceRow[];
    };
    const res = await fetch(`${svc.url}/v1/entities/${e.code}/prices?timeframe=W`);
    expect(res.status).toBe(200);
    const weekly = (await res.json()) as { timeframe: string; rows: PriceRow[] };
    expect(weekly.timeframe).toBe('W');
    expect(weekly.rows).toEqual(resamplePriceRows(daily.rows, 'W'));
    expect(weekly.rows.length).toBe(Math.ceil(1300 / 5));
  });

  it('400 for a timeframe that is not D, W or M, saying which are allowed', async () => {
    const e = fx[0]!;
    const query = { code: e.code, start: e.dates[0]!, end: e.dates[59]! };
    for (const res of [
      await post('/v1/similar', { query, timeframe: 'weekly' }),
      await post('/v1/predict', { query, timeframe: 'Y' }),
      await fetch(`${svc.url}/v1/entities/${e.code}/prices?timeframe=h`),
    ]) {
      expect(res.status).toBe(400);
      const err = errorBodySchema.parse(await res.json());
      expect(err.error.message).toContain(
        'timeframe: timeframe must be "D" (daily), "W" (weekly) or "M" (monthly)',
      );
    }
  });
});
