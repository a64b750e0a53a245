/**
 * Exact nearest windows under Sakoe-Chiba banded DTW of z-normalised windows.
 *
 * The search runs one of three kernels behind one interface (DtwKernel), chosen once per thread:
 * "native" (native/dtwscan.c, a node-gyp addon), "wasm" (wasm/dtwscan.ts, the portable fallback) or
 * "ts" (the reference implementation below, kept as the readable statement of the cascade and as the last
 * fallback). ML_DTW_KERNEL overrides the choice. The native and WASM kernels run the cascade of the UCR
 * Suite (Rakthanmanon et al., "Searching and mining trillions of time series subsequences under DTW",
 * KDD 2012): LB_Kim, LB_Keogh of the window against the query's envelope, LB_Keogh of the query against
 * the window's envelope (read from the entity's raw envelope), then the exact DTW with cells pruned
 * against the threshold and both cumulative LB_Keogh bounds and abandoned when a row has no live cell
 * (EAPrunedDTW, Herrmann and Webb, "Early abandoning PrunedDTW", DAMI 2021). See
 * docs/decisions/077-native-dtw-kernel.md for what each step bought.
 *
 * Distances are sqrt of the sum of squared point differences along the best path in the band, computed
 * with the slow twin's operations in its order, so every kernel reports the twin's values bit for bit.
 */
import type { RangeScan } from './seam.js';
import type { MarketArrays } from '../market/market-data.js';
import { normalizeWindow } from './window-distance.js';

// Bounds are compared with a hair of slack so rounding in a bound never rejects a window it should not.
const SLACK = 1 + 1e-9;
const U = 2.3e-16; // a little above the unit roundoff 2^-52

export interface DtwQuery {
  qn: Float64Array;
  /** Band half-width in rows. */
  band: number;
}

/** Envelope of x with half-width r: upper[i] = max x[i-r..i+r], lower[i] = min (Lemire's deques). */
export function envelope(x: Float64Array, r: number, upper: Float64Array, lower: Float64Array): void {
  const n = x.length;
  const du = new Int32Array(n);
  const dl = new Int32Array(n);
  let uh = 0;
  let ut = 0;
  let lh = 0;
  let lt = 0;
  let next = 0; // next index to push
  for (let i = 0; i < n; i++) {
    const hiIdx = Math.min(n - 1, i + r);
    while (next <= hiIdx) {
      while (ut > uh && x[du[ut - 1]!]! <= x[next]!) ut--;
      du[ut++] = next;
      while (lt > lh && x[dl[lt - 1]!]! >= x[next]!) lt--;
      dl[lt++] = next;
      next++;
    }
    while (du[uh]! < i - r) uh++;
    while (dl[lh]! < i - r) lh++;
    upper[i] = x[du[uh]!]!;
    lower[i] = x[dl[lh]!]!;
  }
}

/** Banded DTW (squared), abandoning once every path must exceed limit2; returns Infinity when abandoned. */
export function dtw2(
  a: Float64Array,
  b: Float64Array,
  r: number,
  limit2: number,
  cb: Float64Array | null,
  prev: Float64Array,
  cur: Float64Array,
): number {
  const n = a.length;
  prev.fill(Infinity);
  let p = prev;
  let c = cur;
  for (let i = 0; i < n; i++) {
    c.fill(Infinity);
    const jlo = Math.max(0, i - r);
    const jhi = Math.min(n - 1, i + r);
    let rowMin = Infinity;
    for (let j = jlo; j <= jhi; j++) {
      const d = a[i]! - b[j]!;
      let best: number;
      if (i === 0 && j === 0) best = 0;
      else {
        best = p[j]!; // (i-1, j)
        if (j > 0) {
          const left = c[j - 1]!;
          if (left < best) best = left;
          const diag = p[j - 1]!;
          if (diag < best) best = diag;
        }
      }
      const v = best + d * d;
      c[j] = v;
      if (v < rowMin) rowMin = v;
    }
    const rest = cb && i + r + 1 < n ? cb[i + r + 1]! : 0;
    if (rowMin + rest > limit2 * SLACK) return Infinity;
    const t = p;
    p = c;
    c = t;
  }
  return p[n - 1]!;
}

