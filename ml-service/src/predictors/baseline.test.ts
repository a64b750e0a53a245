import { describe, expect, it } from 'vitest';
import { baselineForecast } from './baseline.predictor.js';
import { baseRateUpAsOf } from './base-rate.js';
import { PredictorError } from './errors.js';
import { seriesSource } from './market-series.js';
import { resolveQuery } from './query.js';
import { marketFromEntities, randomWalkEntities } from './synthetic-market.js';

/** Independent recomputation: type-7 quantiles by sorting, every window counted by plain loops. */
function q7(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!);
}

const entities = randomWalkEntities(21, 6, 400);
const data = marketFromEntities(entities);
const source = seriesSource(data);

describe('baseline predictor', () => {
  it('is the distribution of the stock’s own past horizon returns known at the query end', () => {
    const e = entities.find((x) => x.code === 'S002')!;
    const end = 250;
    const h = 10;
    const query = { code: e.code, start: e.dates[end - 29]!, end: e.dates[end]! };
    const f = baselineForecast(source, resolveQuery(source, query), h);
    const returns: number[] = [];
    for (let s = 0; s + h <= end; s++) returns.push(e.closes[s + h]! / e.closes[s]! - 1);
    expect(f.n).toBe(returns.length);
    expect(f.mean).toBeCloseTo(returns.reduce((a, b) => a + b, 0) / returns.length, 12);
    expect(f.pUp).toBe(returns.filter((r) => r > 0).length / returns.length);
    expect(f.quantiles!.p10).toBeCloseTo(q7(returns, 0.1), 12);
    expect(f.quantiles!.p90).toBeCloseTo(q7(returns, 0.9), 12);
    const day3: number[] = [];
    for (let s = 0; s + h <= end; s++) day3.push(e.closes[s + 3]! / e.closes[s]!);
    expect(f.fan[2]!.p25).toBeCloseTo(q7(day3, 0.25), 12);
    expect(f.fan).toHaveLength(h);

    // Base rate: all stocks' windows whose forward period ended on or before the query end.
    let ups = 0;
    let all = 0;
    for (const x of entities) {
      for (let s = 0; s + h < x.closes.length; s++) {
        if (x.dates[s + h]! <= e.dates[end]!) {
          all++;
          if (x.closes[s + h]! > x.closes[s]!) ups++;
        }
      }
    }
    expect(f.baseRateUp).toBe(ups / all);
  });

  it('uses only forward periods ending before the cutoff', () => {
    const e = entities.find((x) => x.code === 'S001')!;
    const h = 5;
    const query = { code: e.code, start: e.dates[300]!, end: e.dates[340]! };
    const cutoff = e.dates[200]!;
    const f = baselineForecast(source, resolveQuery(source, query), h, { forwardEndBefore: cutoff });
    const returns: number[] = [];
    for (let s = 0; s + h < 200; s++) returns.push(e.closes[s + h]! / e.closes[s]! - 1);
    expect(f.n).toBe(returns.length);
    expect(f.median).toBeCloseTo(q7(returns, 0.5), 12);
    expect(f.baseRateUp).toBe(baseRateUpAsOf(source, h, e.dates[199]!));
  });

  it('returns an empty forecast when no return is known yet', () => {
    const e = entities[0]!;
    const query = { code: e.code, start: e.dates[0]!, end: e.dates[9]! };
    const f = baselineForecast(source, resolveQuery(source, query), 20);
    expect(f).toMatchObject({ n: 0, pUp: null, quantiles: null, fan: [] });
  });

  it('refuses a query by series and an unknown code with clear errors', () => {
    expect(() =>
      baselineForecast(source, resolveQuery(source, { series: [1, 2, 3, 4, 5, 6, 7, 8] }), 5),
    ).toThrow(/query by code/);
    try {
      resolveQuery(source, { code: 'NOPE', start: '2000-01-03', end: '2000-03-01' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PredictorError);
      expect((error as PredictorError).status).toBe(404);
    }
    expect(() => resolveQuery(source, { code: 'S000', start: '2000-02-01', end: '2000-02-03' })).toThrow(
      /needs 8\.\.500/,
    );
  });
});
