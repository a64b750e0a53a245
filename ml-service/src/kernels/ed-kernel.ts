/**
 * Exact nearest windows under Euclidean distance of normalised windows ("zned", and "mean").
 *
 * Each window is first bounded from below in O(segments) with per-entity prefix sums: the PAA of the
 * normalised window (segment means (m_j - mu) / b) against the PAA of the normalised query. By
 * Cauchy-Schwarz, sum over a segment of (q_i - w_i)^2 >= len_j * (mean q - mean w)^2, so
 * LB_PAA = sqrt(sum_j len_j (Q_j - W_j)^2) <= ED (Keogh et al., "Dimensionality reduction for fast
 * similarity search", 2001). Only windows the bounds cannot reject get the direct two-pass computation,
 * with early abandoning (UCR Suite, Rakthanmanon et al. 2012).
 *
 * z-normalisation runs its cascade in a kernel (kernels.ts: native/zscan.c or wasm/zscan.ts, one
 * parameter block, wasm/params.ts); the TypeScript copy of that cascade was retired (decision 124: 6-8x
 * the WASM kernel's CPU). Where neither kernel can run — a market above the 4 GiB a wasm32 memory
 * addresses, or a thread without a free slot of that memory — every window is computed directly.
 * `mean` normalisation keeps its PAA bounds here, at 4 then 16 segments.
 *
 * Prefix sums lose precision to cancellation, so they only ever PRUNE, and only by more than a proven
 * rounding-error slack; every reported distance comes from the direct computation.
 */
import type { MarketArrays } from '../market/market-data.js';
import type { Normalization } from './window-distance.js';
import { windowDistance2 } from './window-distance.js';
import { prefilterFor, SLOT as S, type Prefilter } from './ed-prefilter.js';
import { nativeZscan, type NativeZscan } from './ed-native.js';
import { kernels } from './kernels.js';
import type { BatchDistances, ChunkScan, RangeScan, Scanner } from './seam.js';

const U = 2.3e-16; // a little above the unit roundoff 2^-52

/**
 * The reported distances are computed directly in floating point (window-distance.ts), which is itself
 * off from the exact distance by up to REF_K * L^1.5 * U * A / sigma for closes of magnitude A and a
 * window's std sigma (the mean's rounding, divided by sigma). The bounds are exact-arithmetic bounds, so
 * they prune only beyond tau + EPS_REF, and only windows whose sigma makes that error smaller than
 * EPS_REF: otherwise a price far above its moves (1e6 moving by 0.01) could see its own copy pruned.
 */
const EPS_REF = 1e-7;
const REF_K = 4;

/**
 * Smallest sigma^2 for which the direct computation's error is within EPS_REF (entity with max |close| A),
 * as A^2 times this factor of L: the factor is taken once per query, the product once per entity.
 */
function refVarFactor(L: number): number {
  return ((REF_K * L ** 1.5 * U) / EPS_REF) ** 2;
}

export interface EdQuery {
  qn: Float64Array;
  normalize: Normalization;
  /**
   * The z-normalised kernel: by default the one chosen at start (kernels.ts). Tests and the bench force
   * each to compare them.
   */
  kernel?: 'native' | 'wasm';
}

/** Precomputed PAA of the normalised query at one resolution. */
interface Paa {
  bounds: Int32Array;
  lens: Float64Array;
  invLens: Float64Array;
  means: Float64Array;
  minLen: number;
}

function paa(qn: Float64Array, segments: number): Paa {
  const L = qn.length;
  const s = Math.min(segments, L);
  const bounds = new Int32Array(s + 1);
  for (let j = 0; j <= s; j++) bounds[j] = Math.floor((j * L) / s);
  const lens = new Float64Array(s);
  const invLens = new Float64Array(s);
  const means = new Float64Array(s);
  let minLen = L;
  for (let j = 0; j < s; j++) {
    const len = bounds[j + 1]! - bounds[j]!;
    lens[j] = len;
    invLens[j] = 1 / len;
    let acc = 0;
    for (let i = bounds[j]!; i < bounds[j + 1]!; i++) acc += qn[i]!;
    means[j] = acc / len;
    if (len < minLen) minLen = len;
  }
  return { bounds, lens, invLens, means, minLen };
}

