/**
 * The forecast over HTTP: drawn from 30 matches whatever number of cards is asked for, and calibrated by
 * the grid calibrator of its setting (length range, horizon, the analogue's own search) and no other.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictResponseSchema, similarResponseSchema } from '@resemble/contracts';
import { ANALOGUE_VERSION } from '../src/predictors/analogue.predictor.js';
import { CALIBRATOR_KIND, type CalibratorFile } from '../src/predictors/calibrator.js';
import { applyIsotonic } from '../src/predictors/isotonic.js';
import { realisedVol } from '../src/predictors/volatility.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { market, start, type Running } from './support/http-service.js';
import { writeStore, type FixtureEntity } from './support/write-store.js';

const calibrator: CalibratorFile = {
  kind: CALIBRATOR_KIND,
  format: 1,
  version: 'analogue-L60-h20-test',
  createdAt: '2026-12-07T00:00:00Z',
  predictor: 'analogue',
  predictorVersion: ANALOGUE_VERSION,
  horizon: 20,
  method: 'isotonic',
  fittedOn: { from: '2015-01-01', to: '2016-01-01', n: 600, dataVersion: 'x', markets: ['JP', 'US'] },
  // (the fixture store holds JP and US stocks)
  x: [0.1, 0.5, 0.9],
  y: [0.45, 0.52, 0.6],
  metrics: {
    fit: { n: 600, brierBefore: null, brierAfter: null, eceBefore: null, eceAfter: null },
    test: null,
  },
  lengths: { min: 43, max: 84 },
  // ACI offsets in units of the query's own vol·√h (decision 099).
  conformal: { q80: 0.3, q50: 0.05, n: 600, method: 'aci', normalised: true, volWindow: 20 },
  goals: { pUp: true, bands: true, n: 560, eceCalibrated: 0.02, coverage80Conformal: 0.8 },
};

describe('forecast over HTTP', () => {
  let dir: string;
  let fx: FixtureEntity[];
  let svc: Running;
  const post = (path: string, body: unknown) =>
    fetch(`${svc.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const query = (rows: number) => ({
    code: fx[3]!.code,
    start: fx[3]!.dates[500 - rows + 1],
    end: fx[3]!.dates[500],
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-fc-http-'));
    fx = market(8, 10, 900);
    writeStore(dir, fx, 'v1');
    svc = await start(dir, {
      models: { 'calibrator-analogue-L60-h20.json': calibrator },
      resultCacheBytes: 4_000_000,
    });
  });
  afterAll(async () => {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('5 cards, a forecast from 30 matches, calibrated by the setting calibrator', async () => {
    const res = similarResponseSchema.parse(
      await (await post('/v1/similar', { query: query(60), topK: 5 })).json(),
    );
    expect(res.matches).toHaveLength(5);
    const raw = findSimilar(svc.state.data!, { query: query(60), topK: 30 }).forecast!;
    const f = res.forecast!;
    expect(f.n).toBe(30);
    expect(f.basis).toEqual({ kind: 'analogues', n: 30, trainedTo: null });
    expect(f.pUp).toBe(raw.pUp);
    expect(f.effectiveN).toBeCloseTo(raw.effectiveN!, 12);
    expect(f.calibratorId).toBe('analogue-L60-h20-test');
    expect(f.pUpCalibrated).toBeCloseTo(applyIsotonic(calibrator, raw.pUp!), 12);
    expect(f.bands).toBe('conformal');
    expect(f.calibrated).toBe(true);
    const vol = realisedVol(res.query.series, res.query.series.length - 1)!;
    expect(vol).toBeGreaterThan(0);
    expect(f.quantiles!.p90).toBeCloseTo(raw.quantiles!.p90 + 0.3 * vol * Math.sqrt(20), 12);
    expect(f.quantiles!.p10).toBeCloseTo(raw.quantiles!.p10 - 0.3 * vol * Math.sqrt(20), 12);
    // The analogue predictor uses the same calibrator.
    const p = predictResponseSchema.parse(
      await (await post('/v1/predict', { query: query(60), horizon: 20, model: 'analogue' })).json(),
    );
    expect(p.forecast.calibratorId).toBe('analogue-L60-h20-test');
    expect(p.forecast.bands).toBe('conformal');
    expect(p.forecast.basis.kind).toBe('analogues');
  });

  it('settings the calibrator was not fitted on stay not calibrated', async () => {
    for (const body of [
      { query: query(100), topK: 5 }, // length outside 43..84
      { query: query(60), topK: 5, horizon: 10 },
      { query: query(60), topK: 5, metric: 'dtw' },
      { query: query(60), topK: 40 }, // a 40-match sample is not the analogue's 30
    ]) {
      const f = similarResponseSchema.parse(await (await post('/v1/similar', body)).json()).forecast!;
      expect(f.calibratorId).toBeNull();
      expect(f.pUpCalibrated).toBeNull();
      expect(f.calibrated).toBe(false);
      expect(f.bands).toBe('empirical');
      expect(f.n).toBe(Math.max(30, body.topK));
    }
  });

  it('weekly bars stay not calibrated (the calibrators were fitted on daily backtests)', async () => {
    const body = { query: query(300), topK: 5, timeframe: 'W' };
    const res = similarResponseSchema.parse(await (await post('/v1/similar', body)).json());
    // The length (in weeks) and horizon are the calibrator's: only the timeframe keeps it off.
    expect(res.query.length).toBeGreaterThanOrEqual(43);
    expect(res.query.length).toBeLessThanOrEqual(84);
    expect(res.horizon).toBe(20);
    for (const f of [
      res.forecast!,
      predictResponseSchema.parse(
        await (
          await post('/v1/predict', { query: query(300), horizon: 20, model: 'analogue', timeframe: 'W' })
        ).json(),
      ).forecast,
    ]) {
      expect(f.n).toBeGreaterThan(0);
      expect(f.calibratorId).toBeNull();
      expect(f.pUpCalibrated).toBeNull();
      expect(f.calibrated).toBe(false);
      expect(f.bands).toBe('empirical');
    }
  });

  it('a cached answer is not served after the calibrators change', async () => {
    const body = { query: query(70), topK: 5 };
    const first = await post('/v1/similar', body);
    const again = await post('/v1/similar', body);
    expect(again.headers.get('x-cache')).toBe('hit');
    expect(similarResponseSchema.parse(await first.json()).forecast!.calibratorId).toBe(
      'analogue-L60-h20-test',
    );
    writeFileSync(
      join(svc.modelsDir, 'calibrator-analogue-L60-h20.json'),
      JSON.stringify({ ...calibrator, version: 'analogue-L60-h20-refit' }),
    );
    svc.registry.reload();
    const after = await post('/v1/similar', body);
    expect(after.headers.get('x-cache')).toBe('miss');
    expect(similarResponseSchema.parse(await after.json()).forecast!.calibratorId).toBe(
      'analogue-L60-h20-refit',
    );
  });

  it('a calibrator fitted on US stocks is not applied to a store with JP stocks: not calibrated', async () => {
    writeFileSync(
      join(svc.modelsDir, 'calibrator-analogue-L60-h20.json'),
      JSON.stringify({ ...calibrator, fittedOn: { ...calibrator.fittedOn, markets: ['US'] } }),
    );
    svc.registry.reload();
    const f = similarResponseSchema.parse(
      await (await post('/v1/similar', { query: query(60), topK: 5 })).json(),
    ).forecast!;
    expect(f.calibratorId).toBeNull();
    expect(f.pUpCalibrated).toBeNull();
    expect(f.bands).toBe('empirical');
    expect(f.calibrated).toBe(false);
  });
});