/** The reference cascade in TypeScript: scans start rows [lo, hi) of entity e (see RangeScan). */
export function makeTsDtwRange(data: MarketArrays, q: DtwQuery): RangeScan {
  const { qn, band: r } = q;
  const L = qn.length;
  const qU = new Float64Array(L);
  const qL = new Float64Array(L);
  envelope(qn, r, qU, qL);
  const w = new Float64Array(L);
  const wU = new Float64Array(L);
  const wL = new Float64Array(L);
  const contrib = new Float64Array(L);
  const cb = new Float64Array(L + 1);
  const prev = new Float64Array(L);
  const cur = new Float64Array(L);
  const { closes, sum1, sum2, offsets, center, spread } = data;
  const invL = 1 / L;
  const sqrtL = Math.sqrt(L);

  return function scanRange(
    e: number,
    lo: number,
    hi: number,
    tau2: number,
    keep: (t: number, d2: number) => void,
  ) {
    const limit = tau2 * SLACK;
    // Stage A bounds each window from its prefix-sum mean and std without normalising it; rounding in
    // those sums is covered by a proven per-window slack (as in ed-kernel.ts), so only exact bounds prune.
    const n = offsets[e + 1]! - offsets[e]!;
    const M = spread[e]!;
    const c = center[e]!;
    const eP = 2 * n * n * U * M + U;
    const eP2 = 2 * n * n * U * M * M + U;
    const eMu = eP * invL + 2 * U * (Math.abs(c) + M);
    const eVar = eP2 * invL + 2 * M * eMu + eMu * eMu + 4 * U * M * M;
    const varFloor = 4 * eVar;
    const tau = Math.sqrt(tau2) * SLACK;
    const finite = tau2 !== Infinity;
    let exact = 0;
    for (let t = lo; t < hi; t++) {
      if (finite) {
        const base = t + e;
        const muc = (sum1[base + L]! - sum1[base]!) * invL;
        const v = (sum2[base + L]! - sum2[base]!) * invL - muc * muc;
        if (v > varFloor) {
          const ib = 1 / Math.sqrt(v);
          // |w'_j - w_j| <= dW for every j: mean error, plus |x - mu| <= 2M times sigma's relative error.
          const dW = (eMu + 2.4 * M * eVar * ib * ib) * ib;
          const lim = tau + sqrtL * dW;
          const lim2 = lim * lim;
          let d = qn[0]! - (closes[t]! - c - muc) * ib;
          let kim = d * d;
          d = qn[L - 1]! - (closes[t + L - 1]! - c - muc) * ib;
          kim += d * d;
          if (kim > lim2) continue;
          let keogh = 0;
          for (let j = 0; j < L && keogh <= lim2; j++) {
            const x = (closes[t + j]! - c - muc) * ib;
            const o = x > qU[j]! ? x - qU[j]! : x < qL[j]! ? qL[j]! - x : 0;
            keogh += o * o;
          }
          if (keogh > lim2) continue;
        }
      }
      if (!normalizeWindow(closes, t, L, 'z', w)) continue;
      let keogh = 0;
      for (let j = 0; j < L && keogh <= limit; j++) {
        const v = w[j]!;
        const x = v > qU[j]! ? v - qU[j]! : v < qL[j]! ? qL[j]! - v : 0;
        contrib[j] = x * x;
        keogh += x * x;
      }
      if (keogh > limit) continue;
      envelope(w, r, wU, wL);
      let keogh2 = 0;
      for (let i = 0; i < L && keogh2 <= limit; i++) {
        const v = qn[i]!;
        const x = v > wU[i]! ? v - wU[i]! : v < wL[i]! ? wL[i]! - v : 0;
        keogh2 += x * x;
      }
      if (keogh2 > limit) continue;
      cb[L] = 0;
      for (let j = L - 1; j >= 0; j--) cb[j] = cb[j + 1]! + contrib[j]!;
      exact++;
      const d2 = dtw2(qn, w, r, tau2, cb, prev, cur);
      if (d2 !== Infinity && d2 <= tau2) keep(t, d2);
    }
    return exact;
  };
}
