/**
 * Conformal band offsets that adapt through a walk-forward (decision 099). Each forecast's score is the
 * CQR score E = max(p10 − y, y − p90) (Romano, Patterson & Candès 2019), optionally divided by the
 * stock's own scale s = vol·√h on the forecast date (normalised / locally weighted conformal, Lei et al.
 * 2018), so a calmer or wilder regime changes the band in proportion instead of breaking its cover.
 *
 * The offset for a forecast made on date d uses only scores whose outcome was known before d:
 * - `split`: the fixed offset of the fit period (the old method, for comparison);
 * - `rolling`: the conformal quantile of the most recent `window` known scores;
 * - `aci`: adaptive conformal inference (Gibbs & Candès, "Adaptive Conformal Inference Under Distribution
 *   Shift", NeurIPS 2021): the level α_t moves by γ·(α − err) with every outcome that becomes known, and
 *   the offset is the ⌈(n + 1)(1 − α_t)⌉-th smallest of the recent scores (+∞ once α_t ≤ 0). Outcomes
 *   arrive h rows late, so the updates are applied when they are known, in the order they became known.
 */

export interface ScoredForecast {
  /** Forecast date: its offset may use only outcomes known strictly before it. */
  date: string;
  /** When its outcome became known. */
  outcomeDate: string;
  /** Its conformity score (normalised or not). */
  score: number;
}

export interface OnlineConformalOptions {
  /** Miscoverage aimed at: 0.2 for a p10–p90 band. */
  alpha: number;
  /** ACI step; 0 keeps α fixed (plain rolling or split conformal). */
  gamma: number;
  /** Most recent known scores used for the quantile; Infinity = all. */
  window: number;
  /** Whether scores of the stream join the pool once known (false = split conformal on `history` only). */
  update: boolean;
}

export interface OnlineConformalResult {
  /** Offset used for each stream forecast, in stream order. */
  offsets: number[];
  /** The state after every stream outcome known by `asOf`: what a forecast made then would use. */
  final: { offset: number; alpha: number; poolSize: number };
}

/** The ⌈(n + 1)(1 − α)⌉-th smallest score: +∞ when that rank exceeds n (α too small), −∞ when α ≥ 1. */
export function conformalQuantile(sortedScores: readonly number[], alpha: number): number {
  if (alpha >= 1) return Number.NEGATIVE_INFINITY;
  const k = Math.ceil((sortedScores.length + 1) * (1 - alpha));
  if (k > sortedScores.length) return Number.POSITIVE_INFINITY;
  return sortedScores[Math.max(1, k) - 1]!;
}

function byOutcome(a: ScoredForecast, b: ScoredForecast): number {
  return a.outcomeDate < b.outcomeDate ? -1 : a.outcomeDate > b.outcomeDate ? 1 : 0;
}

/** Ascending insert into a sorted array (the pools are a few hundred scores). */
function insertSorted(sorted: number[], v: number): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 0, v);
}

function removeSorted(sorted: number[], v: number): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 1);
}

/**
 * Runs the online offset through `stream` (sorted by date), starting from the `history` scores (all known
 * before the stream starts). `asOf` is the date the final state is taken at (default: after the last
 * stream date, so every stream outcome known by then counts).
 */
export function onlineConformal(
  history: readonly ScoredForecast[],
  stream: readonly ScoredForecast[],
  options: OnlineConformalOptions,
  asOf?: string,
): OnlineConformalResult {
  const { alpha, gamma, window, update } = options;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha ${alpha} must be in (0, 1)`);
  if (!(gamma >= 0)) throw new RangeError(`gamma ${gamma} must be ≥ 0`);
  if (!(window >= 1)) throw new RangeError(`window ${window} must be ≥ 1`);
  for (let i = 1; i < stream.length; i++)
    if (stream[i]!.date < stream[i - 1]!.date) throw new RangeError('stream must be sorted by date');
  // The pool in order of arrival (for the window) and sorted (for the quantile).
  const arrival: number[] = [];
  const sorted: number[] = [];
  const add = (score: number) => {
    arrival.push(score);
    insertSorted(sorted, score);
    if (arrival.length > window) removeSorted(sorted, arrival[arrival.length - window - 1]!);
  };
  for (const h of [...history].sort(byOutcome)) add(h.score);
  let alphaT = alpha;
  const offsets: number[] = new Array<number>(stream.length);
  // Stream forecasts already made whose outcome is not yet counted, ordered by outcome date.
  let pending: number[] = [];
  const release = (before: string) => {
    const known = pending.filter((j) => stream[j]!.outcomeDate < before);
    if (known.length === 0) return;
    pending = pending.filter((j) => stream[j]!.outcomeDate >= before);
    known.sort((a, b) => byOutcome(stream[a]!, stream[b]!) || a - b);
    for (const j of known) {
      const err = stream[j]!.score > offsets[j]! ? 1 : 0;
      alphaT += gamma * (alpha - err);
      if (update) add(stream[j]!.score);
    }
  };
  const offsetNow = () => conformalQuantile(sorted, alphaT);
  let i = 0;
  while (i < stream.length) {
    const d = stream[i]!.date;
    release(d);
    const q = offsetNow();
    for (; i < stream.length && stream[i]!.date === d; i++) {
      offsets[i] = q;
      pending.push(i);
    }
  }
  release(asOf ?? '\uffff');
  return { offsets, final: { offset: offsetNow(), alpha: alphaT, poolSize: sorted.length } };
}
