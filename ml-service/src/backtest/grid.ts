/**
 * One cell of the calibration grid (query length × horizon): from walk-forward records of the analogue,
 * fit an isotonic pUp calibrator and split-conformal band offsets on the earlier period, score raw and
 * calibrated forecasts on the later one, and decide whether the cell meets its goals (decision 095).
 *
 * Conformal bands follow conformalized quantile regression (Romano, Patterson & Candès 2019): the score of
 * a fit record is E = max(lo − y, y − hi); the offset q is the ⌈(n + 1)(1 − α)⌉-th smallest E, and
 * [lo − q, hi + q] then covers a new exchangeable outcome with probability ≥ 1 − α. Markets are not
 * exchangeable across regimes, which is why the cover is judged on the later period, not assumed.
 */
import { applyIsotonic, fitIsotonic, type IsotonicFit } from '../predictors/isotonic.js';
import { bandCoverage, type ReliabilityBin } from './metrics.js';
import { scoreProbabilities } from './score.js';
import type { PredictionRecord } from './walk-forward.js';

export const GRID_LENGTHS = [30, 60, 120, 250] as const;
export const GRID_HORIZONS = [5, 20, 60] as const;
/** Goals of a cell (issue 17): judged only with at least MIN_TEST_N held-out forecasts. */
export const MIN_TEST_N = 500;
export const ECE_GOAL = 0.03;
export const COVERAGE_GOAL = { nominal: 0.8, tolerance: 0.03 } as const;

/**
 * The query lengths a grid length stands for: the boundaries are the geometric means of neighbouring grid
 * lengths (a 40-row query is nearer 30 than 60 in ratio), the ends are the service's 8 and 500 rows.
 */
export function lengthRange(
  length: number,
  lengths: readonly number[] = GRID_LENGTHS,
): { min: number; max: number } {
  const sorted = [...lengths].sort((a, b) => a - b);
  const i = sorted.indexOf(length);
  if (i < 0) throw new RangeError(`length ${length} is not on the grid ${sorted.join(', ')}`);
  const min = i === 0 ? 8 : Math.floor(Math.sqrt(sorted[i - 1]! * length)) + 1;
  const max = i === sorted.length - 1 ? 500 : Math.floor(Math.sqrt(length * sorted[i + 1]!));
  return { min, max };
}

/** The split-conformal offset: the ⌈(n + 1)·level⌉-th smallest score (+∞ when n is too small for it). */
export function conformalOffset(scores: readonly number[], level: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`level ${level} must be in (0, 1)`);
  const k = Math.ceil((scores.length + 1) * level);
  if (k > scores.length) return Number.POSITIVE_INFINITY;
  return Float64Array.from(scores).sort()[k - 1]!;
}

export const cqrScore = (lo: number, hi: number, y: number) => Math.max(lo - y, y - hi);

export interface GridCell {
  dataset: string;
  length: number;
  horizon: number;
  lengths: { min: number; max: number };
  fit: { from: string; to: string; n: number };
  test: { from: string; to: string };
  /** Held-out forecasts scored. */
  n: number;
  upRate: number | null;
  brier: number | null;
  brierCalibrated: number | null;
  brierBaseRate: number | null;
  brierSkill: number | null;
  brierSkillCalibrated: number | null;
  ece: number | null;
  eceCalibrated: number | null;
  coverage80: number | null;
  coverage80Conformal: number | null;
  coverage50: number | null;
  coverage50Conformal: number | null;
  conformal: { q80: number; q50: number };
  goals: { pUp: boolean; bands: boolean };
  calibrated: boolean;
  /** Why a cell is not calibrated, in words; null when it is. */
  missed: string | null;
  reliability: ReliabilityBin[];
  reliabilityCalibrated: ReliabilityBin[];
  isotonic: IsotonicFit;
}

function dateRange(records: readonly PredictionRecord[]) {
  const dates = records.map((r) => r.date).sort();
  return { from: dates[0] ?? '', to: dates[dates.length - 1] ?? '' };
}

