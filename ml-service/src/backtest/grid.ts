/**
 * One cell of the calibration grid (query length × horizon): from walk-forward records of the analogue,
 * choose a pUp calibrator and a conformal band method on the earlier period alone, run them through the
 * later period (the online ones using only outcomes known before each forecast), score raw and calibrated
 * forecasts there, and decide whether the cell meets its goals (decisions 095, 099).
 *
 * Conformal bands follow conformalized quantile regression (Romano, Patterson & Candès 2019): the score of
 * a record is E = max(lo − y, y − hi), optionally divided by the stock's own scale vol·√h; the offset q is
 * a conformal quantile of known scores (conformal.ts) and the band is [lo − q·s, hi + q·s]. Markets are
 * not exchangeable across regimes, which is why the cover is judged on the later period, not assumed.
 *
 * The method of each part is chosen by an inner split of the earlier period (its first 60 % of dates fit,
 * the rest validates), pooled over the run's cells (chooseMethods). The later period is never used to
 * choose anything.
 */
import { applyIsotonic, fitIsotonic, type IsotonicFit } from '../predictors/isotonic.js';
import { applyPlatt, fitPlatt } from '../predictors/platt.js';
import { volScale } from '../predictors/volatility.js';
import { onlineConformal, type OnlineConformalOptions, type ScoredForecast } from './conformal.js';
import { expectedCalibrationError, reliabilityTable, type ReliabilityBin } from './metrics.js';
import { RELIABILITY_BINS, scoreProbabilities } from './score.js';
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

/** Forecasts the rolling methods look back on (most recent known outcomes). */
export const ROLLING_WINDOW = 250;
/** ACI step γ (Gibbs & Candès 2021 use 0.005 over ~10,000 steps; a cell has ~600, hence larger). */
export const ACI_GAMMA = 0.02;
/** Share of the earlier period's dates that fit the candidates when choosing a method; the rest validate. */
export const INNER_FIT_SHARE = 0.6;

export const BAND_METHODS = ['split', 'normalised', 'rolling', 'aci'] as const;
export type BandMethod = (typeof BAND_METHODS)[number];
export const PUP_METHODS = ['isotonic', 'platt', 'rolling-isotonic', 'rolling-platt'] as const;
export type PUpMethod = (typeof PUP_METHODS)[number];

/** How each band method scores and updates: `normalised` divides scores by vol·√h. */
export const BAND_METHOD_OPTIONS: Record<
  BandMethod,
  Omit<OnlineConformalOptions, 'alpha'> & { normalised: boolean }
> = {
  split: { normalised: false, gamma: 0, window: Number.POSITIVE_INFINITY, update: false },
  normalised: { normalised: true, gamma: 0, window: Number.POSITIVE_INFINITY, update: false },
  rolling: { normalised: true, gamma: 0, window: ROLLING_WINDOW, update: true },
  aci: { normalised: true, gamma: ACI_GAMMA, window: ROLLING_WINDOW, update: true },
};

type Band = 'p10p90' | 'p25p75';
const BAND_LEVEL: Record<Band, number> = { p10p90: 0.8, p25p75: 0.5 };
const bandOf = (r: PredictionRecord, band: Band) =>
  band === 'p10p90' ? { lo: r.p10, hi: r.p90 } : { lo: r.p25, hi: r.p75 };

function scored(records: readonly PredictionRecord[], band: Band, normalised: boolean, horizon: number) {
  return records.map((r): ScoredForecast => {
    const { lo, hi } = bandOf(r, band);
    const e = cqrScore(lo, hi, r.actual);
    return { date: r.date, outcomeDate: r.outcomeDate, score: normalised ? e / volScale(r.vol, horizon) : e };
  });
}

/** Offsets of one band method through `stream` (sorted by date) and its cover there. */
export function runBandMethod(
  method: BandMethod,
  band: Band,
  history: readonly PredictionRecord[],
  stream: readonly PredictionRecord[],
  horizon: number,
) {
  const { normalised, ...options } = BAND_METHOD_OPTIONS[method];
  const s = scored(stream, band, normalised, horizon);
  const result = onlineConformal(scored(history, band, normalised, horizon), s, {
    alpha: 1 - BAND_LEVEL[band],
    ...options,
  });
  const inside = s.filter((x, i) => x.score <= result.offsets[i]!).length;
  return { ...result, normalised, coverage: s.length ? inside / s.length : null };
}

/** A pUp map as knots for linear interpolation (Platt's sigmoid sampled every 0.01). */
function fitMap(method: 'isotonic' | 'platt', records: readonly PredictionRecord[]): IsotonicFit {
  const probs = records.map((r) => r.pUp);
  const ups = records.map((r) => (r.actual > 0 ? 1 : 0) as 0 | 1);
  if (method === 'isotonic') return fitIsotonic(probs, ups);
  const fit = fitPlatt(probs, ups);
  const x = Array.from({ length: 101 }, (_, i) => i / 100);
  return { x, y: x.map((p) => applyPlatt(fit, p)) };
}

