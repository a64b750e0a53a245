/**
 * Which plain-language sentence a forecast earns. The rules keep the UI honest: a handful of cases
 * is called too few, and an up-probability within a few points of the base rate is called "no edge"
 * rather than dressed up as a signal.
 */
export const FEW_CASES = 20;
export const NO_EDGE = 0.03;

export interface ForecastOdds {
  n: number;
  pUp: number | null;
  pUpCalibrated?: number | null;
  baseRateUp: number | null;
}

export type Explanation = 'explainNone' | 'explainFew' | 'explainSame' | 'explainAbove' | 'explainBelow';

/** The calibrated probability when the model has one, else the raw share of matches that rose. */
export function shownPUp(f: ForecastOdds): number | null {
  return f.pUpCalibrated ?? f.pUp;
}

/** pUp minus the base rate (0.5 stands in for a missing base rate). */
export function edge(f: ForecastOdds): number | null {
  const p = shownPUp(f);
  return p === null ? null : p - (f.baseRateUp ?? 0.5);
}

export function explainForecast(f: ForecastOdds): Explanation {
  const e = edge(f);
  if (e === null || f.n === 0) return 'explainNone';
  if (f.n < FEW_CASES) return 'explainFew';
  if (Math.abs(e) < NO_EDGE) return 'explainSame';
  return e > 0 ? 'explainAbove' : 'explainBelow';
}
