import { describe, expect, it } from 'vitest';
import { shapeSimilarity } from '../app/utils/similarity';

// Slow, obviously correct twins: z-normalise, Euclidean distance, Pearson correlation from definitions.
function znorm(x: number[]): number[] {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length);
  return x.map((v) => (v - m) / sd);
}
function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function walk(rand: () => number, n: number): number[] {
  const out = [100];
  for (let i = 1; i < n; i++) out.push(out[i - 1]! * (1 + (rand() - 0.5) * 0.04));
  return out;
}

describe('shape similarity from a match distance', () => {
  it('equals the correlation of the two shapes for z-normalised Euclidean distances (seeded)', () => {
    const rand = mulberry32(18);
    for (let k = 0; k < 200; k++) {
      const n = 5 + Math.floor(rand() * 120);
      const a = walk(rand, n);
      // Half the pairs are related (a plus noise) so high similarities are exercised too.
      const b = k % 2 ? walk(rand, n) : a.map((v) => v * (1 + (rand() - 0.5) * 0.02));
      const za = znorm(a);
      const zb = znorm(b);
      const d = Math.sqrt(za.reduce((s, v, i) => s + (v - zb[i]!) ** 2, 0));
      const r = pearson(a, b);
      expect(shapeSimilarity(d, n)).toBeCloseTo(Math.max(0, r), 9);
    }
  });

  it('reads the edges: identical, unrelated, opposite', () => {
    expect(shapeSimilarity(0, 60)).toBe(1);
    expect(shapeSimilarity(Math.sqrt(2 * 60), 60)).toBeCloseTo(0, 12);
    expect(shapeSimilarity(2 * Math.sqrt(60), 60)).toBe(0);
    expect(shapeSimilarity(2.663, 60)).toBeCloseTo(1 - 2.663 ** 2 / 120, 12);
  });

  it('says nothing for values that are not a distance', () => {
    expect(shapeSimilarity(Number.NaN, 60)).toBeNull();
    expect(shapeSimilarity(Infinity, 60)).toBeNull();
    expect(shapeSimilarity(-1, 60)).toBeNull();
    expect(shapeSimilarity(1, 0)).toBeNull();
    expect(shapeSimilarity(1, 1)).toBeNull();
  });
});