/** Scores one cell; null when the earlier period has too few records to fit anything (< 20). */
export function scoreGridCell(
  dataset: string,
  length: number,
  horizon: number,
  records: readonly PredictionRecord[],
  split: string,
): GridCell | null {
  const fitSet = records.filter((r) => r.date < split && r.outcomeDate < split);
  const testSet = records.filter((r) => r.date >= split);
  if (fitSet.length < 20 || testSet.length === 0) return null;
  const isotonic = fitIsotonic(
    fitSet.map((r) => r.pUp),
    fitSet.map((r) => (r.actual > 0 ? 1 : 0)),
  );
  const q80 = conformalOffset(
    fitSet.map((r) => cqrScore(r.p10, r.p90, r.actual)),
    COVERAGE_GOAL.nominal,
  );
  const q50 = conformalOffset(
    fitSet.map((r) => cqrScore(r.p25, r.p75, r.actual)),
    0.5,
  );
  const outcomes = testSet.map((r) => r.actual > 0);
  const reference = testSet.map((r) => r.baseRateUp);
  const raw = scoreProbabilities(
    testSet.map((r) => r.pUp),
    outcomes,
    reference,
  );
  const cal = scoreProbabilities(
    testSet.map((r) => applyIsotonic(isotonic, r.pUp)),
    outcomes,
    reference,
  );
  const actual = testSet.map((r) => r.actual);
  const cover = (lo: (r: PredictionRecord) => number, hi: (r: PredictionRecord) => number) =>
    bandCoverage(
      testSet.map(lo),
      testSet.map((r) => Math.max(lo(r), hi(r))),
      actual,
    );
  const coverage80 = cover(
    (r) => r.p10,
    (r) => r.p90,
  );
  const coverage80Conformal = cover(
    (r) => r.p10 - q80,
    (r) => r.p90 + q80,
  );
  const n = testSet.length;
  const enough = n >= MIN_TEST_N;
  const pUpGoal = enough && cal.ece !== null && cal.ece <= ECE_GOAL;
  const bandsGoal =
    enough &&
    coverage80Conformal !== null &&
    Math.abs(coverage80Conformal - COVERAGE_GOAL.nominal) <= COVERAGE_GOAL.tolerance;
  const reasons: string[] = [];
  if (!enough) reasons.push(`only ${n} held-out forecasts (needs ${MIN_TEST_N})`);
  else {
    if (!pUpGoal) reasons.push(`calibrated ECE ${cal.ece?.toFixed(3)} > ${ECE_GOAL}`);
    if (!bandsGoal)
      reasons.push(
        `conformal p10–p90 coverage ${((coverage80Conformal ?? 0) * 100).toFixed(1)} % outside 80 ± 3 %`,
      );
  }
  return {
    dataset,
    length,
    horizon,
    lengths: lengthRange(length),
    fit: { ...dateRange(fitSet), n: fitSet.length },
    test: dateRange(testSet),
    n,
    upRate: raw.upRate,
    brier: raw.brier,
    brierCalibrated: cal.brier,
    brierBaseRate: raw.brierBaseRate,
    brierSkill: raw.brierSkill,
    brierSkillCalibrated: cal.brierSkill,
    ece: raw.ece,
    eceCalibrated: cal.ece,
    coverage80,
    coverage80Conformal,
    coverage50: cover(
      (r) => r.p25,
      (r) => r.p75,
    ),
    coverage50Conformal: cover(
      (r) => r.p25 - q50,
      (r) => r.p75 + q50,
    ),
    conformal: { q80, q50 },
    goals: { pUp: pUpGoal, bands: bandsGoal },
    calibrated: pUpGoal && bandsGoal,
    missed: reasons.length ? reasons.join('; ') : null,
    reliability: raw.reliability,
    reliabilityCalibrated: cal.reliability,
    isotonic,
  };
}
