/**
 * effectiveN, the Wilson interval and the verdict, each recomputed by a slow, obviously correct twin: the
 * effective n day by day and case by case, the interval by bisection on the score test it inverts, the
 * verdict from its definition. Fixed matches with hand-known answers, seeded random ones, and a search.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_EFFECTIVE_N } from '@resemble/contracts';
import { isoToDay } from '../src/market/dates.js';
import {
  effectiveSampleSize,
  verdictOf,
  wilsonInterval,
  Z_90,
  type DaySpan,
} from '../src/forecast/forecast-honesty.js';
import { loadMarketData } from '../src/market/market-data.js';
import { findSimilar } from '../src/search/similarity.service.js';
import { businessDays, randomWalk, rng, writeStore } from './support/write-store.js';

/** Average uniqueness summed: for every case, every one of its days, count the cases covering that day. */
function slowEffectiveN(spans: DaySpan[]): number {
  let total = 0;
  for (const s of spans) {
    let sum = 0;
    for (let d = s.from; d <= s.to; d++) sum += 1 / spans.filter((t) => t.from <= d && d <= t.to).length;
    total += sum / (s.to - s.from + 1);
  }
  return total;
}

/** Wilson's interval is the set of p0 the score test does not reject: |p − p0| <= z·√(p0(1 − p0)/n). */
function slowWilson(p: number, n: number, z: number): { lo: number; hi: number } {
  const rejects = (p0: number) => Math.abs(p - p0) > z * Math.sqrt((p0 * (1 - p0)) / n);
  const edge = (inside: number, outside: number) => {
    let a = inside;
    let b = outside;
    for (let i = 0; i < 200; i++) {
      const m = (a + b) / 2;
      if (rejects(m)) b = m;
      else a = m;
    }
    return a;
  };
  return { lo: p === 0 ? 0 : edge(p, 0), hi: p === 1 ? 1 : edge(p, 1) };
}

function slowVerdict(effectiveN: number, lo: number, hi: number, base: number): string {
  if (effectiveN < MIN_EFFECTIVE_N) return 'too-few';
  if (lo > base) return 'higher';
  if (hi < base) return 'lower';
  return 'no-difference';
}

describe('effectiveN', () => {
  it('counts identical forward periods as one case and disjoint ones as one each', () => {
    expect(effectiveSampleSize([])).toBe(0);
    expect(effectiveSampleSize([{ from: 10, to: 29 }])).toBe(1);
    expect(effectiveSampleSize(Array.from({ length: 20 }, () => ({ from: 10, to: 29 })))).toBeCloseTo(1, 12);
    expect(
      effectiveSampleSize(Array.from({ length: 20 }, (_, i) => ({ from: 100 * i, to: 100 * i + 19 }))),
    ).toBe(20);
    // Two 10-day periods sharing 5 days: each is (5·1 + 5·½)/10 = 0.75 unique.
    expect(
      effectiveSampleSize([
        { from: 0, to: 9 },
        { from: 5, to: 14 },
      ]),
    ).toBeCloseTo(1.5, 12);
  });

  it('equals the day-by-day count on fixed matches (three stocks in one crash, two alone)', () => {
    const d = (iso: string) => isoToDay(iso);
    const spans = [
      { from: d('2008-10-01'), to: d('2008-10-28') },
      { from: d('2008-10-03'), to: d('2008-10-30') },
      { from: d('2008-10-01'), to: d('2008-10-28') },
      { from: d('1999-03-01'), to: d('1999-03-26') },
      { from: d('2012-06-04'), to: d('2012-06-29') },
    ];
    expect(effectiveSampleSize(spans)).toBeCloseTo(slowEffectiveN(spans), 12);
    expect(effectiveSampleSize(spans)).toBeGreaterThan(2);
    expect(effectiveSampleSize(spans)).toBeLessThan(3.2);
  });

  it('equals the slow twin on seeded random spans', () => {
    const random = rng(94);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + Math.floor(random() * 40);
      const spans = Array.from({ length: n }, () => {
        const from = Math.floor(random() * 400) - 200;
        return { from, to: from + Math.floor(random() * 60) };
      });
      const fast = effectiveSampleSize(spans);
      expect(fast).toBeCloseTo(slowEffectiveN(spans), 10);
      expect(fast).toBeGreaterThanOrEqual(1 - 1e-12);
      expect(fast).toBeLessThanOrEqual(n + 1e-12);
    }
  });

  it('refuses a period that ends before it starts', () => {
    expect(() => effectiveSampleSize([{ from: 5, to: 4 }])).toThrow(/from <= to/);
  });
});

