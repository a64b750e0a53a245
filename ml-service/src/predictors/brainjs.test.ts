import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';
import { buildDataset, type Dataset } from './brainjs-dataset.js';
import {
  brainjsModelFileSchema,
  forecastFromExceedance,
  netFromModel,
  windowFeatures,
  type BrainjsModelFile,
} from './brainjs-model.js';
import { assembleModel, trainNet, type TrainOptions } from './brainjs-train.js';
import { CALIBRATOR_KIND, type CalibratorFile } from './calibrator.js';
import { PredictorError } from './errors.js';
import { applyIsotonic } from './isotonic.js';
import { seriesSource } from './market-series.js';
import { createPredictorRegistry, type PredictorRegistry } from './registry.js';
import { marketFromEntities, randomWalkEntities } from './synthetic-market.js';
import { trainInWorker } from './train-in-worker.js';
import { SearchPool } from '../search/search-pool.js';

const entities = randomWalkEntities(5, 4, 300);
const data = marketFromEntities(entities);
const source = seriesSource(data);
const HORIZON = 5;
const WINDOW = 6;
const tiny: TrainOptions = { hiddenLayers: [4], iterations: 3, learningRate: 0.1 };

function dataset(): Dataset {
  return buildDataset(source, {
    horizon: HORIZON,
    windowReturns: WINDOW,
    from: '2000-01-01',
    to: '2000-10-31',
    stride: 2,
    maxSamples: 300,
    validationFraction: 0.25,
    seed: 1,
  });
}

function model(version: string, createdAt: string): BrainjsModelFile {
  const ds = dataset();
  return assembleModel(ds, trainNet(ds.train, tiny), tiny, {
    version,
    createdAt,
    horizon: HORIZON,
    windowReturns: WINDOW,
    stride: 2,
    dataVersion: data.dataVersion,
    seconds: 0,
  });
}

describe('forecastFromExceedance', () => {
  const base = {
    thresholds: [-0.1, 0, 0.1],
    tails: { lo: -0.2, hi: 0.2 },
    horizon: 4,
    training: { samples: 123, baseRateUp: 0.52 } as BrainjsModelFile['training'],
  };
  it('inverts the piecewise-linear CDF implied by the exceedance probabilities', () => {
    const f = forecastFromExceedance(base, [0.9, 0.5, 0.1]);
    expect(f.pUp).toBe(0.5);
    expect(f.quantiles!.p10).toBeCloseTo(-0.1, 12);
    expect(f.quantiles!.p25).toBeCloseTo(-0.0625, 12);
    expect(f.quantiles!.p50).toBeCloseTo(0, 12);
    expect(f.quantiles!.p90).toBeCloseTo(0.1, 12);
    expect(f.mean).toBeCloseTo(0, 12);
    expect(f).toMatchObject({ n: 123, horizon: 4, baseRateUp: 0.52 });
    expect(f.fan).toHaveLength(4);
    expect(f.fan[3]!.p90).toBeCloseTo(1.1, 12);
    expect(f.fan[0]!.p90).toBeCloseTo(1 + 0.1 * Math.sqrt(1 / 4), 12);
  });
  it('projects non-monotone outputs onto a valid distribution before reading pUp', () => {
    const f = forecastFromExceedance(base, [0.5, 0.9, 0.1]);
    expect(f.pUp).toBeCloseTo(0.7, 12);
    const q = f.quantiles!;
    expect(q.p10 <= q.p25 && q.p25 <= q.p50 && q.p50 <= q.p75 && q.p75 <= q.p90).toBe(true);
  });
  it('rejects an output of the wrong width', () => {
    expect(() => forecastFromExceedance(base, [0.5])).toThrow(/3 thresholds but the net returned 1/);
  });
});

describe('windowFeatures', () => {
  it('matches a direct computation and refuses windows it cannot form', () => {
    const closes = [10, 11, 10.5, 12, 12, 11.5, 13];
    const norm = { logVolMean: -3, logVolStd: 0.5 };
    const f = windowFeatures(closes, 6, 4, norm)!;
    const r = [12 / 10.5, 12 / 12, 11.5 / 12, 13 / 11.5].map(Math.log);
    const vol = Math.sqrt(r.reduce((a, b) => a + b * b, 0) / 4);
    r.forEach((v, i) => expect(f[i]).toBeCloseTo(Math.max(-4, Math.min(4, v / vol)) / 4, 12));
    expect(f[4]).toBeCloseTo(Math.max(-4, Math.min(4, (Math.log(vol) + 3) / 0.5)) / 4, 12);
    expect(windowFeatures(closes, 3, 4, norm)).toBeNull();
    expect(windowFeatures([1, 0, 2, 3, 4], 4, 4, norm)).toBeNull();
  });
});

