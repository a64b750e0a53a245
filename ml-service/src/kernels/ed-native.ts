/**
 * The native AVX2 build of the zned pre-filter (native/zscan.c): the same stages and bounds as
 * wasm/zscan.ts over the same shared memory and parameter block, four windows per vector instead of two,
 * in one call per entity or per chunk of entities. Null where the addon was not built or the CPU has no
 * AVX2; search then uses the WASM kernel.
 */
import { loadAddon } from './native-addon.js';

export interface NativeZscan {
  /** Byte addresses into `memory`, as the WASM exports take them; returns the survivors in `out`. */
  scan(
    memory: Uint8Array,
    p: number,
    s1: number,
    s2: number,
    closes: number,
    tLo: number,
    tHi: number,
    L: number,
    m2: number,
    out: number,
  ): number;
  /**
   * The triples plan[kLo .. kHi) in one call with one threshold: each entity's bounds from the query
   * constants (SLOT.C_*), the four stages, and the exact distance of every survivor. Windows within tau2
   * go to outT / outD in order, outEnd[i] counting them up to triple i. Returns the direct computations.
   * With picks = K > 0, each entity's greedy picks (greedyPicks, at most K, within tau2) instead of its
   * windows, after its last triple of the chunk, computing only the exact distances they need.
   */
  scanChunk(
    memory: Uint8Array,
    p: number,
    plan: Int32Array,
    kLo: number,
    kHi: number,
    offsets: Int32Array,
    spread: Float64Array,
    center: Float64Array,
    tau2: number,
    s1: number,
    s2: number,
    closes: number,
    L: number,
    m2: number,
    out: number,
    outT: Int32Array,
    outD: Float64Array,
    outEnd: Int32Array,
    picks: number,
  ): number;
  /**
   * The exact squared distance (no abandoning; Infinity for a flat window) of the window at each of
   * rows[0 .. n) of the closes at byte address `closes` to the query in the parameter block at p, into out.
   */
  distances(
    memory: Uint8Array,
    p: number,
    closes: number,
    rows: Int32Array,
    n: number,
    L: number,
    out: Float64Array,
  ): void;
  avx2: boolean;
}

export function nativeZscan(): NativeZscan | null {
  const addon = loadAddon<NativeZscan>('zscan');
  return addon?.avx2 ? addon : null;
}
