/**
 * The kernel seam: the shapes every metric's implementations share (a range scan, a chunk scan and its
 * result; for DTW the prepared query and the kernel interface), so the scanners, the native, WASM and
 * TypeScript kernels and the search that drives them depend on these and not on each other.
 */
import type { MarketArrays } from '../market/market-data.js';

/** Scans start rows [lo, hi) of entity e with threshold tau2 (see makeEdScanner). */
export type RangeScan = (
  e: number,
  lo: number,
  hi: number,
  tau2: number,
  keep: (t: number, d2: number) => void,
) => number;

/**
 * A metric's scanner: range by range, and (native zned) a run of plan triples in one call and the exact
 * distances of a batch of windows in one call.
 */
export type Scanner = RangeScan & { chunk?: ChunkScan; distances?: BatchDistances };

/**
 * The exact squared distances of the windows starting at rows[0 .. n) into out (Infinity: a flat window),
 * bit for bit windowDistance2's with no abandoning.
 */
export type BatchDistances = (rows: Int32Array, n: number, out: Float64Array) => void;

/** What a chunk scan found: the kept windows' start rows and squared distances, in triple order. */
export interface ChunkResult {
  /** Direct (exact) computations. */
  exact: number;
  t: Int32Array;
  d2: Float64Array;
  /** end[i]: the kept windows of triples 0..i of the chunk are t[0 .. end[i]). */
  end: Int32Array;
}

/**
 * The plan's triples (entity, lo, hi) at plan[kLo .. kHi) with one threshold: the windows within tau2,
 * as a RangeScan of each triple would keep them. With picks = K > 0 (native zned; DTW's scanner takes
 * its K when made) a kernel may return, for each entity, only its greedy picks (greedyPicks with K and
 * tau2, which taken again return themselves) after the entity's last triple of the chunk. The result is
 * overwritten by the next call.
 */
export type ChunkScan = (
  plan: Int32Array,
  kLo: number,
  kHi: number,
  tau2: number,
  picks?: number,
) => ChunkResult;

export type DtwKernelName = 'native' | 'wasm' | 'ts';

/** The query as every kernel takes it: the normalised query, its band and its indices by |q| descending. */
export interface DtwPrepared {
  qn: Float64Array;
  band: number;
  order: Int32Array;
  /**
   * 0: a chunk returns every window within the threshold. K > 0 (native and WASM kernels; the reference
   * kernel returns every window, a superset): for an entity with one range in the chunk, only its greedy
   * picks (at most K), which greedyPicks then takes unchanged; the neighbours a pick blocks are never
   * computed.
   */
  picks: number;
}

/** A DTW kernel: the plan's triples plan[kLo .. kHi) with one threshold tau2 (Infinity: no pruning). */
export interface DtwKernel {
  readonly name: DtwKernelName;
  /**
   * Writes the windows within tau2 to out.t / out.d2 in triple order (out.end[i]: how many after triple i,
   * the arrays sized by the caller) and returns how many DTWs it computed; stats accumulate DTW_STAT.
   * `control` is the search's control word (search-pool.ts): the native and WASM kernels read it about
   * once a millisecond of work while they run, and once it is non-zero stop and return -1 (the outputs
   * are then partial), so a cancelled search never waits for a long call.
   */
  scanChunk(
    data: MarketArrays,
    q: DtwPrepared,
    plan: Int32Array,
    kLo: number,
    kHi: number,
    tau2: number,
    out: ChunkResult,
    stats: Float64Array,
    stages: number,
    control?: Int32Array | null,
  ): number;
}
