import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../predictors/random.js';
import {
  BAND_METHODS,
  chooseMethods,
  conformalOffset,
  cqrScore,
  innerSplit,
  lengthRange,
  scoreGridCell,
  type CellValidation,
} from './grid.js';
import type { PredictionRecord } from './walk-forward.js';

/** The smallest offset q whose band [lo − q, hi + q] holds at least ⌈(n + 1)·level⌉ of the fit outcomes. */
function slowOffset(los: number[], his: number[], ys: number[], level: number): number {
  const need = Math.ceil((ys.length + 1) * level);
  const candidates = ys.map((y, i) => cqrScore(los[i]!, his[i]!, y)).sort((a, b) => a - b);
  for (const q of candidates) {
    const inside = ys.filter((y, i) => y >= los[i]! - q - 1e-12 && y <= his[i]! + q + 1e-12).length;
    if (inside >= need) return q;
  }
  return Infinity;
}

function records(seed: number, n: number, spread: number): PredictionRecord[] {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, (_, i) => {
    const year = 2000 + Math.floor((10 * i) / n);
    const date = `${year}-06-${String(1 + (i % 28)).padStart(2, '0')}`;
    // Forecasters too narrow by `spread`: outcomes ~ N(0, 0.05), bands of an N(0, 0.05 / spread).
    const s = 0.05 / spread;
    return {
      date,
      code: `C${i % 9}`,
      model: 'analogue' as const,
      modelVersion: 'v',
      pUp: Math.round(random() * 30) / 30,
      p10: -1.2816 * s,
      p25: -0.6745 * s,
      p50: 0,
      p75: 0.6745 * s,
      p90: 1.2816 * s,
      actual: 0.05 * gauss(),
      outcomeDate: `${year}-07-30`,
      baseRateUp: 0.5,
      vol: 0.05 / Math.sqrt(20),
    };
  });
}

describe('calibration grid', () => {
  it('splits query lengths at the geometric means of grid neighbours, 8..500 at the ends', () => {
    expect(lengthRange(30)).toEqual({ min: 8, max: 42 });
    expect(lengthRange(60)).toEqual({ min: 43, max: 84 });
    expect(lengthRange(120)).toEqual({ min: 85, max: 173 });
    expect(lengthRange(250)).toEqual({ min: 174, max: 500 });
    expect(() => lengthRange(45)).toThrow(/not on the grid/);
  });

  it('the conformal offset is the smallest band widening that covers the quota (slow twin)', () => {
    const random = mulberry32(3);
    for (let trial = 0; trial < 30; trial++) {
      const n = 5 + Math.floor(random() * 60);
      const los = Array.from({ length: n }, () => -random() * 0.1);
      const his = los.map((lo) => lo + random() * 0.2);
      const ys = Array.from({ length: n }, () => (random() - 0.5) * 0.4);
      for (const level of [0.5, 0.8]) {
        const scores = ys.map((y, i) => cqrScore(los[i]!, his[i]!, y));
        expect(conformalOffset(scores, level)).toBe(slowOffset(los, his, ys, level));
      }
    }
    expect(conformalOffset([0.1, 0.2], 0.8)).toBe(Infinity);
  });

  it('widens bands that were too narrow to ~80 % held-out coverage and says when a cell is too small', () => {
    const cell = scoreGridCell('synthetic', 60, 20, records(11, 2400, 2), '2005-01-01')!;
    expect(cell.n).toBeGreaterThanOrEqual(500);
    expect(cell.coverage80!).toBeLessThan(0.6); // half-width bands cover far less than 80 %
    expect(Math.abs(cell.coverage80Conformal! - 0.8)).toBeLessThan(0.03);
    expect(cell.conformal.q80).toBeGreaterThan(0);
    expect(cell.goals.bands).toBe(true);
    expect(cell.judged).toBe(true);
    // Every candidate's validation score is recorded, and the cell applied the one it reports.
    expect(Object.keys(cell.methods.validation.coverage80)).toEqual([...BAND_METHODS]);
    expect(cell.conformal.method).toBe(cell.methods.bands);
    expect(cell.methods.test.coverage80[cell.methods.bands]).toBe(cell.coverage80Conformal);
    // pUp here is noise: calibrated, it collapses towards the up-rate and its ECE is small.
    expect(cell.eceCalibrated!).toBeLessThan(cell.ece!);
    const small = scoreGridCell('synthetic', 60, 20, records(12, 300, 2), '2005-01-01')!;
    expect(small.calibrated).toBe(false);
    expect(small.judged).toBe(false);
    expect(small.missed).toMatch(/held-out forecasts \(needs 500\)/);
    expect(scoreGridCell('synthetic', 60, 20, records(13, 30, 1), '2000-02-01')).toBeNull();
  });

  it('fits only on records whose outcome was known before the split', () => {
    const rs = records(14, 1000, 1);
    const late = rs.map((r) => (r.date < '2005-01-01' ? { ...r, outcomeDate: '2005-02-01' } : r));
    expect(scoreGridCell('synthetic', 60, 20, late, '2005-01-01')).toBeNull();
  });

  it("chooses methods on the earlier period only: the later period's outcomes change nothing chosen", () => {
    const rs = records(15, 2400, 2);
    const split = '2005-01-01';
    // Scramble every outcome of the later period: the choice and the earlier-period figures stay put.
    const random = mulberry32(99);
    const scrambled = rs.map((r) => (r.date >= split ? { ...r, actual: (random() - 0.5) * 0.3 } : r));
    const a = scoreGridCell('s', 60, 20, rs, split)!;
    const b = scoreGridCell('s', 60, 20, scrambled, split)!;
    expect(b.methods.validation).toEqual(a.methods.validation);
    expect([b.methods.bands, b.methods.pUp]).toEqual([a.methods.bands, a.methods.pUp]);
    expect(b.coverage80Conformal).not.toBe(a.coverage80Conformal);
    // The inner split validates on dates after every inner-fit outcome.
    const fit = rs.filter((r) => r.date < split && r.outcomeDate < split);
    const { history, validation } = innerSplit(fit);
    expect(Math.max(...history.map((r) => Date.parse(r.outcomeDate)))).toBeLessThan(
      Math.min(...validation.map((r) => Date.parse(r.date))),
    );
  });

  it("pools the cells' validation: mean cover gap and mean ECE, ties to the simpler method", () => {
    const v = (c: number[], e: number[]): CellValidation => ({
      n: 100,
      from: '2000-01-01',
      coverage80: { split: c[0]!, normalised: c[1]!, rolling: c[2]!, aci: c[3]! },
      ece: { isotonic: e[0]!, platt: e[1]!, 'rolling-isotonic': e[2]!, 'rolling-platt': e[3]! },
    });
    const chosen = chooseMethods([
      v([0.7, 0.75, 0.9, 0.81], [0.05, 0.04, 0.02, 0.06]),
      v([0.9, 0.85, 0.8, 0.78], [0.05, 0.04, 0.08, 0.01]),
    ]);
    expect(chosen.meanCoverageGap.aci).toBeCloseTo(0.015, 12);
    expect(chosen.bands).toBe('aci');
    expect(chosen.pUp).toBe('rolling-platt'); // mean 0.035 beats 0.04 and 0.05
    const tie = chooseMethods([v([0.8, 0.8, 0.8, 0.8], [0.03, 0.03, 0.03, 0.03])]);
    expect([tie.bands, tie.pUp]).toEqual(['split', 'isotonic']);
  });
});
