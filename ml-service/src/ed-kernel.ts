/**
 * Exact nearest windows under Euclidean distance of normalised windows ("zned", and "mean").
 *
 * Each window is first bounded from below in O(segments) with per-entity prefix sums: the PAA of the
 * normalised window (segment means (m_j - mu) / b) against the PAA of the normalised query. By
 * Cauchy-Schwarz, sum over a segment of (q_i - w_i)^2 >= len_j * (mean q - mean w)^2, so
 * LB_PAA = sqrt(sum_j len_j (Q_j - W_j)^2) <= ED (Keogh et al., "Dimensionality reduction for fast
 * similarity search", 2001), tried at 4 then 16 segments. Only windows the bounds cannot reject get the
 * direct two-pass computation, with early abandoning (UCR Suite, Rakthanmanon et al. 2012).
 *
 * Prefix sums lose precision to cancellation, so they only ever PRUNE, and only by more than a proven
 * rounding-error slack; every reported distance comes from the direct computation.
 */
import type { MarketArrays } from './market-data.js';
import type { Normalization } from './window-distance.js';
import { windowDistance2 } from './window-distance.js';

const U = 2.3e-16; // a little above the unit roundoff 2^-52

export interface EdQuery {
  qn: Float64Array;
  normalize: Normalization;
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
export function makeEdScanner(data: MarketArrays, q: EdQuery) {
  const { qn, normalize } = q;
  const L = qn.length;
  const sqrtL = Math.sqrt(L);
  const invL = 1 / L;
  const p4 = paa(qn, 4);
  const p16 = paa(qn, 16);
  const scratch = new Float64Array(L);
  const { sum1, sum2, closes, offsets, center, spread } = data;

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

  return function scanRange(
    e: number,
    lo: number,
    hi: number,
    tau2: number,
    keep: (t: number, d2: number) => void,
  ) {
    const n = offsets[e + 1]! - offsets[e]!;
    const M = spread[e]!;
    const c = center[e]!;
    // Worst-case rounding errors of prefix-sum differences (recursive summation: n^2 u max|v|).
    const eP = 2 * n * n * U * M + U;
    const eP2 = 2 * n * n * U * M * M + U;
    const eMu = eP * invL;
    const A4 = eP / p4.minLen + eMu;
    const A16 = eP / p16.minLen + eMu;
    const eVar = eP2 * invL + 2 * M * eMu + eMu * eMu + 4 * U * M * M;
    const eMuAbs = eMu + U * (Math.abs(c) + M) * 2;
    let exact = 0;
    const tau = Math.sqrt(tau2);
    const finite = Number.isFinite(tau2);
    for (let t = lo; t < hi; t++) {
      if (finite) {
        const base = t + e; // prefix index of row t inside entity e (each entity has a leading zero)
        const s0 = sum1[base]!;
        const muc = (sum1[base + L]! - s0) * invL;
        let ib: number;
        let slack: number;
        if (normalize === 'z') {
          const v = (sum2[base + L]! - sum2[base]!) * invL - muc * muc;
          if (v > 4 * eVar) {
            ib = 1 / Math.sqrt(v);
            // |W_j| <= sqrt(L) for z-normalised values; see the module comment for the error terms.
            const dW4 = A4 * ib + 2 * sqrtL * eVar * ib * ib;
            slack = sqrtL * dW4;
            const b4 = lb2(p4, base, muc, ib);
            const lim4 = tau + slack;
            if (b4 > lim4 * lim4 * (1 + 1e-9)) continue;
            const b16 = lb2(p16, base, muc, ib);
            const lim16 = tau + sqrtL * (A16 * ib + 2 * sqrtL * eVar * ib * ib);
            if (b16 > lim16 * lim16 * (1 + 1e-9)) continue;
          }
        } else {
          const mu = muc + c;
          const am = Math.abs(mu);
          if (am > 4 * eMuAbs) {
            ib = 1 / mu;
            const aib = 1 / am;
            const dW = (A4 + 2 * M * aib * eMuAbs * 2) * aib;
            slack = sqrtL * dW;
            const b4 = lb2(p4, base, muc, ib);
            const lim4 = tau + slack;
            if (b4 > lim4 * lim4 * (1 + 1e-9)) continue;
            const dW16 = (A16 + 2 * M * aib * eMuAbs * 2) * aib;
            const lim16 = tau + sqrtL * dW16;
            const b16 = lb2(p16, base, muc, ib);
            if (b16 > lim16 * lim16 * (1 + 1e-9)) continue;
          }
        }
      }
      exact++;
      const d2 = windowDistance2(closes, t, qn, normalize, tau2, scratch);
      if (d2 !== Infinity) keep(t, d2);
    }
    return exact;
  };
}
