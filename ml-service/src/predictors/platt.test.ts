import { describe, expect, it } from 'vitest';
import { applyPlatt, fitPlatt, plattFeature, plattLoss } from './platt.js';
import { mulberry32 } from './random.js';

/** Slow twin: the loss minimised by brute force on a fine grid of (a, b), then refined around the best. */
function slowPlatt(probs: number[], ups: (0 | 1)[]) {
  let best = { a: 0, b: 0 };
  let bestLoss = Infinity;
  for (const [step, span] of [
    [0.1, 3],
    [0.004, 0.12],
    [0.0002, 0.006],
  ] as const) {
    const { a: a0, b: b0 } = best;
    for (let a = a0 - span; a <= a0 + span; a += step)
      for (let b = b0 - span; b <= b0 + span; b += step) {
        const loss = plattLoss({ a, b }, probs, ups);
        if (loss < bestLoss) {
          bestLoss = loss;
          best = { a, b };
        }
      }
  }
  return { fit: best, loss: bestLoss };
}

describe('Platt scaling', () => {
  it('reaches the likelihood optimum that a brute-force search finds (seeded data)', () => {
    for (const seed of [1, 2, 3]) {
      const random = mulberry32(seed);
      const trueA = (random() - 0.5) * 1;
      const trueB = random() * 1.5 - 0.3;
      const probs = Array.from({ length: 300 }, () => Math.round(random() * 30) / 30);
      const ups = probs.map(
        (p) => (random() < 1 / (1 + Math.exp(-(trueA + trueB * plattFeature(p)))) ? 1 : 0) as 0 | 1,
      );
      const fit = fitPlatt(probs, ups);
      const slow = slowPlatt(probs, ups);
      expect(plattLoss(fit, probs, ups)).toBeLessThanOrEqual(slow.loss + 1e-9);
      expect(fit.a).toBeCloseTo(slow.fit.a, 2);
      expect(fit.b).toBeCloseTo(slow.fit.b, 2);
    }
  });

  it('collapses a forecast without skill to the observed rate, and stays finite on separable data', () => {
    const probs = [0.1, 0.1, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5];
    const ups = [1, 0, 1, 0, 1, 0, 1, 0] as (0 | 1)[];
    const fit = fitPlatt(probs, ups);
    expect(fit.b).toBeCloseTo(0, 6);
    expect(applyPlatt(fit, 0.9)).toBeCloseTo(0.5, 6);
    const sep = fitPlatt([0.2, 0.3, 0.7, 0.8], [0, 0, 1, 1]);
    expect(Number.isFinite(sep.a) && Number.isFinite(sep.b)).toBe(true);
    expect(applyPlatt(sep, 0.8)).toBeGreaterThan(0.9);
    expect(() => fitPlatt([], [])).toThrow(RangeError);
  });
});
