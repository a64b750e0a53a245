/**
 * How a backtest result page reads: the scores beside what guessing from the base rate alone would
 * score, and the chart's geometry (one column per sample). Pure, so it is tested without a browser.
 */
export interface BacktestSample {
  end: string;
  predictedUp: number | null;
  actualReturn: number;
}

export interface BacktestResult {
  code: string;
  samples: BacktestSample[];
  evaluated: number;
  hitRate: number | null;
  meanAbsError: number | null;
  /** Added with issue 18; older results lack them and the page computes them from the samples. */
  brier?: number | null;
  baseRate?: number | null;
  baseBrier?: number | null;
  settings?: { code: string; windowLength: number; horizon: number; samples: number; topK: number };
  /** The stock's newest price the backtest saw (issue 13); older results lack it. */
  asOf?: string | null;
}

export interface BacktestSummary {
  hitRate: number | null;
  /** Hit rate of always calling the more common direction of these samples. */
  baseHitRate: number | null;
  brier: number | null;
  baseBrier: number | null;
  baseRate: number | null;
  /** Brier skill score: 1 - brier / baseBrier (> 0: better than the base rate). */
  skill: number | null;
}

export function summarize(r: BacktestResult): BacktestSummary {
  const scored = r.samples.filter((s) => s.predictedUp !== null);
  const up = (s: BacktestSample) => (s.actualReturn > 0 ? 1 : 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const baseRate = r.baseRate ?? mean(r.samples.map(up));
  const brier = r.brier ?? mean(scored.map((s) => (s.predictedUp! - up(s)) ** 2));
  const baseBrier =
    r.baseBrier ?? (baseRate === null ? null : mean(scored.map((s) => (baseRate - up(s)) ** 2)));
  const baseHitRate = baseRate === null ? null : Math.max(baseRate, 1 - baseRate);
  const skill = brier !== null && baseBrier !== null && baseBrier > 0 ? 1 - brier / baseBrier : null;
  return { hitRate: r.hitRate, baseHitRate, brier, baseBrier, baseRate, skill };
}

export interface Column {
  x: number;
  width: number;
  /** The bar of the actual return, from the zero line. */
  barY: number;
  barH: number;
  up: boolean;
  /** The forecast probability of a rise as a dot's y, null without a forecast. */
  dotY: number | null;
  hit: boolean | null;
}

/** One column per sample in a width × height box: bars in the lower half, pUp dots in the upper half. */
export function columns(samples: BacktestSample[], width: number, height: number): Column[] {
  const n = samples.length;
  if (!n) return [];
  const w = width / n;
  const half = height / 2;
  const maxAbs = Math.max(1e-9, ...samples.map((s) => Math.abs(s.actualReturn)));
  const zero = half + half / 2;
  return samples.map((s, i) => {
    const h = (Math.abs(s.actualReturn) / maxAbs) * (half / 2 - 2);
    const up = s.actualReturn > 0;
    return {
      x: i * w + w * 0.15,
      width: w * 0.7,
      barY: up ? zero - h : zero,
      barH: h,
      up,
      dotY: s.predictedUp === null ? null : 4 + (1 - s.predictedUp) * (half - 8),
      hit: s.predictedUp === null ? null : s.predictedUp > 0.5 === up,
    };
  });
}
