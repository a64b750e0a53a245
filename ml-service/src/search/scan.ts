/**
 * One shard of a search: scans its entities of the plan with the metric's kernel, turns each entity's
 * surviving windows into final greedy picks, and counts candidates and up-moves for the base rate.
 * Runs on the main thread (tests, small data) or inside a search worker.
 */
import type { Timeframe } from '@resemble/contracts';
import { lowerBound, type MarketArrays } from '../market/market-data.js';
import { makeEdScanner } from '../kernels/ed-kernel.js';
import type { BatchDistances, Scanner } from '../kernels/seam.js';
import { makeDtwScanner, SearchStopped } from '../kernels/dtw-search.js';
import { forEachFlatWindow, type Plan } from './search-plan.js';
import { greedyPicks, TauBoard, TopK, type Pick } from './top-picks.js';
import { windowDistance2, type Normalization } from '../kernels/window-distance.js';

/** Entities per chunk handed to a worker. */
const CHUNK = 8;

export interface ScanSpec {
  metric: 'zned' | 'dtw';
  normalize: Normalization;
  /** The normalised query. */
  qn: Float64Array;
  topK: number;
  horizon: number;
  mode: 'history' | 'now';
  /** Sakoe-Chiba band half-width in rows (DTW). */
  band: number;
  /** Prefix up-move counts for `horizon` (see up-counts.ts); null in mode "now". */
  upCounts: Int32Array | null;
  /** The day the query window starts, when it is a stretch of the data (not a posted series). */
  queryStartDay: number | null;
  /**
   * The bars the plan's rows index: a ShardRunner given the daily market scans its bars of this
   * timeframe (bars.ts), so the workers receive the resampled arrays.
   */
  timeframe: Timeframe;
  /**
   * A guessed threshold (squared distance) to prune with from the start (dtw-guess.ts): the picks below
   * it are exact, those at or above it may be missing, so the caller checks there are K below it.
   */
  tauGuess?: number;
}

export interface ScanResult {
  /** Best picks of this shard, d2 = squared distance, sorted. */
  picks: { entity: number; start: number; d2: number }[];
  candidates: number;
  /** Candidate windows with close[end + horizon] > close[end] (history mode). */
  ups: number;
  /** Windows whose distance was computed directly (the rest were pruned by lower bounds). */
  exact: number;
  /** Chunks this shard left unscanned because its search was cancelled (then the result is partial). */
  abandoned?: number;
}