const byOutcomeDate = (a: PredictionRecord, b: PredictionRecord) =>
  a.outcomeDate < b.outcomeDate ? -1 : a.outcomeDate > b.outcomeDate ? 1 : 0;

/**
 * Calibrated pUp of each stream forecast (sorted by date): a fixed map fitted on `history`, or (rolling)
 * one refitted on each date on the ROLLING_WINDOW most recent outcomes known before it. `final` is the map
 * a forecast made after the stream would use.
 */
export function runPUpMethod(
  method: PUpMethod,
  history: readonly PredictionRecord[],
  stream: readonly PredictionRecord[],
): { probs: number[]; final: IsotonicFit } {
  const base = method === 'isotonic' || method === 'rolling-isotonic' ? 'isotonic' : 'platt';
  if (!method.startsWith('rolling')) {
    const map = fitMap(base, history);
    return { probs: stream.map((r) => applyIsotonic(map, r.pUp)), final: map };
  }
  const known = [...history].sort(byOutcomeDate);
  const pending = [...stream].sort(byOutcomeDate);
  let next = 0;
  const recent = () => known.slice(-ROLLING_WINDOW);
  const probs: number[] = new Array<number>(stream.length);
  let i = 0;
  while (i < stream.length) {
    const d = stream[i]!.date;
    while (next < pending.length && pending[next]!.outcomeDate < d) known.push(pending[next++]!);
    const map = fitMap(base, recent());
    for (; i < stream.length && stream[i]!.date === d; i++) probs[i] = applyIsotonic(map, stream[i]!.pUp);
  }
  while (next < pending.length) known.push(pending[next++]!);
  return { probs, final: fitMap(base, recent()) };
}

function ece(probs: readonly number[], records: readonly PredictionRecord[]): number | null {
  return expectedCalibrationError(
    reliabilityTable(
      probs,
      records.map((r) => r.actual > 0),
      RELIABILITY_BINS,
    ),
  );
}

/** The earlier period split by date: its first INNER_FIT_SHARE fit, the rest (outcomes unseen) validates. */
export function innerSplit(fitSet: readonly PredictionRecord[]) {
  const dates = [...new Set(fitSet.map((r) => r.date))].sort();
  const cut = dates[Math.floor(dates.length * INNER_FIT_SHARE)] ?? '';
  return {
    history: fitSet.filter((r) => r.date < cut && r.outcomeDate < cut),
    validation: fitSet.filter((r) => r.date >= cut),
  };
}

/** What every candidate scored on the validation part of a cell's earlier period (innerSplit). */
export interface CellValidation {
  n: number;
  from: string;
  coverage80: Record<BandMethod, number | null>;
  ece: Record<PUpMethod, number | null>;
}

export function validateCell(
  records: readonly PredictionRecord[],
  split: string,
  horizon: number,
): CellValidation {
  const fitSet = sortByDate(records.filter((r) => r.date < split && r.outcomeDate < split));
  const { history, validation } = innerSplit(fitSet);
  const ok = history.length >= 20 && validation.length > 0;
  return {
    n: validation.length,
    from: validation[0]?.date ?? '',
    coverage80: Object.fromEntries(
      BAND_METHODS.map((m) => [
        m,
        ok ? runBandMethod(m, 'p10p90', history, validation, horizon).coverage : null,
      ]),
    ) as Record<BandMethod, number | null>,
    ece: Object.fromEntries(
      PUP_METHODS.map((m) => [m, ok ? ece(runPUpMethod(m, history, validation).probs, validation) : null]),
    ) as Record<PUpMethod, number | null>,
  };
}

export interface ChosenMethods {
  bands: BandMethod;
  pUp: PUpMethod;
  /** Mean over the cells of |validation cover − 80 %| per band method, and validation ECE per pUp method. */
  meanCoverageGap: Record<BandMethod, number | null>;
  meanEce: Record<PUpMethod, number | null>;
}

/**
 * One method per part for all cells of a run, chosen on the earlier period alone: the band method whose
 * validation cover is on average nearest 80 %, the pUp calibrator with the lowest mean validation ECE.
 * Pooling the cells matters: one cell's validation part (~250 forecasts) has a cover noise of ±2.5 points,
 * as large as the differences between the methods. Ties keep the earlier (simpler) method of the list.
 */
export function chooseMethods(validations: readonly CellValidation[]): ChosenMethods {
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const meanCoverageGap = Object.fromEntries(
    BAND_METHODS.map((m) => [
      m,
      mean(validations.map((v) => (v.coverage80[m] === null ? null : Math.abs(v.coverage80[m]! - 0.8)))),
    ]),
  ) as Record<BandMethod, number | null>;
  const meanEce = Object.fromEntries(
    PUP_METHODS.map((m) => [m, mean(validations.map((v) => v.ece[m]))]),
  ) as Record<PUpMethod, number | null>;
  const key = (x: number | null) => x ?? Infinity;
  return {
    bands: BAND_METHODS.reduce((b, m) => (key(meanCoverageGap[m]) < key(meanCoverageGap[b]) ? m : b)),
    pUp: PUP_METHODS.reduce((b, m) => (key(meanEce[m]) < key(meanEce[b]) ? m : b)),
    meanCoverageGap,
    meanEce,
  };
}

