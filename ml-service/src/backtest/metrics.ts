/**
 * Scoring rules for probabilistic forecasts of "up over the horizon".
 * Brier (1950) score, reliability table + expected calibration error (Naeini et al. 2015, equal-width bins),
 * and empirical coverage of a central prediction band.
 */

export interface ReliabilityBin {
  /** Inclusive lower edge; the last bin also includes 1. */
  lo: number;
  hi: number;
  count: number;
  /** Mean forecast probability in the bin (null when empty). */
  meanForecast: number | null;
  /** Share of outcomes that were up in the bin (null when empty). */
  observedRate: number | null;
}

function assertSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} forecasts but ${b.length} outcomes`);
}

function assertProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} is outside [0, 1]`);
}

/** Mean squared error of probabilities against 0/1 outcomes; null for no forecasts. */
export function brierScore(probs: readonly number[], outcomes: readonly boolean[]): number | null {
  assertSameLength(probs, outcomes, 'brierScore');
  if (probs.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    assertProbability(p);
    const d = p - (outcomes[i] ? 1 : 0);
    sum += d * d;
  }
  return sum / probs.length;
}

/** Equal-width bins over [0, 1]; a probability of exactly 1 falls into the last bin. */
export function reliabilityTable(
  probs: readonly number[],
  outcomes: readonly boolean[],
  binCount = 10,
): ReliabilityBin[] {
  assertSameLength(probs, outcomes, 'reliabilityTable');
  if (!Number.isInteger(binCount) || binCount < 1)
    throw new RangeError('binCount must be a positive integer');
  const sums = new Float64Array(binCount);
  const ups = new Float64Array(binCount);
  const counts = new Float64Array(binCount);
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    assertProbability(p);
    const b = Math.min(binCount - 1, Math.floor(p * binCount));
    sums[b]! += p;
    ups[b]! += outcomes[i] ? 1 : 0;
    counts[b]! += 1;
  }
  return Array.from({ length: binCount }, (_, b) => ({
    lo: b / binCount,
    hi: (b + 1) / binCount,
    count: counts[b]!,
    meanForecast: counts[b]! > 0 ? sums[b]! / counts[b]! : null,
    observedRate: counts[b]! > 0 ? ups[b]! / counts[b]! : null,
  }));
}

/** Count-weighted mean |mean forecast - observed rate| over the bins; null for no forecasts. */
export function expectedCalibrationError(bins: readonly ReliabilityBin[]): number | null {
  let total = 0;
  let weighted = 0;
  for (const bin of bins) {
    if (bin.count === 0 || bin.meanForecast === null || bin.observedRate === null) continue;
    total += bin.count;
    weighted += bin.count * Math.abs(bin.meanForecast - bin.observedRate);
  }
  return total === 0 ? null : weighted / total;
}

/** Share of outcomes inside [lo, hi] (both inclusive); null for none. */
export function bandCoverage(
  lo: readonly number[],
  hi: readonly number[],
  actual: readonly number[],
): number | null {
  assertSameLength(lo, actual, 'bandCoverage');
  assertSameLength(hi, actual, 'bandCoverage');
  if (actual.length === 0) return null;
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    if (lo[i]! > hi[i]!) throw new RangeError(`band ${i} has lo ${lo[i]} above hi ${hi[i]}`);
    if (actual[i]! >= lo[i]! && actual[i]! <= hi[i]!) inside++;
  }
  return inside / actual.length;
}

/**
 * Share of forecasts whose predicted direction (pUp > 0.5 → up) matches the outcome. pUp of exactly 0.5 is a
 * coin the forecaster refused to call: it counts as half a hit, so "always 0.5" scores 0.5 whatever happens.
 */
export function signHitRate(probs: readonly number[], outcomes: readonly boolean[]): number | null {
  assertSameLength(probs, outcomes, 'signHitRate');
  if (probs.length === 0) return null;
  let hits = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p === 0.5) hits += 0.5;
    else if (p > 0.5 === outcomes[i]) hits += 1;
  }
  return hits / probs.length;
}

/** 1 − Brier / Brier of the reference forecast; positive means better than the reference. */
export function brierSkillScore(brier: number | null, referenceBrier: number | null): number | null {
  if (brier === null || referenceBrier === null || referenceBrier === 0) return null;
  return 1 - brier / referenceBrier;
}