/**
 * Scans start rows [lo, hi) of entity e and calls keep(start, d2) for every candidate window whose exact
 * squared distance d2 is <= tau2 (ties kept: they are broken later by code and start).
 * Returns the number of direct (exact) computations, a measure of how well the bounds pruned.
 */
export function makeEdScanner(data: MarketArrays, q: EdQuery): Scanner {
  const { qn, normalize } = q;
  const L = qn.length;
  const sqrtL = Math.sqrt(L);
  const invL = 1 / L;
  const p4 = paa(qn, 4);
  const p16 = paa(qn, 16);
  const scratch = new Float64Array(L);
  const { sum1, closes, offsets, center, spread } = data;

  function lb2(p: Paa, base: number, muc: number, ib: number): number {
    const { bounds, lens, invLens, means } = p;
    let acc = 0;
    let prev = sum1[base + bounds[0]!]!;
    for (let j = 0; j < lens.length; j++) {
      const next = sum1[base + bounds[j + 1]!]!;
      const w = ((next - prev) * invLens[j]! - muc) * ib;
      prev = next;
      const d = means[j]! - w;
      acc += lens[j]! * d * d;
    }
    return acc;
  }

  /**
   * Every window of [lo, hi) computed directly, abandoning past tau2: the z-normalised scan where no
   * kernel can run, and the first entity's windows before any threshold exists.
   */
  function scanDirect(
    _e: number,
    lo: number,
    hi: number,
    tau2: number,
    keep: (t: number, d2: number) => void,
  ): number {
    for (let t = lo; t < hi; t++) {
      const d2 = windowDistance2(closes, t, qn, 'z', tau2, scratch);
      if (d2 !== Infinity) keep(t, d2);
    }
    return hi - lo;
  }

  function scanMean(
    e: number,
    lo: number,
    hi: number,
    tau2: number,
    keep: (t: number, d2: number) => void,
  ): number {
    const n = offsets[e + 1]! - offsets[e]!;
    const M = spread[e]!;
    const c = center[e]!;
    const eP = 2 * n * n * U * M + U;
    const eMu = eP * invL;
    const A4 = eP / p4.minLen + eMu;
    const A16 = eP / p16.minLen + eMu;
    const eMuAbs = eMu + U * (Math.abs(c) + M) * 2;
    let exact = 0;
    const tau = Math.sqrt(tau2);
    const finite = tau2 !== Infinity;
    for (let t = lo; t < hi; t++) {
      if (finite) {
        const base = t + e;
        const muc = (sum1[base + L]! - sum1[base]!) * invL;
        const mu = muc + c;
        const am = Math.abs(mu);
        if (am > 4 * eMuAbs) {
          // W_j = m_j / mu - 1 = (m_j - mu) / mu; |W_j| <= 2M / |mu| bounds the error from mu's rounding.
          const ib = 1 / mu;
          const aib = 1 / am;
          const lim4 = tau + sqrtL * (A4 + 4 * M * aib * eMuAbs) * aib;
          if (lb2(p4, base, muc, ib) > lim4 * lim4 * (1 + 1e-9)) continue;
          const lim16 = tau + sqrtL * (A16 + 4 * M * aib * eMuAbs) * aib;
          if (lb2(p16, base, muc, ib) > lim16 * lim16 * (1 + 1e-9)) continue;
        }
      }
      exact++;
      const d2 = windowDistance2(closes, t, qn, 'mean', tau2, scratch);
      if (d2 !== Infinity) keep(t, d2);
    }
    return exact;
  }

  if (normalize !== 'z') return scanMean;
  const pf = prefilterFor(data.wasm);
  // Left to the service, the kernel chosen at start (kernels.ts, ML_KERNEL); tests force each one.
  const kernel = q.kernel ?? (kernels().zned === 'native-avx2' ? 'native' : 'wasm');
  const native = kernel === 'wasm' ? null : nativeZscan();
  if (q.kernel === 'native' && !native) throw new Error('the native zscan kernel is not available');
  return pf ? makeWasmScanZ(data, qn, pf, native, scanDirect) : scanDirect;
}

