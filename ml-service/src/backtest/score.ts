/**
 * Turns walk-forward records into the report's numbers: per predictor, the scores of its pUp against the
 * climatological forecast (the market base rate known at the time), the p10–p90 coverage, and — fitted on
 * the early period, judged on the late one — the isotonic recalibration before and after.
 */
import { fitIsotonic, applyIsotonic, type IsotonicFit } from '../predictors/isotonic.js';
import type { ModelId } from '../predictors/registry.js';
import {
  bandCoverage,
  brierScore,
  brierSkillScore,
  expectedCalibrationError,
  reliabilityTable,
  signHitRate,
  type ReliabilityBin,
} from './metrics.js';
import type { PredictionRecord } from './walk-forward.js';

export const RELIABILITY_BINS = 10;

export interface ProbabilityScores {
  n: number;
  upRate: number | null;
  meanPUp: number | null;
  hitRate: number | null;
  brier: number | null;
  /** Brier of always forecasting the base rate known at the time, on the same queries. */
  brierBaseRate: number | null;
  brierSkill: number | null;
  ece: number | null;
  reliability: ReliabilityBin[];
}

export interface ModelSummary {
  model: ModelId;
  versions: string[];
  all: ProbabilityScores & {
    coverage80: number | null;
    coverageByYear: { year: string; n: number; coverage: number }[];
  };
  calibration: {
    fit: { from: string; to: string; n: number };
    test: { from: string; to: string; n: number };
    fitBefore: ProbabilityScores;
    fitAfter: ProbabilityScores;
    before: ProbabilityScores;
    after: ProbabilityScores;
    isotonic: IsotonicFit;
  } | null;
}

export function scoreProbabilities(
  probs: number[],
  outcomes: boolean[],
  reference: number[],
): ProbabilityScores {
  const n = probs.length;
  const brier = brierScore(probs, outcomes);
  const brierBaseRate = brierScore(reference, outcomes);
  const reliability = reliabilityTable(probs, outcomes, RELIABILITY_BINS);
  return {
    n,
    upRate: n ? outcomes.filter(Boolean).length / n : null,
    meanPUp: n ? probs.reduce((a, b) => a + b, 0) / n : null,
    hitRate: signHitRate(probs, outcomes),
    brier,
    brierBaseRate,
    brierSkill: brierSkillScore(brier, brierBaseRate),
    ece: expectedCalibrationError(reliability),
    reliability,
  };
}

function scoreRecords(
  records: PredictionRecord[],
  transform: (p: number) => number = (p) => p,
): ProbabilityScores {
  return scoreProbabilities(
    records.map((r) => transform(r.pUp)),
    records.map((r) => r.actual > 0),
    records.map((r) => r.baseRateUp),
  );
}

function range(records: PredictionRecord[]): { from: string; to: string; n: number } {
  const dates = records.map((r) => r.date).sort();
  return { from: dates[0] ?? '', to: dates[dates.length - 1] ?? '', n: records.length };
}

/**
 * Records evaluated before `split` whose outcomes were known before `split` fit the calibrator; records
 * evaluated on or after `split` test it. The gap keeps a fit outcome from overlapping a test date.
 */
export function summarizeModel(
  model: ModelId,
  records: PredictionRecord[],
  split: string | null,
): ModelSummary {
  const byYear = new Map<string, { n: number; inside: number }>();
  for (const r of records) {
    const y = r.date.slice(0, 4);
    const cell = byYear.get(y) ?? { n: 0, inside: 0 };
    cell.n++;
    if (r.actual >= r.p10 && r.actual <= r.p90) cell.inside++;
    byYear.set(y, cell);
  }
  const all = {
    ...scoreRecords(records),
    coverage80: bandCoverage(
      records.map((r) => r.p10),
      records.map((r) => r.p90),
      records.map((r) => r.actual),
    ),
    coverageByYear: [...byYear.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([year, c]) => ({ year, n: c.n, coverage: c.inside / c.n })),
  };
  let calibration: ModelSummary['calibration'] = null;
  if (split !== null) {
    const fitSet = records.filter((r) => r.date < split && r.outcomeDate < split);
    const testSet = records.filter((r) => r.date >= split);
    if (fitSet.length >= 20 && testSet.length > 0) {
      const isotonic = fitIsotonic(
        fitSet.map((r) => r.pUp),
        fitSet.map((r) => (r.actual > 0 ? 1 : 0)),
      );
      const apply = (p: number) => applyIsotonic(isotonic, p);
      calibration = {
        fit: range(fitSet),
        test: range(testSet),
        fitBefore: scoreRecords(fitSet),
        fitAfter: scoreRecords(fitSet, apply),
        before: scoreRecords(testSet),
        after: scoreRecords(testSet, apply),
        isotonic,
      };
    }
  }
  return { model, versions: [...new Set(records.map((r) => r.modelVersion))], all, calibration };
}
