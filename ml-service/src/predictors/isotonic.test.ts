import { describe, expect, it } from 'vitest';
import { applyIsotonic, fitIsotonic } from './isotonic.js';
import { mulberry32 } from './random.js';

/**
 * Slow twin: the min-max characterisation of weighted isotonic regression (Barlow et al. 1972),
 * f(i) = max over j ≤ i of min over k ≥ i of the weighted mean of y[j..k], on points sorted by distinct x.
 */
function slowIsotonic(y: number[], w: number[]): number[] {
  const n = y.length;
  const mean = (j: number, k: number) => {
    let s = 0;
    let ws = 0;
    for (let t = j; t <= k; t++) {
      s += w[t]! * y[t]!;
      ws += w[t]!;
    }
    return s / ws;
  };
  return y.map((_, i) => {
    let best = -Infinity;
    for (let j = 0; j <= i; j++) {
      let inner = Infinity;
      for (let k = i; k < n; k++) inner = Math.min(inner, mean(j, k));
      best = Math.max(best, inner);
    }
    return best;
  });
}

describe('fitIsotonic', () => {
  it('matches the min-max twin on seeded data, weighted and unweighted', () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = mulberry32(seed);
      const n = 5 + Math.floor(random() * 40);
      const x = Array.from({ length: n }, (_, i) => i + random() * 0.5);
      const y = x.map((xi) => (random() < 0.3 + xi / (2 * n) ? 1 : 0) + random() * 0.1);
      const w = x.map(() => 0.5 + random() * 2);
      const order = Array.from(x.keys()).sort(() => random() - 0.5);
      const fit = fitIsotonic(
        order.map((i) => x[i]!),
        order.map((i) => y[i]!),
        order.map((i) => w[i]!),
      );
      expect(fit.x).toEqual([...x].sort((a, b) => a - b));
      const slow = slowIsotonic(y, w);
      fit.y.forEach((v, i) => expect(v).toBeCloseTo(slow[i]!, 12));
      const plain = fitIsotonic(x, y);
      const slowPlain = slowIsotonic(
        y,
        x.map(() => 1),
      );
      plain.y.forEach((v, i) => expect(v).toBeCloseTo(slowPlain[i]!, 12));
    }
  });
  it('pools equal x values first (the fit is a function of x)', () => {
    const fit = fitIsotonic([0.5, 0.5, 0.2, 0.8], [1, 0, 0, 1]);
    expect(fit).toEqual({ x: [0.2, 0.5, 0.8], y: [0, 0.5, 1] });
  });
  it('leaves a non-decreasing sequence alone and flattens a decreasing one to its mean', () => {
    expect(fitIsotonic([1, 2, 3], [0.1, 0.2, 0.3]).y).toEqual([0.1, 0.2, 0.3]);
    const flat = fitIsotonic([1, 2, 3, 4], [4, 3, 2, 1]).y;
    flat.forEach((v) => expect(v).toBeCloseTo(2.5, 12));
  });
  it('rejects empty, mismatched, non-finite and non-positive-weight input', () => {
    expect(() => fitIsotonic([], [])).toThrow(/at least one point/);
    expect(() => fitIsotonic([1], [1, 2])).toThrow(/1 x values but 2 y values/);
    expect(() => fitIsotonic([Number.NaN], [1])).toThrow(/not finite/);
    expect(() => fitIsotonic([1], [1], [0])).toThrow(/weight 0 must be positive/);
  });
});

describe('applyIsotonic', () => {
  it('interpolates between knots and is constant outside them', () => {
    const fit = { x: [0.2, 0.6], y: [0.3, 0.7] };
    expect(applyIsotonic(fit, 0)).toBe(0.3);
    expect(applyIsotonic(fit, 1)).toBe(0.7);
    expect(applyIsotonic(fit, 0.4)).toBeCloseTo(0.5, 12);
    expect(applyIsotonic({ x: [0.5], y: [0.4] }, 0.9)).toBe(0.4);
  });
  it('is non-decreasing for any fitted calibrator', () => {
    const random = mulberry32(11);
    const xs = Array.from({ length: 200 }, () => random());
    const fit = fitIsotonic(
      xs,
      xs.map((x) => (random() < x ? 1 : 0)),
    );
    let last = -Infinity;
    for (let p = 0; p <= 1; p += 0.001) {
      const v = applyIsotonic(fit, p);
      expect(v).toBeGreaterThanOrEqual(last);
      last = v;
    }
  });
});
