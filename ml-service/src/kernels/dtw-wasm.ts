/**
 * The WASM build of the DTW kernel (wasm/dtwscan.ts), the portable fallback of native/dtwscan.c: one
 * instance per thread with its own memory, into which each triple's rows (closes, padded by the band for
 * the envelope, and the prefix sums of its windows) are copied before the call. Copying one entity's
 * rows costs far less than scanning them. The module asks the host's stopNow() about once a millisecond
 * of work whether the search was cancelled (its memory is not shared, so it cannot read the control
 * word itself): that is the call's control word, set here for its duration.
 */
import { readFileSync } from 'node:fs';
import type { ChunkResult, DtwKernel, DtwPrepared } from './seam.js';
import * as P from '../../wasm/dtw-params.js';
import type { MarketArrays } from '../market/market-data.js';

interface Exports {
  memory: WebAssembly.Memory;
  scanRange(
    x: number,
    rows: number,
    tLo: number,
    tHi: number,
    s1: number,
    s2: number,
    n: number,
    c: number,
    M: number,
    tau2: number,
    L: number,
    r: number,
    flags: number,
    q: number,
    qU: number,
    qL: number,
    order: number,
    scratch: number,
    widest: number,
    outT: number,
    outD: number,
    stats: number,
    picks: number,
  ): number;
  scratchBytes(L: number, r: number, widest: number): number;
  queryEnvelope(
    q: number,
    L: number,
    r: number,
    qU: number,
    qL: number,
    scratch: number,
    widest: number,
  ): void;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

const built = new URL('../../wasm/dtwscan.wasm', import.meta.url);
const loaded = new Map<string, DtwKernel | null>();

/**
 * This thread's WASM DTW kernel (null if WebAssembly cannot instantiate it): the committed build, or for
 * an A/B bench another build of wasm/dtwscan.ts (bench/dtw-focus.ts: `wasm@FILE`).
 */
export function wasmDtwscan(file: URL = built): DtwKernel | null {
  if (!loaded.has(file.href)) loaded.set(file.href, instantiate(file));
  return loaded.get(file.href)!;
}

function instantiate(file: URL): DtwKernel | null {
  /** The control word of the call running now (null: it cannot be stopped). */
  let control: Int32Array | null = null;
  const imports = { env: { stopNow: () => (control !== null && Atomics.load(control, 0) !== 0 ? 1 : 0) } };
  let instance: Exports;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), imports)
      .exports as unknown as Exports;
  } catch {
    return null;
  }
  const wasm = instance;
  /** Grows the memory to at least `bytes` and returns it as bytes. */
  const memoryOf = (bytes: number) => {
    const have = wasm.memory.buffer.byteLength;
    if (have < bytes) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
    return wasm.memory.buffer;
  };
  return {
    name: 'wasm',
    scanChunk(data, qp, plan, kLo, kHi, tau2, out, stats, stages, stop = null) {
      control = stop;
      try {
        return scan(data, qp, plan, kLo, kHi, tau2, out, stats, stages);
      } finally {
        control = null;
      }
    },
  };

  function scan(
    data: MarketArrays,
    qp: DtwPrepared,
    plan: Int32Array,
    kLo: number,
    kHi: number,
    tau2: number,
    out: ChunkResult,
    stats: Float64Array,
    stages: number,
  ): number {
    const { closes, sum1, sum2, offsets, center, spread } = data;
    const { qn, order } = qp;
    const L = qn.length;
    const r = Math.min(qp.band, L - 1);
    let widest = L;
    for (let k = kLo; k < kHi; k += 3) widest = Math.max(widest, plan[k + 2]! - plan[k + 1]! + L + 2 * r);
    // Layout: query block, scratch, stats, then one triple's rows and outputs.
    const qAt = 0;
    const qUAt = qAt + 8 * L;
    const qLAt = qUAt + 8 * L;
    const orderAt = qLAt + 8 * L;
    const scratchAt = align(orderAt + 4 * L);
    // The scratch's own layout is the module's (scratchBytes), written once there.
    const statsAt = align(scratchAt + wasm.scratchBytes(L, r, widest));
    const xAt = statsAt + 64;
    const s1At = xAt + 8 * widest;
    const s2At = s1At + 8 * widest;
    const outDAt = s2At + 8 * widest;
    const outTAt = outDAt + 8 * widest;
    let buffer = memoryOf(outTAt + 4 * widest) as ArrayBuffer;
    let f64 = new Float64Array(buffer);
    let i32 = new Int32Array(buffer);
    f64.set(qn, qAt / 8);
    i32.set(order, orderAt / 4);
    wasm.queryEnvelope(qAt, L, r, qUAt, qLAt, scratchAt, widest);
    if (wasm.memory.buffer !== buffer) {
      buffer = wasm.memory.buffer as ArrayBuffer;
      f64 = new Float64Array(buffer);
      i32 = new Int32Array(buffer);
    }
    f64.fill(0, statsAt / 8, statsAt / 8 + 8);
    let n = 0;
    let exact = 0;
    for (let k = kLo, i = 0; k < kHi; k += 3, i++) {
      const e = plan[k]!;
      const lo = plan[k + 1]!;
      const hi = plan[k + 2]!;
      const a = offsets[e]!;
      const b = offsets[e + 1]!;
      if (e < 0 || e + 1 >= offsets.length || lo < a || hi < lo || (hi > lo && hi - 1 + L > b))
        throw new RangeError('dtwscan: a range runs past its entity');
      if (hi > lo) {
        const eLo = Math.max(a, lo - r);
        const eHi = Math.min(b, hi - 1 + L + r);
        f64.set(closes.subarray(eLo, eHi), xAt / 8);
        f64.set(sum1.subarray(lo + e, hi + L + e), s1At / 8);
        f64.set(sum2.subarray(lo + e, hi + L + e), s2At / 8);
        const before = f64[statsAt / 8 + P.ST_DTW]!;
        // Picks mode (decision 116) for an entity alone in the call: its ranges' windows could overlap.
        const alone = !(k > kLo && plan[k - 3] === e) && !(k + 3 < kHi && plan[k + 3] === e);
        const picks = alone && !(stages & P.F_WINDOWS) ? qp.picks : 0;
        const kept = wasm.scanRange(
          xAt,
          eHi - eLo,
          lo - eLo,
          hi - eLo,
          s1At,
          s2At,
          b - a,
          center[e]!,
          spread[e]!,
          tau2,
          L,
          r,
          stages,
          qAt,
          qUAt,
          qLAt,
          orderAt,
          scratchAt,
          widest,
          outTAt,
          outDAt,
          statsAt,
          picks,
        );
        exact += f64[statsAt / 8 + P.ST_DTW]! - before;
        if (kept < 0) {
          for (let s = 0; s < 8; s++) stats[s] = stats[s]! + f64[statsAt / 8 + s]!;
          return -1;
        }
        for (let x = 0; x < kept; x++) {
          out.t[n] = i32[outTAt / 4 + x]! + eLo;
          out.d2[n++] = f64[outDAt / 8 + x]!;
        }
      }
      out.end[i] = n;
    }
    for (let s = 0; s < 8; s++) stats[s] = stats[s]! + f64[statsAt / 8 + s]!;
    return exact;
  }
}
