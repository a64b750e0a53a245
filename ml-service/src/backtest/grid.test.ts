import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../predictors/random.js';
import { conformalOffset, cqrScore, lengthRange, scoreGridCell } from './grid.js';
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
    // pUp here is noise: calibrated, it collapses towards the up-rate and its ECE is small.
    expect(cell.eceCalibrated!).toBeLessThan(cell.ece!);
    const small = scoreGridCell('synthetic', 60, 20, records(12, 300, 2), '2005-01-01')!;
    expect(small.calibrated).toBe(false);
    expect(small.missed).toMatch(/held-out forecasts \(needs 500\)/);
    expect(scoreGridCell('synthetic', 60, 20, records(13, 30, 1), '2000-02-01')).toBeNull();
  });

  it('fits only on records whose outcome was known before the split', () => {
    const rs = records(14, 1000, 1);
    const late = rs.map((r) => (r.date < '2005-01-01' ? { ...r, outcomeDate: '2005-02-01' } : r));
    expect(scoreGridCell('synthetic', 60, 20, late, '2005-01-01')).toBeNull();
  });
});
