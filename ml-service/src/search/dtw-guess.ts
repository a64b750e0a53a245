/**
 * Guess-and-verify for heavy DTW searches (decision 135): the scan's pruning threshold starts loose and
 * takes a long way to fall (on the demo's top-100, the first ~130 of 505 stocks cost half the DTWs), so
 * the threshold is first guessed by an exact search over every few stocks, and the full search runs with
 * that guess as its starting threshold.
 *
 * Why it is exact: picks are greedy per stock in ascending distance, so a window at distance >= g can only
 * block windows at distance >= g. A scan that prunes at g therefore finds every pick below g exactly as the
 * full search does. When it finds at least K of them, they are the full search's K best; otherwise the
 * search runs again with a wider guess, and then, if need be, without one.
 */
import type { Plan } from './search-plan.js';
import type { ScanResult, ScanSpec } from './scan.js';

/** Entities per sampled entity of the guessing search. */
const STRIDE = 12;
/** The guess is the subsample's (K / STRIDE · MARGIN)-th pick: above the estimate, so it rarely fails. */
const MARGIN = 1.8;
/**
 * A guess found too low is tried once more, 15 % farther in distance (1.15² in squared distance), before
 * the search runs without one: the misses measured on the demo were near (the K-th pick 0.2-3 % above the
 * guess, 86 and 97 of 100 picks below it), and a guessed scan costs about half a scan without one.
 */
const WIDEN = 1.15 ** 2;
/** Fewer picks than this in the subsample make a noisy estimate (and the search is light anyway). */
const MIN_SUB_K = 8;
/** Nor is a sample of a few stocks an estimate (and a search over a few stocks has no long start). */
const MIN_SUB_ENTITIES = 8;

/** Off only to measure the search without it (bench/dtw-focus.ts's `:noguess`). */
export const dtwGuess = {
  enabled: true,
  stride: STRIDE,
  margin: MARGIN,
  widen: WIDEN,
  /** Searches guessed, and the scans whose guess was too low (each run again: widened, then in full). */
  guessed: 0,
  rescanned: 0,
  /** Told each step's kind, threshold and results after it ran (bench/dtw-why.ts); null in service. */
  trace: null as
    ((kind: 'plain' | 'sample' | 'guessed' | 'full', tau: number, results: ScanResult[]) => void) | null,
};

/** The guessing search's spec and plan, or null where a guess does not pay (zned, few picks per stock). */
export function guessSearch(
  spec: ScanSpec,
  plan: Plan,
  stride = dtwGuess.stride,
  margin = dtwGuess.margin,
): { spec: ScanSpec; plan: Plan } | null {
  if (!dtwGuess.enabled || spec.metric !== 'dtw' || spec.tauGuess !== undefined) return null;
  const subK = Math.ceil((spec.topK * margin) / stride);
  if (subK < MIN_SUB_K) return null;
  const sub: number[] = [];
  let o = -1;
  for (let k = 0; k < plan.length; k += 3) {
    if (k === 0 || plan[k - 3] !== plan[k]) o++;
    if (o % stride === 0) sub.push(plan[k]!, plan[k + 1]!, plan[k + 2]!);
  }
  if (Math.floor(o / stride) + 1 < MIN_SUB_ENTITIES) return null;
  return { spec: { ...spec, topK: subK }, plan: Int32Array.from(sub) };
}

/** The K-th smallest squared distance among the shards' picks (Infinity when there are fewer). */
export function kthPick(results: readonly ScanResult[], k: number): number {
  const d2s = results.flatMap((r) => r.picks.map((p) => p.d2)).sort((a, b) => a - b);
  return d2s.length >= k ? d2s[k - 1]! : Infinity;
}

/** Whether a search run with threshold guess g found at least K picks below it (then it is exact). */
export function verified(results: readonly ScanResult[], g: number, k: number): boolean {
  let below = 0;
  for (const r of results) for (const p of r.picks) if (p.d2 < g) below++;
  return below >= k;
}

/** The shards' results of one search (the pool's ShardRunner, or scanShard on this thread). */
type Run = (spec: ScanSpec, plan: Plan) => Promise<ScanResult[]>;
type RunSync = (spec: ScanSpec, plan: Plan) => ScanResult[];

/** Adds the guessing search's DTW count, so `exact` tells the whole work of the search. */
function withWork(results: ScanResult[], extra: readonly ScanResult[]): ScanResult[] {
  const more = extra.reduce((s, r) => s + r.exact, 0);
  return results.map((r, i) => (i === 0 ? { ...r, exact: r.exact + more } : r));
}

/**
 * The searches of one guessed search, in order: each yield is a (spec, plan) to run, answered with its
 * results; the return value is the search's results. One sequence for the pool and for this thread.
 */
function* guessedSteps(
  spec: ScanSpec,
  plan: Plan,
): Generator<{ spec: ScanSpec; plan: Plan }, ScanResult[], ScanResult[]> {
  const trace = dtwGuess.trace;
  const sub = guessSearch(spec, plan);
  if (!sub) {
    const plain = yield { spec, plan };
    trace?.('plain', Infinity, plain);
    return plain;
  }
  const first = yield sub;
  const g = kthPick(first, sub.spec.topK);
  trace?.('sample', g, first);
  if (g === Infinity) return yield { spec, plan };
  dtwGuess.guessed++;
  const spent = [...first];
  for (const tau of [g, g * dtwGuess.widen]) {
    const guessed = yield { spec: { ...spec, tauGuess: tau }, plan };
    trace?.('guessed', tau, guessed);
    if (verified(guessed, tau, spec.topK)) return withWork(guessed, spent);
    dtwGuess.rescanned++;
    spent.push(...guessed);
  }
  const full = yield { spec, plan };
  trace?.('full', Infinity, full);
  return withWork(full, spent);
}

/** A search through `run`, guessed and verified where that pays; the same results as `run(spec, plan)`. */
export async function runGuessed(run: Run, spec: ScanSpec, plan: Plan): Promise<ScanResult[]> {
  const steps = guessedSteps(spec, plan);
  let step = steps.next();
  while (!step.done) step = steps.next(await run(step.value.spec, step.value.plan));
  return step.value;
}

/** runGuessed on this thread. */
export function scanGuessed(run: RunSync, spec: ScanSpec, plan: Plan): ScanResult[] {
  const steps = guessedSteps(spec, plan);
  let step = steps.next();
  while (!step.done) step = steps.next(run(step.value.spec, step.value.plan));
  return step.value;
}
