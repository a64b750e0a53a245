/**
 * What the UI says about a forecast, worded from the service's verdict (decision 094) and never from the
 * raw gap between pUp and the base rate: "higher"/"lower" only when the 90 % interval of pUp on the
 * effective number of independent cases lies wholly above/below the base rate. Colour follows the verdict.
 */
import type { Forecast } from '@resemble/contracts';
import { formatDate, formatPercent } from './format';

export type Explanation =
  'explainNone' | 'explainTooFew' | 'explainNoDifference' | 'explainHigher' | 'explainLower' | 'explainNet';

type Odds = Pick<Forecast, 'n' | 'pUp' | 'verdict' | 'basis'>;

/** The calibrated probability when the setting's calibrator met its goal, else the raw share that rose. */
export function shownPUp(f: Pick<Forecast, 'pUp' | 'pUpCalibrated'>): number | null {
  return f.pUpCalibrated ?? f.pUp;
}

export function explainForecast(f: Odds): Explanation {
  if (f.pUp === null || f.n === 0) return 'explainNone';
  // The net's pUp is not a share of cases: it has no interval, and its verdict comes from its backtest.
  if (f.basis.kind === 'neural-net') return 'explainNet';
  switch (f.verdict) {
    case 'higher':
      return 'explainHigher';
    case 'lower':
      return 'explainLower';
    case 'no-difference':
      return 'explainNoDifference';
    default:
      return 'explainTooFew';
  }
}

/** The CSS tone of the odds: green or red only when the verdict says so. */
export function verdictTone(f: Pick<Forecast, 'verdict'>): '' | 'up' | 'down' {
  return f.verdict === 'higher' ? 'up' : f.verdict === 'lower' ? 'down' : '';
}

/** What the model's numbers are built from: its label key and parameters. */
export function basisText(
  f: Pick<Forecast, 'basis'>,
  locale: string,
): { key: string; params: Record<string, string> } {
  const n = f.basis.n.toLocaleString(locale === 'ja' ? 'ja-JP' : 'en-US');
  if (f.basis.kind === 'analogues') return { key: 'results.basis.analogues', params: { n } };
  if (f.basis.kind === 'own-history') return { key: 'results.basis.ownHistory', params: { n } };
  return { key: 'results.basis.neuralNet', params: { n, date: formatDate(f.basis.trainedTo ?? '', locale) } };
}

/** Parameters of the explanation sentence: the shown pUp, its interval, the base rate and the case counts. */
export function explainParams(f: Forecast, locale: string): Record<string, string | number> {
  const pct = (x: number | null | undefined) => formatPercent(x ?? null, locale, { digits: 0 });
  return {
    n: f.n,
    e: f.effectiveN === null ? '—' : Math.max(0, Math.round(f.effectiveN)).toString(),
    h: f.horizon,
    p: pct(shownPUp(f)),
    lo: pct(f.pUpInterval?.lo),
    hi: pct(f.pUpInterval?.hi),
    b: pct(f.baseRateUp),
  };
}