describe('training', () => {
  it('splits by time with a gap so validation windows start after every training outcome', () => {
    const ds = dataset();
    expect(ds.train.length).toBeGreaterThan(10);
    expect(ds.validation.length).toBeGreaterThan(0);
    expect(ds.trainRange.to < ds.validationRange!.from).toBe(true);
    expect(ds.thresholds).toContain(0);
    expect([...ds.thresholds].sort((a, b) => a - b)).toEqual(ds.thresholds);
  });

  it('trains a tiny net in a worker thread and reports progress every epoch', async () => {
    const ds = dataset();
    const seen: number[] = [];
    const trained = await trainInWorker(ds.train, tiny, (p) => seen.push(p.iterations));
    expect(seen).toEqual([1, 2, 3]);
    expect(trained.iterations).toBe(3);
    const file = assembleModel(ds, trained, tiny, {
      version: 'w1',
      createdAt: '2026-01-01T00:00:00Z',
      horizon: HORIZON,
      windowReturns: WINDOW,
      stride: 2,
      dataVersion: 'x',
      seconds: 0,
    });
    expect(file.metrics.validation!.n).toBe(ds.validation.length);
    expect(file.net.sizes).toEqual([WINDOW + 1, 4, ds.thresholds.length]);
  });

  it('round-trips through a JSON file with identical predictions', () => {
    const m = model('rt', '2026-01-01T00:00:00Z');
    const dir = mkdtempSync(join(tmpdir(), 'b2-rt-'));
    try {
      writeFileAtomic(join(dir, 'm.json'), JSON.stringify(m));
      const loaded = brainjsModelFileSchema.parse(JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')));
      const a = netFromModel(m);
      const b = netFromModel(loaded);
      const x = windowFeatures(entities[0]!.closes, 250, WINDOW, m.features)!;
      expect(Array.from(b.run(x) as ArrayLike<number>)).toEqual(Array.from(a.run(x) as ArrayLike<number>));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('registry', () => {
  let dir: string;
  let registry: PredictorRegistry;
  const e = entities[1]!;
  const query = { code: e.code, start: e.dates[240]!, end: e.dates[260]! };
  const brainjsVersion = () => registry.list().find((p) => p.id === 'brainjs')!.version;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'b2-models-'));
    registry = createPredictorRegistry({ getData: () => data, modelsDir: dir });
  });
  afterAll(() => {
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports brainjs unavailable (409 with the reason) while there is no model file', () => {
    const info = registry.list().find((p) => p.id === 'brainjs')!;
    expect(info).toMatchObject({ available: false, version: null });
    expect(info.reason).toMatch(/no brainjs model/);
    try {
      registry.predict('brainjs', query, HORIZON);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PredictorError);
      expect((error as PredictorError).status).toBe(409);
      expect((error as PredictorError).code).toBe('model_unavailable');
    }
    expect(registry.predict('baseline', query, HORIZON).forecast.n).toBeGreaterThan(0);
  });

  it('hot-swaps models written into the watched directory, serving the newest', async () => {
    const first = model('first', '2026-01-01T00:00:00Z');
    writeFileAtomic(join(dir, 'brainjs-a.json'), JSON.stringify(first));
    await waitFor(() => brainjsVersion() === 'first', 'the first model');
    const p1 = registry.predict('brainjs', query, HORIZON);
    expect(p1.modelVersion).toBe('first');
    const x = windowFeatures(e.closes, 260, WINDOW, first.features)!;
    expect(p1.forecast).toEqual(
      forecastFromExceedance(first, netFromModel(first).run(x) as ArrayLike<number>),
    );

    const second = model('second', '2026-02-01T00:00:00Z');
    writeFileAtomic(join(dir, 'brainjs-b.json'), JSON.stringify(second));
    await waitFor(() => brainjsVersion() === 'second', 'the newer model');

    writeFileSync(join(dir, 'broken.json'), '{ not json');
    await waitFor(
      () => registry.problems().some((p) => p.startsWith('broken.json')),
      'the broken file to be reported',
    );
    expect(brainjsVersion()).toBe('second');

    unlinkSync(join(dir, 'brainjs-b.json'));
    await waitFor(() => brainjsVersion() === 'first', 'fallback to the remaining model');
    unlinkSync(join(dir, 'brainjs-a.json'));
    await waitFor(() => brainjsVersion() === null, 'brainjs to become unavailable');
    unlinkSync(join(dir, 'broken.json'));
  });

  it('refuses other horizons and models trained past a backtest cutoff', () => {
    writeFileAtomic(join(dir, 'brainjs.json'), JSON.stringify(model('third', '2026-03-01T00:00:00Z')));
    registry.reload();
    expect(() => registry.predict('brainjs', query, HORIZON + 1)).toThrow(/trained for horizon 5/);
    expect(() => registry.predict('brainjs', query, HORIZON, { forwardEndBefore: '2000-03-01' })).toThrow(
      /trained on data up to/,
    );
    expect(
      registry.predict('brainjs', { series: [1, 2, 3, 4, 5, 6, 7, 8] }, HORIZON).forecast.pUp,
    ).not.toBeNull();
    expect(() => registry.predict('brainjs', { series: [1, 2, 3, 4, 5, 6, 7, 0] }, HORIZON)).toThrow(
      /needs 7 positive closes/,
    );
    unlinkSync(join(dir, 'brainjs.json'));
    registry.reload();
  });

  it('applies a calibrator only to the predictor version and horizon it was fitted for', () => {
    const baselineVersion = registry.list().find((p) => p.id === 'baseline')!.version!;
    const calibrator: CalibratorFile = {
      kind: CALIBRATOR_KIND,
      format: 1,
      version: 'cal-1',
      createdAt: '2026-01-01T00:00:00Z',
      predictor: 'baseline',
      predictorVersion: baselineVersion,
      horizon: HORIZON,
      method: 'isotonic',
      fittedOn: { from: '2000-01-01', to: '2000-06-01', n: 50, dataVersion: 'x', markets: ['US'] },
      x: [0.2, 0.8],
      y: [0.45, 0.55],
      metrics: {
        fit: { n: 50, brierBefore: 0.3, brierAfter: 0.25, eceBefore: 0.1, eceAfter: 0 },
        test: null,
      },
    };
    writeFileAtomic(join(dir, 'calibrator-baseline-h5.json'), JSON.stringify(calibrator));
    writeFileAtomic(
      join(dir, 'calibrator-analogue-h5.json'),
      JSON.stringify({ ...calibrator, predictor: 'analogue', predictorVersion: 'some-older-version' }),
    );
    registry.reload();
    const p = registry.predict('baseline', query, HORIZON);
    expect(p.forecast.pUpCalibrated).toBeCloseTo(applyIsotonic(calibrator, p.forecast.pUp!), 12);
    expect(p.forecast.calibratorId).toBe('cal-1');
    // A one-setting calibrator has no conformal bands, so the forecast is not called calibrated.
    expect(p.forecast.calibrated).toBe(false);
    expect(registry.predict('baseline', query, HORIZON, { raw: true }).forecast.pUpCalibrated).toBeNull();
    expect(registry.predict('baseline', query, HORIZON + 1).forecast.pUpCalibrated).toBeNull();
    expect(registry.predict('analogue', query, HORIZON).forecast.pUpCalibrated).toBeNull();
    expect(registry.predict('analogue', query, HORIZON).forecast.calibratorId).toBeNull();
    expect(registry.list().find((x) => x.id === 'baseline')!.calibratedHorizons).toEqual([HORIZON]);
  });

  it('predictAsync on the search worker pool answers exactly what predict answers', async () => {
    const pool = new SearchPool(1);
    try {
      for (const model of ['analogue', 'baseline'] as const) {
        const sync = registry.predict(model, query, HORIZON, { forwardEndBefore: e.dates[250] });
        const viaPool = await registry.predictAsync(model, query, HORIZON, pool.runner(data), {
          forwardEndBefore: e.dates[250],
        });
        expect(viaPool).toEqual(sync);
      }
    } finally {
      await pool.close();
    }
  });
});
