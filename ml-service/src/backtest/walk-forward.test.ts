import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MarketData } from '../market/market-data.js';
import { findSimilar } from '../search/similarity.service.js';
import { seriesSource } from '../predictors/market-series.js';
import { createPredictorRegistry, type ModelId, type PredictOptions } from '../predictors/registry.js';
import {
  marketFromEntities,
  randomWalkEntities,
  type SyntheticEntity,
} from '../predictors/synthetic-market.js';
import { summarizeModel } from './score.js';
import { walkForward, type PredictFn } from './walk-forward.js';

const emptyModels = mkdtempSync(join(tmpdir(), 'b2-wf-models-'));
afterAll(() => rmSync(emptyModels, { recursive: true, force: true }));

function registryFor(data: MarketData) {
  return createPredictorRegistry({ getData: () => data, modelsDir: emptyModels, watch: false });
}

const L = 40;
const H = 10;
const entities = randomWalkEntities(31, 5, 420);
const queryEntity = entities[0]!;
const endRow = 300;
const cutoff = queryEntity.dates[endRow]!;
const query = { code: queryEntity.code, start: queryEntity.dates[endRow - L + 1]!, end: cutoff };

// Plant the future: after the cutoff, S001 repeats the query exactly and then jumps 50 %. Any predictor
// that looked past the cutoff would find it (distance 0) and forecast up.
const planted = entities[1]!;
const plantAt = planted.dates.findIndex((d) => d > cutoff) + 5;
for (let i = 0; i < L; i++) planted.closes[plantAt + i] = queryEntity.closes[endRow - L + 1 + i]!;
for (let i = 1; i <= H; i++)
  planted.closes[plantAt + L - 1 + i] = planted.closes[plantAt + L - 1]! * (1 + 0.05 * i);

/** What was knowable on the cutoff date: rows before it (and the query's own rows up to it). */
function truncated(list: SyntheticEntity[]): SyntheticEntity[] {
  return list.map((e) => {
    const keep = e.dates.filter((d) => (e.code === queryEntity.code ? d <= cutoff : d < cutoff)).length;
    return { code: e.code, dates: e.dates.slice(0, keep), closes: e.closes.slice(0, keep) };
  });
}

describe('no look-ahead', () => {
  const fullData = marketFromEntities(entities);
  const full = registryFor(fullData);
  const past = registryFor(marketFromEntities(truncated(entities)));

  it.each(['analogue', 'baseline'] as ModelId[])(
    '%s with forwardEndBefore gives exactly what a store cut at that date gives',
    (model) => {
      const withCutoff = full.predict(model, query, H, { forwardEndBefore: cutoff, raw: true });
      const onlyPast = past.predict(model, query, H, { forwardEndBefore: cutoff, raw: true });
      expect(withCutoff.forecast).toEqual(onlyPast.forecast);
    },
  );

  it('is a test that can fail: without the cutoff the planted future changes the analogue forecast', () => {
    const leaky = full.predict('analogue', query, H, { raw: true });
    const honest = full.predict('analogue', query, H, { forwardEndBefore: cutoff, raw: true });
    expect(leaky.forecast).not.toEqual(honest.forecast);
    const search = (forwardEndBefore?: string) =>
      findSimilar(fullData, { query, topK: 30, horizon: H }, { forwardEndBefore }).matches[0]!;
    expect(search()).toMatchObject({ code: planted.code, start: planted.dates[plantAt] });
    expect(search().distance).toBeLessThan(1e-6);
    expect(search(cutoff).code === planted.code && search(cutoff).start === planted.dates[plantAt]).toBe(
      false,
    );
  });
});

describe('walkForward', () => {
  const data = marketFromEntities(randomWalkEntities(41, 4, 360));
  const source = seriesSource(data);
  const registry = registryFor(data);
  const calls: { model: ModelId; end: string; start: string; options: PredictOptions }[] = [];
  const spy: PredictFn = (model, q, horizon, options) => {
    if (!('code' in q)) throw new Error('walkForward must query by code');
    calls.push({ model, end: q.end, start: q.start, options });
    return registry.predict(model, q, horizon, options);
  };
  const options = {
    from: '2000-06-01',
    to: '2001-03-01',
    step: 15,
    entitiesPerDate: 2,
    length: 30,
    horizon: 10,
    models: ['analogue', 'baseline', 'brainjs'] as ModelId[],
    seed: 3,
  };
  const result = walkForward(source, spy, options);

  it('cuts every prediction off at its evaluation date and queries the L rows ending there', () => {
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.options.forwardEndBefore).toBe(c.end);
      const e = source.entities.find((x) => x.dates.includes(c.end) && x.dates.includes(c.start))!;
      expect(e.dates.indexOf(c.end) - e.dates.indexOf(c.start) + 1).toBe(options.length);
    }
  });

  it('records the realized outcome after the evaluation date, not before', () => {
    expect(result.records.length).toBeGreaterThan(0);
    for (const r of result.records) {
      const e = source.byCode(r.code)!;
      const end = e.dates.indexOf(r.date);
      expect(r.outcomeDate).toBe(e.dates[end + options.horizon]);
      expect(r.outcomeDate > r.date).toBe(true);
      expect(r.actual).toBe(e.closes[end + options.horizon]! / e.closes[end]! - 1);
    }
  });

  it('counts refused predictions instead of failing (no brainjs model here)', () => {
    expect(result.skipped.brainjs?.model_unavailable).toBe(result.queries);
    expect(result.records.filter((r) => r.model === 'brainjs')).toHaveLength(0);
  });

  it('is reproducible from its seed', () => {
    const again = walkForward(source, (m, q, h, o) => registry.predict(m, q, h, o), options);
    expect(again.records).toEqual(result.records);
  });

  it('scores and calibrates per model without using test-period outcomes for the fit', () => {
    const records = result.records.filter((r) => r.model === 'baseline');
    const split = records[Math.floor(records.length / 2)]!.date;
    const summary = summarizeModel('baseline', records, split);
    expect(summary.all.n).toBe(records.length);
    if (summary.calibration) {
      expect(summary.calibration.fit.to < split).toBe(true);
      expect(summary.calibration.test.from >= split).toBe(true);
      expect(summary.calibration.fit.n).toBe(
        records.filter((r) => r.date < split && r.outcomeDate < split).length,
      );
    }
  });
});