export function scanShard(
  data: MarketArrays,
  spec: ScanSpec,
  plan: Plan,
  board: TauBoard,
  shard: number,
  shards: number,
  /** Asked before each chunk: true stops the shard (its search was cancelled or ran out of time). */
  shouldStop?: () => boolean,
  /**
   * The search's control word (non-zero once it is cancelled), read inside the DTW kernel's calls too:
   * a chunk of long entities with a wide band is seconds of native work (dtw-search.ts).
   */
  control?: Int32Array,
): ScanResult {
  const L = spec.qn.length;
  const h = spec.horizon;
  const scanRange: Scanner =
    spec.metric === 'dtw'
      ? makeDtwScanner(data, { qn: spec.qn, band: spec.band, picks: spec.topK, control })
      : makeEdScanner(data, { qn: spec.qn, normalize: spec.normalize });
  const chunkScan = scanRange.chunk;
  const top = new TopK(spec.topK);
  const closes = data.closes;
  let candidates = 0;
  let ups = 0;
  let exact = 0;
  const starts: number[] = [];
  const dists: number[] = [];
  const keep = (t: number, d2: number) => {
    starts.push(t);
    dists.push(d2);
  };
  // Plan index of each entity's first interval, and the end.
  const entityStarts: number[] = [];
  for (let k = 0; k < plan.length; k += 3) if (k === 0 || plan[k - 3] !== plan[k]) entityStarts.push(k);
  entityStarts.push(plan.length);
  const entities = entityStarts.length - 1;
  // A sampled window's distance for the seed: DTW's own (a window's ED bounds its DTW from above, but far
  // too loosely: measured on the demo at L=250 top-100, seeding with ED left 5 % of windows within the
  // early thresholds, each a full DTW).
  const sampleD2 =
    spec.metric === 'dtw'
      ? (e: number, t: number) => {
          let d = Infinity;
          scanRange(e, t, t + 1, Infinity, (_, d2) => (d = d2));
          return d;
        }
      : (_e: number, t: number, scratch: Float64Array) =>
          windowDistance2(data.closes, t, spec.qn, spec.normalize, Infinity, scratch);
  let abandoned = 0;
  /** Every chunk not yet taken is left: the others of this search see the same flag. */
  const leave = () => {
    while (board.nextChunk() * CHUNK < entities) abandoned++;
  };
  let seed: number;
  try {
    seed = seedThreshold(data, spec, plan, entityStarts, shard, shards, sampleD2, scanRange.distances);
  } catch (err) {
    if (!(err instanceof SearchStopped)) throw err;
    leave();
    return { picks: [], candidates, ups, exact, abandoned };
  }
  const guess = spec.tauGuess ?? Infinity;
  /** Counts the candidate windows of plan triple k, and their up-moves (flat windows are no candidates). */
  const count = (k: number) => {
    const e = plan[k]!;
    const lo = plan[k + 1]!;
    const hi = plan[k + 2]!;
    candidates += hi - lo;
    let flats = 0;
    let flatUps = 0;
    // Flat runs are rare: most entities have none, and skip the visit (a closure per interval).
    if (data.flatOffsets[e + 1]! > data.flatOffsets[e]!)
      forEachFlatWindow(data, e, lo, hi, L, (t) => {
        flats++;
        if (spec.mode === 'history' && closes[t + L - 1 + h]! > closes[t + L - 1]!) flatUps++;
      });
    candidates -= flats;
    if (spec.upCounts) ups += spec.upCounts[hi + L - 1 + e]! - spec.upCounts[lo + L - 1 + e]! - flatUps;
  };
  /**
   * Takes entity e's greedy picks among the windows kept for it (starts, dists) with threshold tau2 into
   * the best K. Only picks within the threshold are final: a dropped farther window could block a
   * farther pick.
   */
  const pick = (e: number, tau2: number) => {
    let changed = false;
    for (const p of greedyPicks(e, starts, dists, L, spec.topK, tau2)) changed = top.add(p) || changed;
    // Publishing writes the list into memory the other workers read: only when it changed (most
    // entities after the first few add nothing).
    if (changed) board.publish(top.items);
  };
  /** Entity o of the plan, range by range. */
  const scanOne = (o: number, tau2: number) => {
    const e = plan[entityStarts[o]!]!;
    // Most entities keep no window: emptying empty arrays is still a runtime call, so only when needed.
    if (starts.length > 0) {
      starts.length = 0;
      dists.length = 0;
    }
    for (let k = entityStarts[o]!; k < entityStarts[o + 1]!; k += 3) {
      count(k);
      exact += scanRange(e, plan[k + 1]!, plan[k + 2]!, tau2, keep);
    }
    if (starts.length > 0) pick(e, tau2);
  };
  /** Entities [o0, o1) of the plan in one native call. */
  const scanNative = (o0: number, o1: number, tau2: number) => {
    const kLo = entityStarts[o0]!;
    const kHi = entityStarts[o1]!;
    for (let k = kLo; k < kHi; k += 3) count(k);
    // zned: each entity's greedy picks only (the kernel skips the exact distances of windows a pick
    // blocks); greedyPicks then takes them unchanged.
    const found = chunkScan!(plan, kLo, kHi, tau2, spec.topK);
    exact += found.exact;
    let from = 0;
    for (let o = o0; o < o1; o++) {
      const to = found.end[(entityStarts[o + 1]! - kLo) / 3 - 1]!;
      if (to === from) continue;
      starts.length = 0;
      dists.length = 0;
      for (let x = from; x < to; x++) keep(found.t[x]!, found.d2[x]!);
      from = to;
      pick(plan[entityStarts[o]!]!, tau2);
    }
  };
  // Entities are handed out in chunks from a counter shared by the workers, so one that drew cheaper
  // entities takes more of them instead of waiting for the other at the end.
  for (;;) {
    if (shouldStop?.()) {
      leave();
      break;
    }
    const first = board.nextChunk() * CHUNK;
    if (first >= entities) break;
    const last = Math.min(first + CHUNK, entities);
    try {
      for (let o = first; o < last;) {
        // Within a chunk too, entity by entity: a DTW entity can take a second, a chunk of them far more.
        if (o > first && shouldStop?.()) {
          abandoned++;
          break;
        }
        const tau2 = Math.min(board.bound(top.items, spec.topK), seed, guess);
        if (!chunkScan || tau2 === Infinity) {
          scanOne(o++, tau2);
          continue;
        }
        // Natively (zned), several entities per call, each call with the threshold as it stands at its
        // start: one entity a call while there are fewer than K picks (the seed's threshold, which falls
        // fast), the rest of the chunk in one call after that.
        const end = top.items.length < spec.topK ? o + 1 : last;
        scanNative(o, end, tau2);
        o = end;
      }
    } catch (err) {
      // Cancelled inside a kernel call: this chunk and every one not yet taken are left, and what the
      // shard found is dropped (its search is answered already).
      if (!(err instanceof SearchStopped)) throw err;
      abandoned++;
      leave();
      return { picks: [], candidates, ups, exact, abandoned };
    }
  }
  return {
    picks: top.items.map((p: Pick) => ({ entity: p.entity, start: p.start, d2: p.distance })),
    candidates,
    ups,
    exact,
    ...(abandoned > 0 ? { abandoned } : {}),
  };
}

