/**
 * The DTW metric's kernel seam: one interface, three implementations (native addon, WASM, TypeScript
 * reference), chosen once per thread, ML_DTW_KERNEL overriding the choice. A native addon that cannot
 * load is a logged warning (the WASM kernel then serves), never silent.
 */
import type { ChunkResult, ChunkScan, DtwKernel, DtwKernelName, DtwPrepared, Scanner } from './seam.js';
import { makeTsDtwRange } from './dtw-kernel.js';
import { wasmDtwscan } from './dtw-wasm.js';
import { createLogger } from '../logger.js';
import type { MarketArrays } from '../market/market-data.js';
import { createRequire } from 'node:module';
import { addonError, loadAddon } from './native-addon.js';
import * as P from '../../wasm/dtw-params.js';

/**
 * Stages of the cascade (bit flags), all on by default; the step bench turns them off one by one. The
 * values are wasm/dtw-params.ts's, the one definition the WASM kernel imports and the native kernel's
 * header is generated from.
 */
export const DTW_STAGES = {
  kim: P.F_KIM,
  keoghEq: P.F_KEOGH_EQ,
  keoghEc: P.F_KEOGH_EC,
  cumulative: P.F_CUMULATIVE,
  columns: P.F_COLUMNS,
  improved: P.F_IMPROVED,
  /** Native only: the portable one-window-at-a-time path even where AVX2 is there (tests, A/B bench). */
  scalar: P.F_SCALAR,
  /** Native AVX2 path only: the row-by-row DTW instead of the anti-diagonal one (A/B bench). */
  rows: P.F_ROWS,
  /** Native AVX2 path only: the anti-diagonal DTW over the live cells' range, not the whole band (A/B bench). */
  live: P.F_LIVE,
  /** Native AVX2 path only: no float DTW before the double one (decision 140; tests, A/B bench). */
  nof32: P.F_NOF32,
  /** Every window within the threshold even where the caller asked for picks (A/B bench). */
  windows: P.F_WINDOWS,
  /** Picks mode: keep no candidate's normalised window, recompute each (tests that path). */
  unstored: P.F_NOSTORE,
  /** What the search runs: every stage but LB_Improved, which cost more than it saved (decision 077). */
  all: P.F_ALL,
} as const;

/** Counters a kernel accumulates (stats[i]): windows seen, pruned per stage, DTWs computed / abandoned. */
export const DTW_STAT = {
  windows: P.ST_WINDOWS,
  kim: P.ST_KIM,
  keoghEq: P.ST_KEOGH_EQ,
  keoghEc: P.ST_KEOGH_EC,
  exactLb: P.ST_EXACT_LB,
  dtw: P.ST_DTW,
  abandoned: P.ST_ABANDONED,
  improved: P.ST_IMPROVED,
} as const;

/**
 * This thread's cascade counters (DTW_STAT) and the stages its scanners run: the step bench
 * (bench/dtw-steps.ts) reads the one and turns stages off through the other; the service leaves both.
 */
export const dtwProbe: { stats: Float64Array; stages: number } = {
  stats: new Float64Array(P.ST_COUNT),
  stages: DTW_STAGES.all,
};

/**
 * Thrown by a DTW scanner whose search was cancelled while a kernel call ran (its control word was set):
 * the call stopped part-way, so nothing it found is kept. scanShard catches it.
 */
export class SearchStopped extends Error {
  constructor() {
    super('the search was cancelled');
  }
}

interface NativeDtwscan {
  scanChunk(
    closes: Float64Array,
    sum1: Float64Array,
    sum2: Float64Array,
    offsets: Int32Array,
    center: Float64Array,
    spread: Float64Array,
    plan: Int32Array,
    kLo: number,
    kHi: number,
    q: Float64Array,
    order: Int32Array,
    band: number,
    tau2: number,
    outT: Int32Array,
    outD: Float64Array,
    outEnd: Int32Array,
    stats: Float64Array,
    stages: number,
    control: Int32Array | null,
  ): number;
}

function nativeKernel(addonFile?: string): DtwKernel | null {
  const addon = addonFile
    ? (createRequire(import.meta.url)(addonFile) as NativeDtwscan)
    : loadAddon<NativeDtwscan>('dtwscan');
  if (!addon) return null;
  return {
    name: 'native',
    scanChunk(data, q, plan, kLo, kHi, tau2, out, stats, stages, control = null) {
      const { closes, sum1, sum2, offsets, center, spread } = data;
      return addon.scanChunk(
        closes,
        sum1,
        sum2,
        offsets,
        center,
        spread,
        plan,
        kLo,
        kHi,
        q.qn,
        q.order,
        q.band,
        tau2,
        out.t,
        out.d2,
        out.end,
        stats,
        (stages & 0xffff) + (stages & DTW_STAGES.windows ? 0 : q.picks) * 2 ** P.F_PICKS_SHIFT,
        control,
      );
    },
  };
}

/** The native kernel from another build of native/dtwscan.c (the bench's A/B of a kernel change). */
export function nativeDtwKernelFrom(addonFile: string): DtwKernel {
  return nativeKernel(addonFile)!;
}

