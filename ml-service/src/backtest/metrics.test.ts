import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../predictors/random.js';
import {
  bandCoverage,
  brierScore,
  brierSkillScore,
  expectedCalibrationError,
  reliabilityTable,
  signHitRate,
} from './metrics.js';

/** Slow twins: written straight from the definitions, one quantity at a time. */
const slowBrier = (p: number[], o: boolean[]) =>
  p.map((pi, i) => (pi - (o[i] ? 1 : 0)) ** 2).reduce((a, b) => a + b, 0) / p.length;

function slowReliability(p: number[], o: boolean[], bins: number) {
  const table = [];
  for (let b = 0; b < bins; b++) {
    const lo = b / bins;
    const hi = (b + 1) / bins;
    const members = p
      .map((pi, i) => ({ pi, up: o[i]! }))
      .filter(({ pi }) => (b === bins - 1 ? pi >= lo && pi <= hi : pi >= lo && pi < hi));
    table.push({
      count: members.length,
      meanForecast: members.length ? members.reduce((s, m) => s + m.pi, 0) / members.length : null,
      observedRate: members.length ? members.filter((m) => m.up).length / members.length : null,
    });
  }
  return table;
}

function slowEce(p: number[], o: boolean[], bins: number) {
  let sum = 0;
  for (const bin of slowReliability(p, o, bins)) {
    if (bin.count) sum += (bin.count / p.length) * Math.abs(bin.meanForecast! - bin.observedRate!);
  }
  return sum;
}

function seeded(seed: number, n: number) {
  const random = mulberry32(seed);
  const p = Array.from({ length: n }, () => Math.round(random() * 40) / 40); // many exact bin edges
  const o = p.map((pi) => random() < pi * 0.7 + 0.15);
  return { p, o };
}

describe('brierScore', () => {
  it('matches the slow twin on seeded data', () => {
    for (const seed of [1, 2, 3]) {
      const { p, o } = seeded(seed, 500);
      expect(brierScore(p, o)).toBeCloseTo(slowBrier(p, o), 12);
    }
  });
  it('is 0 for perfect and 1 for perfectly wrong certainty, 0.25 for a coin', () => {
    expect(brierScore([1, 0], [true, false])).toBe(0);
    expect(brierScore([0, 1], [true, false])).toBe(1);
    expect(brierScore([0.5, 0.5], [true, false])).toBe(0.25);
  });
  it('is null for no forecasts and rejects bad input', () => {
    expect(brierScore([], [])).toBeNull();
    expect(() => brierScore([0.5], [])).toThrow(/1 forecasts but 0 outcomes/);
    expect(() => brierScore([1.5], [true])).toThrow(/outside \[0, 1\]/);
    expect(() => brierScore([Number.NaN], [true])).toThrow(/outside/);
  });
});

describe('reliabilityTable and expectedCalibrationError', () => {
  it('match the slow twins on seeded data with values on bin edges', () => {
    for (const seed of [4, 5]) {
      const { p, o } = seeded(seed, 800);
      for (const bins of [1, 5, 10]) {
        const fast = reliabilityTable(p, o, bins);
        const slow = slowReliability(p, o, bins);
        expect(fast.map((b) => b.count)).toEqual(slow.map((b) => b.count));
        fast.forEach((b, i) => {
          if (slow[i]!.meanForecast === null) expect(b.meanForecast).toBeNull();
          else expect(b.meanForecast).toBeCloseTo(slow[i]!.meanForecast!, 12);
          expect(b.observedRate).toBe(slow[i]!.observedRate);
        });
        expect(expectedCalibrationError(fast)).toBeCloseTo(slowEce(p, o, bins), 12);
      }
    }
  });
  it('puts p = 1 in the last bin and p = 0 in the first', () => {
    const t = reliabilityTable([0, 1, 1], [false, true, false], 10);
    expect(t[0]!.count).toBe(1);
    expect(t[9]!.count).toBe(2);
    expect(t[9]!.observedRate).toBe(0.5);
  });
  it('gives ECE 0 for a forecaster that states the observed frequency', () => {
    const p = [0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75];
    const o = [true, false, false, false, true, true, true, false];
    expect(expectedCalibrationError(reliabilityTable(p, o))).toBe(0);
  });
  it('is null without forecasts and rejects a bad bin count', () => {
    expect(expectedCalibrationError(reliabilityTable([], []))).toBeNull();
    expect(() => reliabilityTable([0.5], [true], 0)).toThrow(/binCount/);
  });
});

describe('bandCoverage', () => {
  it('matches a slow count and includes the band edges', () => {
    const random = mulberry32(9);
    const actual = Array.from({ length: 300 }, () => random() - 0.5);
    const lo = actual.map(() => -0.4 + random() * 0.1);
    const hi = lo.map((l) => l + random() * 0.8);
    const slow = actual.filter((a, i) => a >= lo[i]! && a <= hi[i]!).length / actual.length;
    expect(bandCoverage(lo, hi, actual)).toBe(slow);
    expect(bandCoverage([0, 0], [1, 1], [0, 1])).toBe(1);
    expect(bandCoverage([0], [1], [1.0000001])).toBe(0);
  });
  it('rejects an inverted band and is null for nothing', () => {
    expect(() => bandCoverage([1], [0], [0.5])).toThrow(/lo 1 above hi 0/);
    expect(bandCoverage([], [], [])).toBeNull();
  });
});

describe('signHitRate and brierSkillScore', () => {
  it('counts calls by direction and half a hit for 0.5', () => {
    expect(signHitRate([0.9, 0.1, 0.6, 0.5], [true, false, false, true])).toBe((1 + 1 + 0 + 0.5) / 4);
    expect(signHitRate([0.5, 0.5], [true, false])).toBe(0.5);
    expect(signHitRate([], [])).toBeNull();
  });
  it('is positive only when the forecast beats the reference', () => {
    expect(brierSkillScore(0.2, 0.25)).toBeCloseTo(0.2, 12);
    expect(brierSkillScore(0.3, 0.25)).toBeCloseTo(-0.2, 12);
    expect(brierSkillScore(null, 0.25)).toBeNull();
    expect(brierSkillScore(0.1, 0)).toBeNull();
  });
});
