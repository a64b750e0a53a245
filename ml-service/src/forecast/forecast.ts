/**
 * The forecast of a set of past cases (the analogue's matches, the baseline's own windows): what happened
 * after them, summarised, beside the base rate so users can see an edge or its absence, with the effective
 * number of independent cases, pUp's interval on it and the verdict that interval supports (decision 094).
 */
import type { Forecast, ForecastBasis } from '@resemble/contracts';
import { effectiveSampleSize, verdictOf, wilsonInterval, type DaySpan } from './forecast-honesty.js';

export interface ForwardOutcome {
  forwardReturn: number;
  /** close[end + i] / close[end] for i = 1..horizon. */
  forwardPath: number[];
  /** Calendar days of close[end + 1] .. close[end + horizon]: the period the outcome was made in. */
  forwardSpan: DaySpan;
}

/** What a forecast is before any calibrator is applied (the registry applies one when it covers the setting). */
export const UNCALIBRATED = {
  pUpCalibrated: null,
  calibratorId: null,
  calibrated: false,
} as const;

/** Quantile by linear interpolation between closest ranks (R type 7, numpy's default) on sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of an empty sample');
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

function quantiles(values: number[]) {
  const s = Float64Array.from(values).sort();
  return {
    p10: quantileSorted(s, 0.1),
    p25: quantileSorted(s, 0.25),
    p50: quantileSorted(s, 0.5),
    p75: quantileSorted(s, 0.75),
    p90: quantileSorted(s, 0.9),
  };
}

/**
 * @param baseRateUp share of ALL candidate windows with a positive forward return (null when there were
 *   none, or in mode "now").
 */
export function forecastFromOutcomes(
  outcomes: ForwardOutcome[],
  horizon: number,
  baseRateUp: number | null,
  kind: Exclude<ForecastBasis['kind'], 'neural-net'>,
): Forecast {
  const n = outcomes.length;
  const basis = { kind, n, trainedTo: null };
  if (n === 0) {
    return {
      n: 0,
      horizon,
      mean: null,
      median: null,
      quantiles: null,
      fan: [],
      pUp: null,
      baseRateUp,
      basis,
      effectiveN: 0,
      pUpInterval: null,
      verdict: 'too-few',
      ...UNCALIBRATED,
      bands: 'empirical',
    };
  }
  const returns = outcomes.map((o) => o.forwardReturn);
  const q = quantiles(returns);
  const fan = [];
  for (let i = 0; i < horizon; i++) fan.push(quantiles(outcomes.map((o) => o.forwardPath[i]!)));
  const pUp = returns.filter((r) => r > 0).length / n;
  const effectiveN = effectiveSampleSize(outcomes.map((o) => o.forwardSpan));
  const pUpInterval = wilsonInterval(pUp, effectiveN);
  return {
    n,
    horizon,
    mean: returns.reduce((a, b) => a + b, 0) / n,
    median: q.p50,
    quantiles: q,
    fan,
    pUp,
    baseRateUp,
    basis,
    effectiveN,
    pUpInterval,
    verdict: verdictOf(effectiveN, pUpInterval, baseRateUp),
    ...UNCALIBRATED,
    bands: 'empirical',
  };
}