/**
 * A first pruning threshold before any entity is scanned: the (2K)-th smallest exact distance among a
 * sample of candidate windows that pairwise do not overlap (a few per entity, at least L rows apart), or
 * the K-th when there is one per entity. It bounds the final K-th pick: greedy takes, in ascending order,
 * every sampled window not blocked by an earlier pick of its entity, and one pick (L rows) overlaps at
 * most two of them (one, if its entity has one), so at least K picks have distance <= that value.
 * Without it the first entity of a shard would be computed directly in full.
 * Returns Infinity when the sample is too small.
 */
function seedThreshold(
  data: MarketArrays,
  spec: ScanSpec,
  plan: Plan,
  entityStarts: readonly number[],
  shard: number,
  shards: number,
  sampleD2: SampleD2,
  batch?: BatchDistances,
): number {
  const entities = entityStarts.length - 1;
  // With many entities, sample only every few of this shard's (about max(8K, 128) of them): the seed
  // serves only a shard's first chunk, after which the shared board is tighter anyway, and sampling
  // every entity cost more than a looser first chunk (measured: 73 -> 69 ms single-thread at 4,000
  // entities, 5.4 -> 4.9 ms on the demo). Each sampled entity is a few cache misses, most of the cost.
  const every = Math.max(1, Math.floor(entities / shards / Math.max(8 * spec.topK, 128)));
  if (spec.queryStartDay !== null) {
    // With the native batch every entity of the shard is sampled: its distances cost ~60 ns a window
    // there, and the tighter seed saves more than that (demo, 300 random searches: about -8 % CPU).
    const step = batch ? shards : shards * every;
    const seed = kth(sameDaySample(data, spec, plan, entityStarts, shard, step, sampleD2, batch), spec.topK);
    if (seed !== Infinity) return seed;
  }
  const L = spec.qn.length;
  const scratch = new Float64Array(L);
  const d2s: number[] = [];
  // About 8K samples per worker in all, at least one per sampled entity, at most 8.
  const perEntity = Math.min(8, Math.max(1, Math.ceil((8 * spec.topK * shards) / Math.max(1, entities))));
  // With one sample per entity, a pick can block only its own entity's sample, so K samples within D
  // already bound the K-th pick; with several, one pick may block two of them, so 2K are needed.
  const need = perEntity === 1 ? spec.topK : 2 * spec.topK;
  for (let o = shard; o < entities; o += shards * every) {
    // Windows of one interval at least L apart never overlap; intervals of an entity are disjoint and
    // ordered, but two intervals' windows could overlap, so only the entity's first interval is used.
    const k = entityStarts[o]!;
    const lo = plan[k + 1]!;
    const hi = plan[k + 2]!;
    const stride = Math.max(L, Math.ceil((hi - lo) / perEntity));
    for (let t = lo; t < hi; t += stride) {
      const d2 = sampleD2(plan[k]!, t, scratch);
      if (d2 !== Infinity) d2s.push(d2);
    }
  }
  return kth(d2s, need);
}

