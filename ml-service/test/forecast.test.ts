import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forecastFromOutcomes } from '../src/forecast/forecast.js';
import { loadMarketData } from '../src/market/market-data.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { naiveSimilar } from './naive-similarity.js';
import { businessDays, randomWalk, rng, writeStore } from './support/write-store.js';

/** Independent quantile: the value at fractional rank p(n-1), found by counting, not by indexing a sort. */
function quantile(values: number[], p: number): number {
  const rank = p * (values.length - 1);
  const kth = (k: number) =>
    values.find((v) => values.filter((w) => w < v).length <= k && values.filter((w) => w <= v).length > k)!;
  const lo = Math.floor(rank);
  const a = kth(lo);
  const b = kth(Math.min(lo + 1, values.length - 1));
  return a + (rank - lo) * (b - a);
}

describe('forecast', () => {
  it('summarises outcomes: mean, median, quantiles, fan, pUp', () => {
    const outcomes = [0.05, -0.02, 0.1, 0.0, -0.07, 0.03, 0.03].map((r, i) => ({
      forwardReturn: r,
      forwardPath: [1 + r / 2 + i * 0.001, 1 + r],
      forwardSpan: { from: 100 + 2 * i, to: 101 + 2 * i },
    }));
    const f = forecastFromOutcomes(outcomes, 2, 0.52, 'analogues');
    expect(f.basis).toEqual({ kind: 'analogues', n: 7, trainedTo: null });
    expect(f.effectiveN).toBe(7); // disjoint forward periods: seven independent cases
    const rs = outcomes.map((o) => o.forwardReturn);
    expect(f.n).toBe(7);
    expect(f.mean).toBeCloseTo(rs.reduce((a, b) => a + b) / 7, 15);
    expect(f.median).toBe(0.03);
    expect(f.pUp).toBeCloseTo(4 / 7, 15); // 0.0 is not up
    expect(f.baseRateUp).toBe(0.52);
    for (const [k, p] of [
      ['p10', 0.1],
      ['p25', 0.25],
      ['p50', 0.5],
      ['p75', 0.75],
      ['p90', 0.9],
    ] as const) {
      expect(f.quantiles![k]).toBeCloseTo(quantile(rs, p), 14);
      expect(f.fan[1]![k]).toBeCloseTo(
        quantile(
          rs.map((r) => 1 + r),
          p,
        ),
        14,
      );
      expect(f.fan[0]![k]).toBeCloseTo(
        quantile(
          outcomes.map((o) => o.forwardPath[0]!),
          p,
        ),
        14,
      );
    }
    expect(f.fan).toHaveLength(2);
  });

  it('is empty, not NaN, without matches', () => {
    expect(forecastFromOutcomes([], 5, null, 'own-history')).toEqual({
      n: 0,
      horizon: 5,
      mean: null,
      median: null,
      quantiles: null,
      fan: [],
      pUp: null,
      baseRateUp: null,
      basis: { kind: 'own-history', n: 0, trainedTo: null },
      effectiveN: 0,
      pUpInterval: null,
      verdict: 'too-few',
      pUpCalibrated: null,
      calibratorId: null,
      calibrated: false,
      bands: 'empirical',
    });
  });

  it('the search forecast equals one recomputed from the brute-force matches (30 of them behind 25 cards)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-fc-'));
    try {
      const random = rng(11);
      const fx = ['AA', 'BB', 'CC', 'DD'].map((code) => ({
        code,
        dates: businessDays('2001-01-01', 800),
        closes: randomWalk(random, 800),
      }));
      writeStore(dir, fx);
      const data = loadMarketData(dir);
      const req = {
        query: { code: 'CC', start: fx[2]!.dates[300]!, end: fx[2]!.dates[339]! },
        topK: 25,
        horizon: 15,
        metric: 'zned' as const,
        normalize: 'z' as const,
        mode: 'history' as const,
      };
      const fast = findSimilar(data, req);
      // The forecast is drawn from MIN_FORECAST_SAMPLE = 30 matches; the response shows the 25 asked for.
      const slow = naiveSimilar(fx, { ...req, topK: 30 });
      expect(fast.matches.map((m) => [m.code, m.start])).toEqual(
        slow.matches.slice(0, 25).map((m) => [m.code, m.start]),
      );
      const rs = slow.matches.map((m) => m.forwardReturn!);
      const f = fast.forecast!;
      expect(f.n).toBe(30);
      expect(f.horizon).toBe(15);
      expect(f.mean).toBeCloseTo(rs.reduce((a, b) => a + b) / rs.length, 14);
      expect(f.median).toBeCloseTo(quantile(rs, 0.5), 14);
      expect(f.quantiles!.p90).toBeCloseTo(quantile(rs, 0.9), 14);
      expect(f.pUp).toBe(rs.filter((r) => r > 0).length / rs.length);
      expect(f.baseRateUp).toBe(slow.ups / slow.candidates);
      expect(f.fan).toHaveLength(15);
      expect(f.fan[14]!.p25).toBeCloseTo(
        quantile(
          rs.map((r) => 1 + r),
          0.25,
        ),
        12,
      );
      expect(f.fan[4]!.p75).toBeCloseTo(
        quantile(
          slow.matches.map((m) => m.forwardPath[4]!),
          0.75,
        ),
        14,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