const sortByDate = (records: readonly PredictionRecord[]) =>
  [...records].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));

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
  /** The methods applied (chosen on earlier periods only), and what each candidate scored on this cell's validation part. */
  methods: {
    bands: BandMethod;
    pUp: PUpMethod;
    validation: CellValidation;
    /** Every candidate on the later period, for the record only (nothing is chosen by it). */
    test: { coverage80: Record<BandMethod, number | null>; ece: Record<PUpMethod, number | null> };
  };
  /**
   * What a forecast made after the whole run uses: offsets in score units (× vol·√h when `normalised`).
   * For `split` they are the earlier period's, for the online methods the state at the end.
   */
  conformal: { method: BandMethod; normalised: boolean; q80: number; q50: number };
  /** Whether the cell was judged at all (≥ MIN_TEST_N held-out forecasts), and each goal it met. */
  judged: boolean;
  goals: { pUp: boolean; bands: boolean };
  calibrated: boolean;
  /** Why a cell is not calibrated, in words; null when it is. */
  missed: string | null;
  reliability: ReliabilityBin[];
  reliabilityCalibrated: ReliabilityBin[];
  /** The pUp map served after the run (knots, linear in between). */
  pUpMap: IsotonicFit;
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
  /** The run's choice (chooseMethods over all its cells); default: chosen on this cell's validation alone. */
  methods?: { bands: BandMethod; pUp: PUpMethod },
): GridCell | null {
  const fitSet = sortByDate(records.filter((r) => r.date < split && r.outcomeDate < split));
  const testSet = sortByDate(records.filter((r) => r.date >= split));
  if (fitSet.length < 20 || testSet.length === 0) return null;
  const validation = validateCell(records, split, horizon);
  const m = methods ?? chooseMethods([validation]);
  const chosen = { bandMethod: m.bands, pUpMethod: m.pUp };
  const bandRuns = Object.fromEntries(
    BAND_METHODS.map((m) => [m, runBandMethod(m, 'p10p90', fitSet, testSet, horizon)]),
  ) as Record<BandMethod, ReturnType<typeof runBandMethod>>;
  const pUpRuns = Object.fromEntries(PUP_METHODS.map((m) => [m, runPUpMethod(m, fitSet, testSet)])) as Record<
    PUpMethod,
    ReturnType<typeof runPUpMethod>
  >;
  const band80 = bandRuns[chosen.bandMethod];
  const band50 = runBandMethod(chosen.bandMethod, 'p25p75', fitSet, testSet, horizon);
  const pUpRun = pUpRuns[chosen.pUpMethod];
  const outcomes = testSet.map((r) => r.actual > 0);
  const reference = testSet.map((r) => r.baseRateUp);
  const raw = scoreProbabilities(
    testSet.map((r) => r.pUp),
    outcomes,
    reference,
  );
  const cal = scoreProbabilities(pUpRun.probs, outcomes, reference);
  const inside = (lo: number, hi: number, y: number) => y >= lo && y <= hi;
  const share = (k: number) => k / testSet.length;
  const coverage80 = share(testSet.filter((r) => inside(r.p10, r.p90, r.actual)).length);
  const coverage50 = share(testSet.filter((r) => inside(r.p25, r.p75, r.actual)).length);
  const coverage80Conformal = band80.coverage;
  const n = testSet.length;
  const judged = n >= MIN_TEST_N;
  const pUpGoal = judged && cal.ece !== null && cal.ece <= ECE_GOAL;
  const bandsGoal =
    judged &&
    coverage80Conformal !== null &&
    Math.abs(coverage80Conformal - COVERAGE_GOAL.nominal) <= COVERAGE_GOAL.tolerance;
  const reasons: string[] = [];
  if (!judged) reasons.push(`only ${n} held-out forecasts (needs ${MIN_TEST_N})`);
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
    coverage50,
    coverage50Conformal: band50.coverage,
    methods: {
      bands: chosen.bandMethod,
      pUp: chosen.pUpMethod,
      validation,
      test: {
        coverage80: Object.fromEntries(BAND_METHODS.map((m) => [m, bandRuns[m].coverage])) as Record<
          BandMethod,
          number | null
        >,
        ece: Object.fromEntries(PUP_METHODS.map((m) => [m, ece(pUpRuns[m].probs, testSet)])) as Record<
          PUpMethod,
          number | null
        >,
      },
    },
    conformal: {
      method: chosen.bandMethod,
      normalised: band80.normalised,
      q80: band80.final.offset,
      q50: band50.final.offset,
    },
    judged,
    goals: { pUp: pUpGoal, bands: bandsGoal },
    calibrated: pUpGoal && bandsGoal,
    missed: reasons.length ? reasons.join('; ') : null,
    reliability: raw.reliability,
    reliabilityCalibrated: cal.reliability,
    pUpMap: pUpRun.final,
  };
}