/** The exact distance of entity e's window at row t (Infinity: not a candidate). */
type SampleD2 = (e: number, t: number, scratch: Float64Array) => number;

/** The k-th smallest value (Infinity when there are fewer than k). */
function kth(values: number[] | Float64Array, k: number): number {
  if (values.length < k) return Infinity;
  // A typed array sorts numerically without a comparator call per comparison.
  const sorted = values instanceof Float64Array ? values : Float64Array.from(values);
  sorted.sort();
  return sorted[k - 1]!;
}

/**
 * Distances of the windows that start on the query's own day, one per sampled entity (so K of them
 * within D bound the K-th pick, as above). Stocks move together, so these are far closer to the final
 * picks than windows taken anywhere: on the demo (150 random queries, K = 10) the seed's distance fell
 * from 7.0 to 5.3 (the final K-th pick's is 3.6 on average) and a single-thread search from 4.09 to
 * 3.85 ms. Sampling every entity gave 4.5 but cost as much as it saved in TypeScript; with the native
 * batch it pays (seedThreshold).
 */
function sameDaySample(
  data: MarketArrays,
  spec: ScanSpec,
  plan: Plan,
  entityStarts: readonly number[],
  first: number,
  step: number,
  sampleD2: SampleD2,
  /** The same distances in one native call (the native zned scanner), else one sampleD2 a window. */
  batch?: BatchDistances,
): number[] | Float64Array {
  const day = spec.queryStartDay!;
  const most = Math.ceil(Math.max(0, entityStarts.length - 1 - first) / step);
  const rows = new Int32Array(most);
  const entities = new Int32Array(most);
  let n = 0;
  // Most entities share a calendar: the day usually sits at the same row offset as in the entity before,
  // which saves a binary search (a dozen cache misses) per entity.
  let rel = -1;
  for (let o = first; o < entityStarts.length - 1; o += step) {
    const e = plan[entityStarts[o]!]!;
    const a = data.offsets[e]!;
    const b = data.offsets[e + 1]!;
    let t = a + rel;
    if (rel < 0 || t >= b || data.days[t] !== day) {
      t = lowerBound(data.days, a, b, day);
      if (t >= b || data.days[t] !== day) continue;
      rel = t - a;
    }
    // Only a candidate counts: a start row inside one of the entity's intervals of the plan.
    let inPlan = false;
    for (let k = entityStarts[o]!; k < entityStarts[o + 1]! && !inPlan; k += 3)
      inPlan = t >= plan[k + 1]! && t < plan[k + 2]!;
    if (!inPlan) continue;
    entities[n] = e;
    rows[n++] = t;
  }
  if (batch) {
    const out = new Float64Array(n);
    batch(rows, n, out);
    let finite = 0;
    for (let i = 0; i < n; i++) if (out[i] !== Infinity) out[finite++] = out[i]!;
    return out.subarray(0, finite);
  }
  const d2s: number[] = [];
  const scratch = new Float64Array(spec.qn.length);
  for (let i = 0; i < n; i++) {
    const d2 = sampleD2(entities[i]!, rows[i]!, scratch);
    if (d2 !== Infinity) d2s.push(d2);
  }
  return d2s;
}