/** The reference cascade of dtw-kernel.ts behind the same interface (it runs every stage). */
function tsKernel(): DtwKernel {
  return {
    name: 'ts',
    scanChunk(data, q, plan, kLo, kHi, tau2, out, _stats, _stages, control = null) {
      const range = makeTsDtwRange(data, { qn: q.qn, band: q.band });
      let n = 0;
      let exact = 0;
      const keep = (t: number, d2: number) => {
        out.t[n] = t;
        out.d2[n++] = d2;
      };
      for (let k = kLo, i = 0; k < kHi; k += 3, i++) {
        // The reference kernel reads the control word between ranges only (it is not the search's path).
        if (control && Atomics.load(control, 0) !== 0) return -1;
        exact += range(plan[k]!, plan[k + 1]!, plan[k + 2]!, tau2, keep);
        out.end[i] = n;
      }
      return exact;
    },
  };
}

/** The kernel by name, or null where it cannot run here. */
export function dtwKernelByName(name: DtwKernelName): DtwKernel | null {
  if (name === 'native') return nativeKernel();
  if (name === 'wasm') return wasmDtwscan();
  return tsKernel();
}

let chosen: DtwKernel | null = null;

/**
 * Chooses this thread's DTW kernel: `name` when given (an unavailable one is an error: someone asked for
 * it), else native, else WASM (with a warning: search is slower), else TypeScript. Called once at start
 * (dtwKernel() does on first use, with ML_DTW_KERNEL); tests and the bench call it to compare kernels.
 */
export function chooseDtwKernel(name?: string): DtwKernel {
  if (name !== undefined && name !== '') {
    if (name !== 'native' && name !== 'wasm' && name !== 'ts')
      throw new Error(`ML_DTW_KERNEL must be native, wasm or ts (got ${JSON.stringify(name)})`);
    const k = dtwKernelByName(name);
    if (!k) throw new Error(`ML_DTW_KERNEL=${name}, but that kernel cannot load here`);
    chosen = k;
    return k;
  }
  chosen = nativeKernel();
  if (!chosen) {
    chosen = wasmDtwscan() ?? tsKernel();
    createLogger('warn').warn(
      { kernel: chosen.name, reason: addonError('dtwscan') },
      'the native DTW kernel (build/Release/dtwscan.node) did not load; DTW search uses a slower kernel',
    );
  }
  return chosen;
}

/** Makes `kernel` this thread's DTW kernel (the A/B bench: a kernel built from another file). */
export function useDtwKernel(kernel: DtwKernel): void {
  chosen = kernel;
}

/** This thread's DTW kernel (chosen on first use from ML_DTW_KERNEL, see chooseDtwKernel). */
export function dtwKernel(): DtwKernel {
  return chosen ?? chooseDtwKernel(process.env.ML_DTW_KERNEL);
}

/** The query's indices by |q| descending (LB_Keogh meets the largest contributions first). */
export function prepareDtw(qn: Float64Array, band: number, picks = 0): DtwPrepared {
  const idx = Array.from({ length: qn.length }, (_, i) => i);
  idx.sort((a, b) => Math.abs(qn[b]!) - Math.abs(qn[a]!) || a - b);
  return { qn, band: Math.min(band, qn.length - 1), order: Int32Array.from(idx), picks };
}

/**
 * The DTW Scanner of one query: range by range and chunk by chunk through `kernel` (default: this
 * thread's). `stats` accumulates the cascade's counters (default: dtwProbe's). With q.picks = K a chunk
 * (whole entities, as scan.ts hands them) may return only each entity's greedy picks (see DtwPrepared);
 * a single range always returns every window within the threshold (an entity's ranges may overlap).
 * With `q.control` (the search's control word), a call the cancellation stopped throws SearchStopped.
 */
export function makeDtwScanner(
  data: MarketArrays,
  q: { qn: Float64Array; band: number; picks?: number; control?: Int32Array },
  kernel: DtwKernel = dtwKernel(),
  stats: Float64Array = dtwProbe.stats,
  stages: number = dtwProbe.stages,
): Scanner {
  const prepared = prepareDtw(q.qn, q.band, q.picks ?? 0);
  const every: DtwPrepared = { ...prepared, picks: 0 };
  const out: ChunkResult = {
    exact: 0,
    t: new Int32Array(0),
    d2: new Float64Array(0),
    end: new Int32Array(0),
  };
  const scan = (p: DtwPrepared, plan: Int32Array, kLo: number, kHi: number, tau2: number) => {
    let windows = 0;
    for (let k = kLo; k < kHi; k += 3) windows += plan[k + 2]! - plan[k + 1]!;
    if (out.t.length < windows) {
      out.t = new Int32Array(2 * windows);
      out.d2 = new Float64Array(2 * windows);
    }
    if (out.end.length < (kHi - kLo) / 3) out.end = new Int32Array(kHi - kLo);
    out.exact = kernel.scanChunk(data, p, plan, kLo, kHi, tau2, out, stats, stages, q.control ?? null);
    if (out.exact < 0) throw new SearchStopped();
    return out;
  };
  const chunk: ChunkScan = (plan, kLo, kHi, tau2) => scan(prepared, plan, kLo, kHi, tau2);
  const one = new Int32Array(3);
  const range = (e: number, lo: number, hi: number, tau2: number, keep: (t: number, d2: number) => void) => {
    one[0] = e;
    one[1] = lo;
    one[2] = hi;
    const found = scan(every, one, 0, 3, tau2);
    for (let x = 0; x < found.end[0]!; x++) keep(found.t[x]!, found.d2[x]!);
    return found.exact;
  };
  return Object.assign(range, { chunk });
}