/** Sum of |Q_j| over segments, sum l_j Q_j (~0: the query is centred) and sum l_j Q_j^2 of a PAA. */
function paaSums(p: Paa): { abs: number; delta: number; energy: number; maxLen: number } {
  let abs = 0;
  let sum = 0;
  let energy = 0;
  let maxLen = 0;
  for (let j = 0; j < p.means.length; j++) {
    abs += Math.abs(p.means[j]!);
    sum += p.lens[j]! * p.means[j]!;
    energy += p.lens[j]! * p.means[j]! ** 2;
    maxLen = Math.max(maxLen, p.lens[j]!);
  }
  return { abs, delta: sum, energy, maxLen };
}

/**
 * The z-normalised scan with the WASM pre-filter (wasm/zscan.ts). Stage 1 bounds two windows at a time
 * at 8 segments, without sigma: with P and Cw the window's PAA inner product and energy in raw units,
 * maximising the residual bound (<q, w> <= <Pq, Pw> + |q - Pq| |w - Pw|, |w|^2 = L) over the unknown
 * sigma gives d^2 >= |q|^2 + L - 2 sqrt(L (max(P, 0)^2 / Cw + Rq^2)). Stage 2 bounds stage 1's survivors
 * at up to 16 segments with their sigma. Only what both leave gets the exact distance here.
 *
 * Both stages add rounding-error bounds against pruning, so no window within the threshold is ever
 * dropped. Per entity of n rows whose centred closes are at most M in magnitude, U above the unit
 * roundoff: a compensated prefix sum is its exact value rounded once, so a difference of two is off by at
 * most eP = 6 U n M (eP2 = 6 U n M^2 for the squares); every further bound follows by first-order
 * propagation (|g_j| <= l_j M, |mu| <= M, |sw| <= L M), doubled where products of bounds meet.
 */
