import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../predictors/random.js';
import { conformalQuantile, onlineConformal, type ScoredForecast } from './conformal.js';
import { runBandMethod, scoreGridCell } from './grid.js';
import type { PredictionRecord } from './walk-forward.js';

const day = (i: number) => new Date(Date.UTC(2000, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);

/**
 * The definition, forecast by forecast and from scratch: the level of forecast i is α plus γ·(α − err)
 * summed over every earlier stream forecast whose outcome was known before date i; its pool is the history
 * and those known forecasts, ordered by outcome date (ties: history first, then stream order), of which
 * the last `window` count; the offset is the ⌈(n + 1)(1 − level)⌉-th smallest (±∞ past the ends).
 */
function slowOnline(
  history: ScoredForecast[],
  stream: ScoredForecast[],
  o: { alpha: number; gamma: number; window: number; update: boolean },
): number[] {
  const offsets: number[] = [];
  for (let i = 0; i < stream.length; i++) {
    const known = stream
      .map((s, j) => ({ ...s, j }))
      .filter((s) => s.j < i && s.outcomeDate < stream[i]!.date);
    const byOutcome = (a: ScoredForecast, b: ScoredForecast) =>
      a.outcomeDate < b.outcomeDate ? -1 : a.outcomeDate > b.outcomeDate ? 1 : 0;
    // Summed in the order the outcomes became known (floating-point sums depend on the order).
    const inOrder = known.sort((a, b) => byOutcome(a, b) || a.j - b.j);
    let level = o.alpha;
    for (const s of inOrder) level += o.gamma * (o.alpha - (s.score > offsets[s.j]! ? 1 : 0));
    const hist = history.map((h, k) => ({ ...h, k })).sort((a, b) => byOutcome(a, b) || a.k - b.k);
    const pool = [...hist, ...(o.update ? inOrder : [])].map((s) => s.score);
    const recent = pool.slice(Math.max(0, pool.length - o.window)).sort((a, b) => a - b);
    let q: number;
    if (level >= 1) q = -Infinity;
    else {
      const k = Math.ceil((recent.length + 1) * (1 - level));
      q = k > recent.length ? Infinity : recent[Math.max(1, k) - 1]!;
    }
    offsets.push(q);
  }
  return offsets;
}

function seededStream(seed: number, n: number, start: number): ScoredForecast[] {
  const random = mulberry32(seed);
  let d = start;
  return Array.from({ length: n }, () => {
    d += Math.floor(random() * 3); // several forecasts may share a date
    const lag = 1 + Math.floor(random() * 12); // outcomes arrive late, out of order
    return { date: day(d), outcomeDate: day(d + lag), score: Math.round((random() - 0.3) * 40) / 10 };
  });
}

describe('online conformal offsets', () => {
  it('match the slow from-scratch definition (split, rolling, ACI) on seeded delayed data', () => {
    for (let trial = 0; trial < 12; trial++) {
      const history = seededStream(100 + trial, 5 + trial * 7, 0).map((h) => ({
        ...h,
        date: day(0),
        outcomeDate: day(trial % 3),
      }));
      const stream = seededStream(200 + trial, 150, 10);
      for (const o of [
        { alpha: 0.2, gamma: 0, window: Infinity, update: false },
        { alpha: 0.2, gamma: 0, window: 40, update: true },
        { alpha: 0.2, gamma: 0.02, window: 40, update: true },
        { alpha: 0.5, gamma: 0.1, window: 7, update: true },
        { alpha: 0.1, gamma: 0.3, window: Infinity, update: false },
      ]) {
        expect(onlineConformal(history, stream, o).offsets).toEqual(slowOnline(history, stream, o));
      }
    }
  });

  it('the quantile is ±∞ past the ends and the conformal rank otherwise', () => {
    expect(conformalQuantile([1, 2, 3], 0.2)).toBe(Infinity); // ⌈4·0.8⌉ = 4 > 3
    expect(conformalQuantile([1, 2, 3, 4, 5, 6, 7, 8, 9], 0.2)).toBe(8); // ⌈10·0.8⌉ = 8
    expect(conformalQuantile([1, 2], 1.1)).toBe(-Infinity);
    expect(conformalQuantile([1, 2], -0.1)).toBe(Infinity);
    expect(() => onlineConformal([], [], { alpha: 0, gamma: 0, window: 1, update: false })).toThrow(
      RangeError,
    );
  });
});

/**
 * A market whose volatility regime shifts: outcomes ~ N(0, σ_t·√h) with σ_t = 2 % a day in the fit period
 * and 0.7 % (then 3 %) later, forecast by an analogue whose band is the same whatever the regime (it draws
 * from all history). The records carry the stock's realised vol, as the walk-forward does.
 */
function regimeShift(seed: number): PredictionRecord[] {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const h = 20;
  const out: PredictionRecord[] = [];
  for (let t = 0; t < 3000; t++) {
    const sigma = t < 1000 ? 0.02 : t < 2200 ? 0.007 : 0.03;
    const vol = sigma * (1 + 0.1 * gauss()); // the realised vol estimates σ with some noise
    const band = 0.012 * Math.sqrt(h) * 1.2816;
    out.push({
      date: day(t),
      code: `C${t % 7}`,
      model: 'analogue',
      modelVersion: 'v',
      pUp: 0.5,
      p10: -band,
      p25: -band / 1.9,
      p50: 0,
      p75: band / 1.9,
      p90: band,
      actual: sigma * Math.sqrt(h) * gauss(),
      outcomeDate: day(t + h),
      baseRateUp: 0.5,
      vol,
    });
  }
  return out;
}

describe('coverage under a volatility regime shift', () => {
  it('split conformal breaks (over- then under-covers); normalised ACI holds 80 ± 3 % in each regime', () => {
    const records = regimeShift(5);
    const fit = records.filter((r) => r.outcomeDate < day(1000));
    const test = records.filter((r) => r.date >= day(1000));
    const split = runBandMethod('split', 'p10p90', fit, test, 20);
    const aci = runBandMethod('aci', 'p10p90', fit, test, 20);
    const coverIn = (run: ReturnType<typeof runBandMethod>, from: number, to: number) => {
      let inside = 0;
      let n = 0;
      test.forEach((r, i) => {
        if (r.date < day(from) || r.date >= day(to)) return;
        n++;
        const lo = r.p10 - run.offsets[i]! * (run.normalised ? Math.max(r.vol, 1e-4) * Math.sqrt(20) : 1);
        const hi = r.p90 + run.offsets[i]! * (run.normalised ? Math.max(r.vol, 1e-4) * Math.sqrt(20) : 1);
        if (r.actual >= lo && r.actual <= hi) inside++;
      });
      return inside / n;
    };
    // Split: fitted on the wild period, its band is far too wide when calm and too narrow when wilder.
    expect(coverIn(split, 1000, 2200)).toBeGreaterThan(0.97);
    expect(coverIn(split, 2200, 3000)).toBeLessThan(0.7);
    // Normalised ACI: near 80 % in both regimes, and over the whole later period.
    expect(Math.abs(coverIn(aci, 1000, 2200) - 0.8)).toBeLessThan(0.03);
    expect(Math.abs(coverIn(aci, 2200, 3000) - 0.8)).toBeLessThan(0.03);
    expect(Math.abs(aci.coverage! - 0.8)).toBeLessThan(0.03);
    // The grid cell, choosing on the fit period alone, lands on a method that holds.
    const cell = scoreGridCell('shift', 60, 20, records, day(1000), { bands: 'aci', pUp: 'platt' })!;
    expect(Math.abs(cell.coverage80Conformal! - 0.8)).toBeLessThan(0.03);
    expect(cell.goals.bands).toBe(true);
    expect(cell.conformal).toMatchObject({ method: 'aci', normalised: true });
  });
});
