/**
 * How much a pUp built from past cases can say (decision 094): the effective number of independent
 * cases, a 90 % Wilson interval on it, and the verdict against the base rate read from that interval.
 *
 * Cases whose forward periods overlap in calendar time share the same market moves (a crash day is in
 * all of them), so they are not independent draws. Following López de Prado, "Advances in Financial
 * Machine Learning" (2018), §4.4–4.5 (concurrent labels, average uniqueness): on each calendar day d let
 * c(d) be the number of cases whose forward period covers d; a case's uniqueness is the mean of 1/c(d)
 * over its own days, and the effective n is the sum of the uniquenesses. k cases on one identical period
 * count as 1 together; cases on disjoint periods count 1 each.
 */
import { MIN_EFFECTIVE_N, P_UP_INTERVAL_LEVEL, type Verdict } from '@resemble/contracts';

/** A case's forward period as inclusive calendar day numbers (days since 1970-01-01). */
export interface DaySpan {
  from: number;
  to: number;
}

/** Two-sided standard normal quantile for the 90 % level: Φ⁻¹(0.95). */
export const Z_90 = 1.6448536269514722;

/** Σ average uniqueness over the spans, in O(cases + days) with a difference array and prefix sums. */
export function effectiveSampleSize(spans: readonly DaySpan[]): number {
  if (spans.length === 0) return 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of spans) {
    if (!(Number.isInteger(s.from) && Number.isInteger(s.to) && s.from <= s.to))
      throw new RangeError(`a forward period must be whole days with from <= to (got ${s.from}..${s.to})`);
    if (s.from < min) min = s.from;
    if (s.to > max) max = s.to;
  }
  const days = max - min + 1;
  const delta = new Int32Array(days + 1);
  for (const s of spans) {
    delta[s.from - min]! += 1;
    delta[s.to - min + 1]! -= 1;
  }
  // inverse[i] = Σ_{d < i} 1/c(d); every day inside a span has c >= 1.
  const inverse = new Float64Array(days + 1);
  let concurrent = 0;
  for (let d = 0; d < days; d++) {
    concurrent += delta[d]!;
    inverse[d + 1] = inverse[d]! + (concurrent > 0 ? 1 / concurrent : 0);
  }
  let total = 0;
  for (const s of spans) total += (inverse[s.to - min + 1]! - inverse[s.from - min]!) / (s.to - s.from + 1);
  return total;
}

/**
 * Wilson score interval (Wilson 1927) of a proportion p observed on n cases; n need not be whole (an
 * effective n). Returns null for n = 0. Unlike p ± z·√(p(1−p)/n) it stays inside [0, 1] and is not
 * zero-width at p = 0 or 1.
 */
export function wilsonInterval(
  p: number,
  n: number,
  z = Z_90,
): { lo: number; hi: number; level: typeof P_UP_INTERVAL_LEVEL } | null {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`proportion ${p} is outside [0, 1]`);
  if (!(n >= 0) || !Number.isFinite(n))
    throw new RangeError(`n must be a finite non-negative number (got ${n})`);
  if (n === 0) return null;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), level: P_UP_INTERVAL_LEVEL };
}

/** The verdict from the interval alone: never from the gap between pUp and the base rate. */
export function verdictOf(
  effectiveN: number,
  interval: { lo: number; hi: number } | null,
  baseRateUp: number | null,
): Verdict {
  if (interval === null || baseRateUp === null || effectiveN < MIN_EFFECTIVE_N) return 'too-few';
  if (interval.lo > baseRateUp) return 'higher';
  if (interval.hi < baseRateUp) return 'lower';
  return 'no-difference';
}