function makeWasmScanZ(
  data: MarketArrays,
  qn: Float64Array,
  pf: Prefilter,
  native: NativeZscan | null,
  fallback: RangeScan,
): Scanner {
  const L = qn.length;
  const { closes, offsets, spread } = data;
  const p0 = paa(qn, 4);
  const p1 = paa(qn, 8);
  const m2 = Math.min(16, L);
  const p2 = paa(qn, m2);
  const s0 = paaSums(p0);
  const s1 = paaSums(p1);
  const s2 = paaSums(p2);
  let q2 = 0;
  for (let i = 0; i < L; i++) q2 += qn[i]! * qn[i]!;
  const scratch = new Float64Array(L);
  const refFactor = refVarFactor(L);
  // The query's parameters are written into the thread's slot whenever another scanner used it last.
  const P = new Float64Array(pf.params.length);
  const bounds = (byte: number, b: Int32Array) => new Int32Array(P.buffer, byte, b.length).set(b);
  P[S.P_INV_L] = 1 / L;
  P.set(p1.means, S.P1_Q);
  P.set(p1.invLens, S.P1_INV_LEN);
  P[S.P2_Q2_PLUS_L] = q2 + L;
  P[S.P2_RQ] = Math.sqrt(Math.max(0, q2 - s2.energy) + 1e-12 * L) * (1 + 1e-12);
  P[S.P2_L] = L;
  P[S.P2_REL] = 2e-6 + 1e-12;
  P.set(p2.means, S.P2_Q);
  P.set(p2.invLens, S.P2_INV_LEN);
  P.set(p0.means, S.P0_Q);
  // 1 / l_j per segment: stage 1a sums g_j^2 / l_j as 1b and 2 do (see wasm/zscan.ts scanZ for why not 1 / max l_j).
  P.set(p0.invLens, S.P0_INV_LEN);
  bounds(S.P2_BOUNDS_BYTE, p2.bounds);
  bounds(S.P1_BOUNDS_BYTE, p1.bounds);
  bounds(S.P0_BOUNDS_BYTE, p0.bounds);
  let qSum = 0;
  let qAbs = 0;
  for (let i = 0; i < L; i++) {
    qSum += qn[i]!;
    qAbs += Math.abs(qn[i]!);
  }
  P[S.P3_QSUM] = qSum;
  new Float64Array(P.buffer, P.byteOffset + S.P3_Q_BYTE, L).set(qn);
  const owner = {};
  // Upper bounds of the squared residual norms |q - Pq|^2 at 4 and 8 segments.
  const rqSq = (s: ReturnType<typeof paaSums>) => Math.max(0, q2 - s.energy) * (1 + 1e-12) + 1e-12 * L;
  const rq0Sq = rqSq(s0);
  const rq1Sq = rqSq(s1);
  const errP = (s: ReturnType<typeof paaSums>, m: number, M: number, eP: number, eMu: number) =>
    // The kernel leaves out mu * sum_j l_j Q_j (zero but for rounding): |mu| <= M + eMu.
    s.abs * (eP + 2 * (m + 2) * U * s.maxLen * M) + Math.abs(s.delta) * (M + 2 * eMu + 2 * U * M);
  const errC = (p: Paa, s: ReturnType<typeof paaSums>, M: number, eP: number, eMu: number) => {
    const m = p.lens.length;
    const eG = (m * (2 * s.maxLen * M * eP + eP * eP)) / p.minLen + (m + 1) * U * L * s.maxLen * M * M;
    return 2 * eG + 2 * L * M * eMu + 2 * M * eP + 8 * U * L * M * M;
  };
  // What the native scanChunk needs to set each entity's bounds itself, as the per-entity code below does.
  P[S.C_U] = U;
  P[S.C_EPS_REF] = EPS_REF;
  P[S.C_Q2] = q2;
  P[S.C_QABS] = qAbs;
  P[S.C_REF_FACTOR] = refFactor;
  P[S.C_RQ0_SQ] = rq0Sq;
  P[S.C_RQ1_SQ] = rq1Sq;
  [
    [p0, s0, 4],
    [p1, s1, 8],
    [p2, s2, m2],
  ].forEach(([p, s, m], level) => {
    const at = S.C_PAA + S.C_PAA_STRIDE * level;
    const { abs, maxLen, delta } = s as ReturnType<typeof paaSums>;
    const { minLen, lens } = p as Paa;
    P.set([abs, maxLen, delta, minLen, lens.length, m as number], at);
  });
  const sumAt = data.sum1.byteOffset;
  const sqAt = data.sum2.byteOffset;
  const closesAt = data.closes.byteOffset;
  const out = pf.out;
  const memory = native ? new Uint8Array(data.wasm!.memory.buffer) : null;
  const chunkOut = { exact: 0, t: new Int32Array(0), d2: new Float64Array(0), end: new Int32Array(0) };
  /** Writes this query's parameters into the thread's slot when another scanner used it last. */
  const claimSlot = () => {
    if (pf.owner === owner) return;
    pf.params.set(P);
    pf.owner = owner;
  };

  const scanZWasm: RangeScan = function scanZWasm(e, lo, hi, tau2, keep) {
    // No threshold at all (the seed sample was too small): every window is computed directly.
    if (tau2 === Infinity) return fallback(e, lo, hi, tau2, keep);
    const a = offsets[e]!;
    const n = offsets[e + 1]! - a;
    const M = spread[e]!;
    const eP = 6 * U * n * M + U;
    const eP2 = 6 * U * n * M * M + U;
    const eMu = eP / L + 2 * U * M;
    const eV = eP2 + eP * M + L * M * eMu + 4 * U * L * M * M;
    const tauRef = Math.sqrt(tau2) + EPS_REF;
    const lim = tauRef * tauRef * (1 + 1e-9) + 1e-9 * L;
    const A = Math.abs(data.center[e]!) + M;
    const vRef = refFactor * A * A;
    claimSlot();
    const Ps = pf.params;
    // Stage 1 prunes iff sqrt(L (a+^2 + Rq^2)) < kappa = (|q|^2 + L - lim) / 2, i.e. P^2 < C Cw.
    const kappa = (q2 + L - lim) / 2;
    const k2 = kappa > 0 ? ((kappa * kappa) / L) * (1 - 1e-12) : -Infinity;
    const c0 = k2 - rq0Sq;
    const c1 = k2 - rq1Sq;
    Ps[S.P1_C] = c1;
    Ps[S.P1_EPS_C] = errC(p1, s1, M, eP, eMu);
    Ps[S.P1_EPS_P] = errP(s1, 8, M, eP, eMu);
    Ps[S.P0_C] = c0;
    Ps[S.P0_EPS_C] = errC(p0, s0, M, eP, eMu);
    Ps[S.P0_EPS_P] = errP(s0, 4, M, eP, eMu);
    Ps[S.P2_LIM] = lim;
    Ps[S.P2_EPS_P] = errP(s2, m2, M, eP, eMu);
    Ps[S.P2_EPS_C] = errC(p2, s2, M, eP, eMu);
    // Above this Lv, sigma^2's relative error is at most 1e-6, so one relative bound (P2_REL) serves all.
    Ps[S.P2_LV_MIN] = Math.max(1e6 * eV, L * vRef) + Number.MIN_VALUE;
    // Cw <= L sigma^2, so Cw above L vRef implies sigma^2 above vRef.
    Ps[S.P_CW_MIN] = L * vRef;
    const base = 8 * (a + e); // byte offset of the entity's prefix index 0
    // Stage 3: |sum q_i close_i| <= qAbs A, rounded L times, and as much again for mu sum q_i (sum q_i
    // itself is off by L U qAbs); mu from the prefix sums is off by eMu.
    Ps[S.P3_DOT_ERR] = 4 * L * U * qAbs * A + U;
    Ps[S.P3_CENTER] = data.center[e]!;
    Ps[S.P3_EPS_MU] = eMu + 2 * U * A;
    let count: number;
    if (memory) {
      // All four stages in one call (the native kernel reads P0_C and P1_C to skip 1a or 1b as below).
      count = native!.scan(
        memory,
        pf.paramsAt,
        sumAt + base,
        sqAt + base,
        closesAt + 8 * a,
        lo - a,
        hi - a,
        L,
        m2,
        pf.outAt,
      );
    } else {
      let first: number;
      if (c0 > 0) {
        first = pf.scanZ(pf.paramsAt, sumAt + base, lo - a, hi - a, pf.outAt);
      } else {
        // A threshold this loose lets the 4-segment bound prune nothing.
        first = hi - lo;
        for (let k = 0; k < first; k++) out[k] = lo - a + k;
      }
      if (c1 > 0) first = pf.stage1b(pf.paramsAt, sumAt + base, first, pf.outAt);
      const second = pf.stage2(pf.paramsAt, sumAt + base, sqAt + base, first, L, m2, pf.outAt);
      count = pf.stage3(pf.paramsAt, closesAt + 8 * a, sumAt + base, sqAt + base, second, L, pf.outAt);
    }
    for (let k = 0; k < count; k++) {
      const t = a + out[k]!;
      const d2 = windowDistance2(closes, t, qn, 'z', tau2, scratch);
      if (d2 !== Infinity) keep(t, d2);
    }
    return count;
  };
  if (!memory) return scanZWasm;
  // Natively, a chunk of entities goes in one call: per entity, the call into the addon, the bounds set
  // here and the exact distances of the survivors cost as much as a quarter of a search in TypeScript.
  const chunk: ChunkScan = (plan, kLo, kHi, tau2, picks = 0) => {
    claimSlot();
    let windows = 0;
    for (let k = kLo; k < kHi; k += 3) windows += plan[k + 2]! - plan[k + 1]!;
    if (chunkOut.t.length < windows) {
      chunkOut.t = new Int32Array(2 * windows);
      chunkOut.d2 = new Float64Array(2 * windows);
    }
    if (chunkOut.end.length < (kHi - kLo) / 3) chunkOut.end = new Int32Array(kHi - kLo);
    chunkOut.exact = native!.scanChunk(
      memory,
      pf.paramsAt,
      plan,
      kLo,
      kHi,
      offsets,
      spread,
      data.center,
      tau2,
      sumAt,
      sqAt,
      closesAt,
      L,
      m2,
      pf.outAt,
      chunkOut.t,
      chunkOut.d2,
      chunkOut.end,
      picks,
    );
    return chunkOut;
  };
  const distances: BatchDistances = (rows, n, out) => {
    claimSlot();
    native!.distances(memory, pf.paramsAt, closesAt, rows, n, L, out);
  };
  return Object.assign(scanZWasm, { chunk, distances });
}
