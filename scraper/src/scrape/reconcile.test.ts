import { describe, expect, it } from 'vitest';
import { loadFixturePrices } from '../../test-site/dataset.js';
import { computeAdjusted, type RowInput } from '../store/index.js';
import { detectSplitJumps, planUpdate, splitFactor } from './reconcile.js';

const real = loadFixturePrices();
const aapl = real.get('AAPL')!;

const scale = (r: RowInput, f: number, volF = 1): RowInput => ({
  date: r.date,
  open: r.open * f,
  high: r.high * f,
  low: r.low * f,
  close: r.close * f,
  volume: Math.round(r.volume * volF),
});

describe('splitFactor', () => {
  it('snaps near split ratios and refuses ordinary moves', () => {
    expect(splitFactor(0.5)).toBe(0.5);
    expect(splitFactor(0.51)).toBe(0.5);
    expect(splitFactor(1 / 3)).toBeCloseTo(1 / 3, 12);
    expect(splitFactor(2.02)).toBe(2);
    expect(splitFactor(0.9)).toBeNull();
    expect(splitFactor(0.6)).toBeNull();
  });
});

describe('planUpdate', () => {
  const stored = aapl.slice(0, 100);

  it('appends new rows when the overlap is unchanged', () => {
    const fetched = aapl.slice(95, 110);
    const plan = planUpdate(stored.slice(95), stored[94], fetched);
    expect(plan.adjustments).toEqual([]);
    expect(plan.corrected).toEqual([]);
    expect(plan.rows).toEqual(aapl.slice(100, 110));
  });

  it('turns a constant revision of the overlap into a split at the first unrevised date', () => {
    // The source republished its past halved; from day 100 on it publishes post-split prices.
    const fetched = [
      ...aapl.slice(95, 100).map((r) => scale(r, 0.5, 2)),
      ...aapl.slice(100, 110).map((r) => scale(r, 0.5, 2)),
    ];
    const plan = planUpdate(stored.slice(95), stored[94], fetched);
    expect(plan.adjustments).toEqual([{ exDate: aapl[100].date, kind: 'split', factor: 0.5 }]);
    expect(plan.rows.map((r) => r.date)).toEqual(aapl.slice(100, 110).map((r) => r.date));
    // Rebuilt history equals what the source now publishes.
    const rebuilt = computeAdjusted([...stored, ...plan.rows], plan.adjustments);
    const expected = [...aapl.slice(0, 110).map((r) => scale(r, 0.5, 2))];
    rebuilt.forEach((r, i) => {
      expect(r.date).toBe(expected[i].date);
      expect(r.close).toBeCloseTo(expected[i].close, 9);
      expect(r.volume).toBe(expected[i].volume);
    });
  });

  it('places the ex-date inside the overlap when the revision stops there', () => {
    const fetched = [...aapl.slice(95, 98).map((r) => scale(r, 0.98)), ...aapl.slice(98, 105)];
    const plan = planUpdate(stored.slice(95), stored[94], fetched);
    expect(plan.adjustments).toHaveLength(1);
    expect(plan.adjustments[0]).toMatchObject({ exDate: aapl[98].date, kind: 'dividend' });
    expect(plan.adjustments[0].factor).toBeCloseTo(0.98, 9);
  });

  it('treats scattered changes as corrections that replace the stored values', () => {
    const fetched = aapl.slice(95, 105).map((r, i) => (i === 2 ? { ...r, close: r.close + 0.01 } : r));
    const plan = planUpdate(stored.slice(95), stored[94], fetched);
    expect(plan.adjustments).toEqual([]);
    expect(plan.corrected).toEqual([aapl[97].date]);
    expect(plan.rows).toEqual([fetched[2], ...fetched.slice(5)]);
  });

  it('finds an unrevised split as a jump in the new rows only', () => {
    const fetched = [...aapl.slice(95, 102), ...aapl.slice(102, 110).map((r) => scale(r, 0.25, 4))];
    const plan = planUpdate(stored.slice(95), stored[94], fetched);
    expect(plan.adjustments).toEqual([{ exDate: aapl[102].date, kind: 'split', factor: 0.25 }]);
  });
});

describe('detectSplitJumps on real prices', () => {
  it('finds no split in the (already split-adjusted) fixture series', () => {
    for (const [code, rows] of real) {
      expect(
        detectSplitJumps(undefined, rows, () => true),
        code,
      ).toEqual([]);
    }
  });
});