describe('pUpInterval (Wilson, 90 %)', () => {
  it('equals the inverted score test on fixed and random cases, fractional n included', () => {
    const cases: [number, number][] = [
      [0.5, 20],
      [0.6, 8.4],
      [0, 12],
      [1, 3.5],
      [14 / 20, 20],
      [0.55, 400],
    ];
    const random = rng(5);
    for (let i = 0; i < 30; i++) cases.push([random(), 0.5 + random() * 100]);
    for (const [p, n] of cases) {
      const fast = wilsonInterval(p, n)!;
      const slow = slowWilson(p, n, Z_90);
      expect(fast.level).toBe(0.9);
      expect(fast.lo).toBeCloseTo(slow.lo, 9);
      expect(fast.hi).toBeCloseTo(slow.hi, 9);
      expect(fast.lo).toBeLessThanOrEqual(p + 1e-12);
      expect(fast.hi).toBeGreaterThanOrEqual(p - 1e-12);
    }
  });

  it('is null without cases and refuses nonsense', () => {
    expect(wilsonInterval(0.5, 0)).toBeNull();
    expect(() => wilsonInterval(1.2, 10)).toThrow(/outside/);
    expect(() => wilsonInterval(0.5, -1)).toThrow(/non-negative/);
  });
});

describe('verdict', () => {
  it('is decided by the interval, not by the gap', () => {
    // 20 matches, 14 up, but all from one week of one crash: effective n 1 → too few, whatever the gap.
    expect(verdictOf(1, wilsonInterval(0.7, 1), 0.55)).toBe('too-few');
    // The case: a 3-point gap on 20 independent cases is no difference.
    expect(verdictOf(20, wilsonInterval(0.58, 20), 0.55)).toBe('no-difference');
    expect(verdictOf(200, wilsonInterval(0.7, 200), 0.55)).toBe('higher');
    expect(verdictOf(200, wilsonInterval(0.4, 200), 0.55)).toBe('lower');
    expect(verdictOf(50, wilsonInterval(0.6, 50), null)).toBe('too-few');
  });

  it('equals its definition on seeded random forecasts', () => {
    const random = rng(17);
    for (let i = 0; i < 500; i++) {
      const n = random() * 60;
      const p = Math.round(random() * 30) / 30;
      const base = 0.4 + random() * 0.3;
      const interval = wilsonInterval(p, n);
      const slow = interval === null ? 'too-few' : slowVerdict(n, interval.lo, interval.hi, base);
      expect(verdictOf(n, interval, base)).toBe(slow);
    }
  });
});

describe('a search forecast', () => {
  it('carries effectiveN, interval and verdict recomputed from its own matches', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-honest-'));
    try {
      const random = rng(23);
      const fx = ['AA', 'BB', 'CC', 'DD', 'EE'].map((code) => ({
        code,
        dates: businessDays('2001-01-01', 700),
        closes: randomWalk(random, 700),
      }));
      writeStore(dir, fx);
      const data = loadMarketData(dir);
      const horizon = 10;
      const res = findSimilar(data, {
        query: { code: 'BB', start: fx[1]!.dates[400]!, end: fx[1]!.dates[439]! },
        topK: 30,
        horizon,
      });
      const f = res.forecast!;
      expect(res.matches).toHaveLength(30);
      const spans = res.matches.map((m) => {
        const dates = fx.find((e) => e.code === m.code)!.dates;
        const end = dates.indexOf(m.end);
        return { from: isoToDay(dates[end + 1]!), to: isoToDay(dates[end + horizon]!) };
      });
      const n = slowEffectiveN(spans);
      expect(f.effectiveN).toBeCloseTo(n, 10);
      expect(f.effectiveN).toBeLessThan(30); // five stocks on one calendar: matches overlap in time
      const up = res.matches.filter((m) => m.forwardReturn! > 0).length / 30;
      const slow = slowWilson(up, n, Z_90);
      expect(f.pUpInterval!.lo).toBeCloseTo(slow.lo, 9);
      expect(f.pUpInterval!.hi).toBeCloseTo(slow.hi, 9);
      expect(f.verdict).toBe(slowVerdict(n, slow.lo, slow.hi, f.baseRateUp!));
      expect(f.basis).toEqual({ kind: 'analogues', n: 30, trainedTo: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
