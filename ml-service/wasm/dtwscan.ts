// AssemblyScript build of the DTW kernel (compiled by `npm run build:wasm -w ml-service` to dtwscan.wasm,
// which is committed; a test checks that the two agree): the same cascade, bounds and operation order as
// native/dtwscan.c (read that file for the reasoning), over copies of one entity's rows that
// src/kernels/dtw-wasm.ts writes into this module's own memory. It is the portable fallback where the native
// addon is not built. WASM SIMD (f64x2, decision 124): stage A's mean, std, slack and LB_Kim two windows
// at a time, both LB_Keogh (LB_Enhanced) two points a step in row order, stage B's quotients and exact
// bounds two points a step; the data envelope by van Herk. Every value a bound or the DTW compares is
// the one-window scalar path's bit for bit, except the bounds' sums, which add in another order (far
// inside SLACK).

const SLACK: f64 = 1 + 1e-9;
const U: f64 = 2.3e-16;
// Stage flags (F_*) and counters (ST_*), written once in dtw-params.ts (native/dtwscan_params.h is
// generated from it).
import {
  F_NOSTORE,
  F_KIM,
  F_KEOGH_EQ,
  F_KEOGH_EC,
  F_CUMULATIVE,
  F_COLUMNS,
  F_IMPROVED,
  ST_WINDOWS,
  ST_KIM,
  ST_KEOGH_EQ,
  ST_KEOGH_EC,
  ST_EXACT_LB,
  ST_DTW,
  ST_ABANDONED,
  ST_IMPROVED,
} from './dtw-params';

// Cancellation inside a call, as native/dtwscan.c's stop_due: the host's stopNow() (src/kernels/dtw-wasm.ts: 1
// once the search's control word is set; this module's memory is not shared, so it cannot read the word
// itself) is asked once per STOP_WORK units of work (a window counts L, a DTW the cells of its band),
// about a millisecond; scanRange then returns -1.
@external("env", "stopNow")
declare function stopNow(): i32;
const STOP_WORK: i64 = 1 << 20;
let work: i64 = 0;

@inline
function stopDue(units: i64): bool {
  work += units;
  if (work < STOP_WORK) return false;
  work = 0;
  return stopNow() != 0;
}

@inline
function f(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

@inline
function setf(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

@inline
function geti(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

@inline
function seti(p: usize, i: i32, v: i32): void {
  store<i32>(p + (<usize>i << 2), v);
}

@inline
function bump(stats: usize, i: i32): void {
  setf(stats, i, f(stats, i) + 1);
}

@inline
function outside2(v: f64, up: f64, lo: f64): f64 {
  const d = v > up ? v - up : v < lo ? lo - v : 0.0;
  return d * d;
}

/**
 * Envelope of x[0..n) with half-width r into up / lo, by van Herk / Gil-Werman as native/dtwscan.c:
 * over the rows padded by r copies of each end row (index k of the padding is row clamp(k - r)), blocks
 * of w = 2r + 1 with running max / min forward (g) and backward (h) inside each block, so the window of
 * padded rows [i, i + 2r] is max(h[i], g[i + 2r]). No deques, no branches on the data. gU, gL, hU, hL
 * hold n + 2r values each.
 */
export function envelope(x: usize, n: i32, r: i32, up: usize, lo: usize, gU: usize, gL: usize, hU: usize, hL: usize): void {
  const w = 2 * r + 1;
  const m = n + 2 * r;
  for (let b = 0; b < m; b += w) {
    const e = b + w < m ? b + w : m;
    let k = b;
    let v = f(x, clampRow(k - r, n));
    let mx = v;
    let mn = v;
    setf(gU, k, mx);
    setf(gL, k, mn);
    for (k = b + 1; k < e; k++) {
      v = f(x, clampRow(k - r, n));
      mx = max(mx, v);
      mn = min(mn, v);
      setf(gU, k, mx);
      setf(gL, k, mn);
    }
    k = e - 1;
    v = f(x, clampRow(k - r, n));
    mx = v;
    mn = v;
    setf(hU, k, mx);
    setf(hL, k, mn);
    for (k = e - 2; k >= b; k--) {
      v = f(x, clampRow(k - r, n));
      mx = max(mx, v);
      mn = min(mn, v);
      setf(hU, k, mx);
      setf(hL, k, mn);
    }
  }
  for (let i = 0; i < n; i++) {
    setf(up, i, max(f(hU, i), f(gU, i + 2 * r)));
    setf(lo, i, min(f(hL, i), f(gL, i + 2 * r)));
  }
}

@inline
function clampRow(k: i32, n: i32): i32 {
  return k < 0 ? 0 : k >= n ? n - 1 : k;
}

/**
 * The scratch a scanRange with query length L, band r and at most `widest` rows per range needs, in
 * bytes; src/kernels/dtw-wasm.ts asks for it rather than repeating the layout (scratchLayout below is the one place).
 */
export function scratchBytes(L: i32, r: i32, widest: i32): i32 {
  return <i32>(scratchLayout(0, L, r, widest, S_END));
}

// The scratch's areas, in order: the normalised window, the two exact LB_Keogh contributions, the
// cumulative row and column bounds and the column limits, the DTW's two rows, the raw envelope of the
// range's rows, LB_Improved's projection and its envelope, and van Herk's four running arrays.
const S_W: i32 = 0;
const S_CEQ: i32 = 1;
const S_CEC: i32 = 2;
const S_CBROW: i32 = 3;
const S_CBCOL: i32 = 4;
const S_UBCOL: i32 = 5;
const S_PREV: i32 = 6;
const S_CUR: i32 = 7;
const S_RAWU: i32 = 8;
const S_RAWL: i32 = 9;
const S_H: i32 = 10;
const S_HU: i32 = 11;
const S_HL: i32 = 12;
const S_GU: i32 = 13;
const S_GL: i32 = 14;
const S_VU: i32 = 15;
const S_VL: i32 = 16;
const S_HEAP: i32 = 17;
const S_STORE: i32 = 18;
const S_END: i32 = 19;

/** Byte address of scratch area `which` (S_*), every area 16-byte aligned for v128 loads. */
function scratchLayout(base: usize, L: i32, r: i32, widest: i32, which: i32): usize {
  let at = base;
  for (let a: i32 = 0; a < which; a++) {
    const len: i32 =
      a == S_CBROW || a == S_CBCOL
        ? L + 1
        : a == S_RAWU || a == S_RAWL
          ? widest
          : a == S_HEAP
            ? 2 * widest
            : a == S_STORE
              ? storeCapacity(L, widest) * (3 * L + 1)
              : a >= S_GU
                ? widest + 2 * r
                : L;
    at += ((<usize>len << 3) + 15) & ~(<usize>15);
  }
  return at;
}

/** The query's envelope (qU, qL: L values each) with the scratch's van Herk arrays (scanRange's layout). */
export function queryEnvelope(q: usize, L: i32, r: i32, qU: usize, qL: usize, scratch: usize, widest: i32): void {
  envelope(
    q,
    L,
    r,
    qU,
    qL,
    scratchLayout(scratch, L, r, widest, S_GU),
    scratchLayout(scratch, L, r, widest, S_GL),
    scratchLayout(scratch, L, r, widest, S_VU),
    scratchLayout(scratch, L, r, widest, S_VL),
  );
}

/** Sum over j in [from, to) of outside2((x_j - m) ib, up_j, lo_j), two points a step (f64x2). */
@inline
function keoghEq(x: usize, m: f64, ib: f64, up: usize, lo: usize, from: i32, to: i32, lb: f64, lim2: f64): f64 {
  const mv = f64x2.splat(m);
  const iv = f64x2.splat(ib);
  const zero = f64x2.splat(0.0);
  let acc = zero;
  let j = from;
  // Checked against the limit every 16 points (the bound seldom abandons early on random walks).
  while (j + 1 < to) {
    const stop = j + 16 < to ? j + 16 : to;
    for (; j + 1 < stop; j += 2) {
      const o = <usize>j << 3;
      const v = f64x2.mul(f64x2.sub(v128.load(x + o), mv), iv);
      const d = f64x2.max(f64x2.max(f64x2.sub(v, v128.load(up + o)), f64x2.sub(v128.load(lo + o), v)), zero);
      acc = f64x2.add(acc, f64x2.mul(d, d));
    }
    if (lb + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1) > lim2) break;
  }
  let s = lb + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (j < to && s <= lim2) s += outside2((f(x, j) - m) * ib, f(up, j), f(lo, j));
  return s;
}

/** Sum over j in [from, to) of outside2(q_j, (up_j - m) ib, (lo_j - m) ib), two points a step. */
@inline
function keoghEc(q: usize, m: f64, ib: f64, up: usize, lo: usize, from: i32, to: i32, lb: f64, lim2: f64): f64 {
  const mv = f64x2.splat(m);
  const iv = f64x2.splat(ib);
  const zero = f64x2.splat(0.0);
  let acc = zero;
  let j = from;
  while (j + 1 < to) {
    const stop = j + 16 < to ? j + 16 : to;
    for (; j + 1 < stop; j += 2) {
      const o = <usize>j << 3;
      const v = v128.load(q + o);
      const u = f64x2.mul(f64x2.sub(v128.load(up + o), mv), iv);
      const l = f64x2.mul(f64x2.sub(v128.load(lo + o), mv), iv);
      const d = f64x2.max(f64x2.max(f64x2.sub(v, u), f64x2.sub(l, v)), zero);
      acc = f64x2.add(acc, f64x2.mul(d, d));
    }
    if (lb + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1) > lim2) break;
  }
  let s = lb + f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (j < to && s <= lim2) s += outside2(f(q, j), (f(up, j) - m) * ib, (f(lo, j) - m) * ib);
  return s;
}

function dtwPruned(q: usize, w: usize, n: i32, r: i32, limit: f64, cbRow: usize, ubCol: usize, prev: usize, cur: usize): f64 {
  let p = prev;
  let c = cur;
  let pS = -1;
  let pE = -1;
  {
    const ubRow = limit - f(cbRow, 1);
    const jhi = r < n - 1 ? r : n - 1;
    let left: f64 = 0;
    for (let j = 0; j <= jhi; j++) {
      const d = f(q, 0) - f(w, j);
      const v = left + d * d;
      if (v > min(ubRow, f(ubCol, j))) break;
      setf(c, j, v);
      left = v;
      if (pS < 0) pS = j;
      pE = j;
    }
  }
  if (pS < 0) return Infinity;
  for (let i = 1; i < n; i++) {
    const t = p;
    p = c;
    c = t;
    const jlo = i - r > 0 ? i - r : 0;
    const jhi = i + r < n - 1 ? i + r : n - 1;
    const ubRow = limit - f(cbRow, i + 1);
    const qi = f(q, i);
    const start = jlo > pS ? jlo : pS;
    let nS = -1;
    let nE = -1;
    let left: f64 = Infinity;
    for (let j = start; j <= jhi; j++) {
      const up = j <= pE ? f(p, j) : Infinity;
      const diag = j - 1 >= pS && j - 1 <= pE ? f(p, j - 1) : Infinity;
      let best = up < left ? up : left;
      if (diag < best) best = diag;
      if (best == Infinity && j > pE) break;
      const d = qi - f(w, j);
      let v = best + d * d;
      if (v > min(ubRow, f(ubCol, j))) v = Infinity;
      else {
        if (nS < 0) nS = j;
        nE = j;
      }
      setf(c, j, v);
      left = v;
    }
    if (nS < 0) return Infinity;
    pS = nS;
    pE = nE;
  }
  return pE == n - 1 ? f(c, n - 1) : Infinity;
}


// One call's state, set by scanRange (the stage B, DTW and picks functions below read it; a module
// instance serves one thread, one call at a time).
let gL: i32 = 0;
let gR: i32 = 0;
let gX: usize = 0;
let gQ: usize = 0;
let gQU: usize = 0;
let gQL: usize = 0;
let gOrder: usize = 0;
let gFlags: i32 = 0;
let gFinite: bool = false;
let gLimit: f64 = 0;
let gTau2: f64 = 0;
let gRawU: usize = 0;
let gRawL: usize = 0;
let gW: usize = 0;
let gCEQ: usize = 0;
let gCEC: usize = 0;
let gCbRow: usize = 0;
let gCbCol: usize = 0;
let gUbCol: usize = 0;
let gPrev: usize = 0;
let gCur: usize = 0;
let gH: usize = 0;
let gHU: usize = 0;
let gHL: usize = 0;
let gGU: usize = 0;
let gGL: usize = 0;
let gVU: usize = 0;
let gVL: usize = 0;
let gStats: usize = 0;
let gOutT: usize = 0;
let gOutD: usize = 0;
let gKept: i32 = 0;
let gCells: i64 = 0;
// Picks mode (as native/dtwscan.c's select_picks, decision 116): at most gPicks picks for the range,
// or 0 for every window within tau2; gLazy while the range's windows are collected as candidates.
let gPicks: i32 = 0;
let gLazy: bool = false;
let gNCand: i32 = 0;
let gNStored: i32 = 0;
let gMaxStored: i32 = 0;
let gHeap: usize = 0;
let gStore: usize = 0;

/** Candidates whose DTW inputs (w, cbRow, ubCol: 3L + 1 values) are stored: up to 4 MB, as native. */
function storeCapacity(L: i32, widest: i32): i32 {
  const per: i32 = (4 << 20) / (8 * (3 * L + 1)) + 16;
  return widest < per ? widest : per;
}

/**
 * Stage B of window t (local row): the exact normalisation, both exact LB_Keogh, the cumulative bounds,
 * then the DTW, or in picks mode after the range's first match a place in the candidates' heap.
 * Returns 1 when it computed a DTW.
 */
function stageB(t: i32): i32 {
  const L = gL;
  const r = gR;
  const xt = gX + (<usize>t << 3);
  const q = gQ;
  const qU = gQU;
  const qL = gQL;
  const order = gOrder;
  const flags = gFlags;
  const finite = gFinite;
  const limit = gLimit;
  const rawU = gRawU;
  const rawL = gRawL;
  const cEQ = gCEQ;
  const cEC = gCEC;
  const cbCol = gCbCol;
  const h = gH;
  const hU = gHU;
  const hL = gHL;
  const gU = gGU;
  const gL_ = gGL;
  const vU = gVU;
  const vL = gVL;
  const stats = gStats;
  // Picks mode: once the range has a match, a candidate waits for selectPicks (before, every one is
  // farther than tau2, so none of them is a pick), its DTW inputs in a slot of the store if one is free.
  const collect = gLazy && gNCand > 0;
  const slot: i32 = collect && gNStored < gMaxStored ? gNStored : -1;
  let w = gW;
  let cbRow = gCbRow;
  let ubCol = gUbCol;
  if (slot >= 0) {
    w = gStore + ((<usize>slot * <usize>(3 * L + 1)) << 3);
    cbRow = w + (<usize>L << 3);
    ubCol = cbRow + (<usize>(L + 1) << 3);
  }
  let eq: f64 = 0;
  let ec: f64 = 0;
  const cumulative = finite && (flags & F_CUMULATIVE) != 0;
    const first = f(xt, 0);
    let flat = true;
    let sum: f64 = 0;
    for (let i = 0; i < L; i++) {
      const v = f(xt, i);
      if (v != first) flat = false;
      sum += v;
    }
    if (flat) return 0;
    const mean = sum / <f64>L;
    let ss: f64 = 0;
    for (let i = 0; i < L; i++) {
      const dd = f(xt, i) - mean;
      ss += dd * dd;
    }
    const sd = Math.sqrt(ss / <f64>L);
    // The quotients two a step: the same operation per point, so w is bit for bit the twin's.
    const meanV = f64x2.splat(mean);
    const sdV = f64x2.splat(sd);
    let i2: i32 = 0;
    for (; i2 + 1 < L; i2 += 2) {
      const o = <usize>i2 << 3;
      v128.store(w + o, f64x2.div(f64x2.sub(v128.load(xt + o), meanV), sdV));
    }
    if (i2 < L) setf(w, i2, (f(xt, i2) - mean) / sd);
    if (cumulative) {
      // Both exact LB_Keogh two points a step (each term as the twin's; the sums in another order, far
      // inside SLACK); the cumulative bounds below stay sequential.
      const zero = f64x2.splat(0.0);
      let eqV = zero;
      let ecV = zero;
      const ru = rawU + (<usize>t << 3);
      const rl = rawL + (<usize>t << 3);
      let i: i32 = 0;
      for (; i + 1 < L; i += 2) {
        const o = <usize>i << 3;
        const v = v128.load(w + o);
        let d = f64x2.max(f64x2.max(f64x2.sub(v, v128.load(qU + o)), f64x2.sub(v128.load(qL + o), v)), zero);
        d = f64x2.mul(d, d);
        v128.store(cEQ + o, d);
        eqV = f64x2.add(eqV, d);
        const qv = v128.load(q + o);
        const u = f64x2.div(f64x2.sub(v128.load(ru + o), meanV), sdV);
        const l = f64x2.div(f64x2.sub(v128.load(rl + o), meanV), sdV);
        let e = f64x2.max(f64x2.max(f64x2.sub(qv, u), f64x2.sub(l, qv)), zero);
        e = f64x2.mul(e, e);
        v128.store(cEC + o, e);
        ecV = f64x2.add(ecV, e);
      }
      eq = f64x2.extract_lane(eqV, 0) + f64x2.extract_lane(eqV, 1);
      ec = f64x2.extract_lane(ecV, 0) + f64x2.extract_lane(ecV, 1);
      if (i < L) {
        const a = outside2(f(w, i), f(qU, i), f(qL, i));
        setf(cEQ, i, a);
        eq += a;
        const b = outside2(f(q, i), (f(rawU, t + i) - mean) / sd, (f(rawL, t + i) - mean) / sd);
        setf(cEC, i, b);
        ec += b;
      }
      if (eq > limit || ec > limit) {
        bump(stats, ST_EXACT_LB);
        return 0;
      }
      if (flags & F_IMPROVED) {
        for (let i = 0; i < L; i++) {
          const v = f(w, i);
          setf(h, i, v > f(qU, i) ? f(qU, i) : v < f(qL, i) ? f(qL, i) : v);
        }
        envelope(h, L, r, hU, hL, gU, gL_, vU, vL);
        let imp = eq;
        for (let s = 0; s < L && imp <= limit; s++) {
          const i = geti(order, s);
          imp += outside2(f(q, i), f(hU, i), f(hL, i));
        }
        if (imp > limit) {
          bump(stats, ST_IMPROVED);
          return 0;
        }
      }
      setf(cbRow, L, 0);
      setf(cbCol, L, 0);
      for (let i = L - 1; i >= 0; i--) {
        setf(cbRow, i, f(cbRow, i + 1) + f(cEC, i));
        setf(cbCol, i, f(cbCol, i + 1) + f(cEQ, i));
      }
      for (let j = 0; j < L; j++) setf(ubCol, j, flags & F_COLUMNS ? limit - f(cbCol, j + 1) : Infinity);
    } else {
      for (let i = 0; i <= L; i++) setf(cbRow, i, 0);
      for (let j = 0; j < L; j++) setf(ubCol, j, Infinity);
    }
  if (collect) {
    // The window waits with a lower bound of its distance as key (0 without the cumulative bounds), a
    // hair below so that rounding in the bound's sums can never order it after a window of smaller
    // distance: the larger of LB_Keogh and LB_Enhanced (V = 2) from the exact values, as native.
    let key: f64 = cumulative ? max(eq, ec) : 0;
    if (cumulative && L >= 6) {
      let a1 = f(q, 0) - f(w, 1);
      let a2 = f(q, 1) - f(w, 0);
      let a3 = f(q, 1) - f(w, 1);
      const d0 = f(q, 0) - f(w, 0);
      const d1 = f(q, L - 1) - f(w, L - 1);
      let kim = d0 * d0 + d1 * d1 + min(a1 * a1, min(a2 * a2, a3 * a3));
      a1 = f(q, L - 1) - f(w, L - 2);
      a2 = f(q, L - 2) - f(w, L - 1);
      a3 = f(q, L - 2) - f(w, L - 2);
      kim += min(a1 * a1, min(a2 * a2, a3 * a3));
      let me: f64 = 0;
      let mc: f64 = 0;
      for (let j = 2; j <= L - 3; j++) {
        me += f(cEQ, j);
        mc += f(cEC, j);
      }
      const enh = kim + max(me, mc);
      if (enh > key) key = enh;
    }
    if (slot >= 0) gNStored++;
    candPush(key / SLACK, t, slot);
    return 0;
  }
  const before = gKept;
  dtwAppend(t, w, cbRow, ubCol);
  if (gLazy && gKept > before) {
    // Picks mode: the range's first match waits with its distance; the windows after it are collected.
    gKept = before;
    candPush(f(gOutD, before), t, CAND_EXACT);
  }
  return 1;
}

/** Stage B's DTW of window t (normalised w, cumulative bounds cbRow and ubCol); appends it within tau2. */
function dtwAppend(t: i32, w: usize, cbRow: usize, ubCol: usize): void {
  bump(gStats, ST_DTW);
  const d2 = dtwPruned(gQ, w, gL, gR, gFinite ? gLimit : Infinity, cbRow, ubCol, gPrev, gCur);
  if (d2 != Infinity && d2 <= gTau2) {
    seti(gOutT, gKept, t);
    setf(gOutD, gKept, d2);
    gKept++;
  } else bump(gStats, ST_ABANDONED);
}

// The candidates' heap: 16 bytes each, key (f64: a lower bound of the distance, or the distance), start
// (i32) and info (i32: the store slot, -1 for none, or CAND_EXACT when the key is the distance).
const CAND_EXACT: i32 = -2;

@inline
function candLess(ka: f64, ta: i32, kb: f64, tb: i32): bool {
  return ka < kb || (ka == kb && ta < tb);
}

function candPush(key: f64, t: i32, info: i32): void {
  let i = gNCand++;
  while (i > 0) {
    const up = (i - 1) >> 1;
    const u = gHeap + (<usize>up << 4);
    if (!candLess(key, t, load<f64>(u), load<i32>(u, 8))) break;
    const d = gHeap + (<usize>i << 4);
    store<f64>(d, load<f64>(u));
    store<i32>(d, load<i32>(u, 8), 8);
    store<i32>(d, load<i32>(u, 12), 12);
    i = up;
  }
  const d = gHeap + (<usize>i << 4);
  store<f64>(d, key);
  store<i32>(d, t, 8);
  store<i32>(d, info, 12);
}

let popKey: f64 = 0;
let popT: i32 = 0;
let popInfo: i32 = 0;

/** Takes the heap's lowest entry into popKey / popT / popInfo. */
function candPop(): void {
  popKey = load<f64>(gHeap);
  popT = load<i32>(gHeap, 8);
  popInfo = load<i32>(gHeap, 12);
  const n = --gNCand;
  const last = gHeap + (<usize>n << 4);
  const lk = load<f64>(last);
  const lt = load<i32>(last, 8);
  const li = load<i32>(last, 12);
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const a = gHeap + (<usize>l << 4);
    let m = l;
    if (l + 1 < n) {
      const b = a + 16;
      if (candLess(load<f64>(b), load<i32>(b, 8), load<f64>(a), load<i32>(a, 8))) m = l + 1;
    }
    const mm = gHeap + (<usize>m << 4);
    if (!candLess(load<f64>(mm), load<i32>(mm, 8), lk, lt)) break;
    const d = gHeap + (<usize>i << 4);
    store<f64>(d, load<f64>(mm));
    store<i32>(d, load<i32>(mm, 8), 8);
    store<i32>(d, load<i32>(mm, 12), 12);
    i = m;
  }
  if (n > 0) {
    const d = gHeap + (<usize>i << 4);
    store<f64>(d, lk);
    store<i32>(d, lt, 8);
    store<i32>(d, li, 12);
  }
}

/**
 * Picks mode: the greedy picks among the range's candidates, appended to the outputs instead of every
 * window within tau2 (native/dtwscan.c's select_picks, which says why they are greedy's). Returns -1
 * when stopNow() stopped it.
 */
function selectPicks(): i32 {
  const L = gL;
  const first = 0;
  let picks = 0;
  gLazy = false;
  while (gNCand > 0 && picks < gPicks) {
    candPop();
    const t = popT;
    let blocked = false;
    for (let x = first; x < gKept && !blocked; x++) {
      const p = geti(gOutT, x);
      blocked = t < p + L && p < t + L;
    }
    if (blocked) continue;
    if (popInfo == CAND_EXACT) {
      seti(gOutT, gKept, t);
      setf(gOutD, gKept, popKey);
      gKept++;
      picks++;
      continue;
    }
    const before = gKept;
    if (popInfo >= 0) {
      const w = gStore + ((<usize>popInfo * <usize>(3 * L + 1)) << 3);
      dtwAppend(t, w, w + (<usize>L << 3), w + (<usize>(2 * L + 1) << 3));
    } else stageB(t);
    if (stopDue(gCells)) return -1;
    if (gKept > before) {
      // Within tau2: back into the heap with its distance.
      const d = f(gOutD, before);
      gKept = before;
      candPush(d, t, CAND_EXACT);
    }
  }
  gLazy = true;
  return 0;
}

/**
 * Windows starting at local rows [tLo, tHi) of the copied rows `x` (rows [0, rows) of the entity from
 * some first row on), with prefix sums s1 / s2 copied from prefix index (tLo's row + entity) on, so window
 * tl's prefix base is tl - tLo. Scratch at `scratch` (see src/kernels/dtw-wasm.ts for its layout). Writes the
 * kept windows' local rows and squared distances to outT / outD and returns how many, or -1 when
 * stopNow() stopped it (then the outputs are partial); stats as the native kernel's.
 */
export function scanRange(
  x: usize,
  rows: i32,
  tLo: i32,
  tHi: i32,
  s1: usize,
  s2: usize,
  n: f64,
  c: f64,
  M: f64,
  tau2: f64,
  L: i32,
  r: i32,
  flags: i32,
  q: usize,
  qU: usize,
  qL: usize,
  order: usize,
  scratch: usize,
  widest: i32,
  outT: usize,
  outD: usize,
  stats: usize,
  picks: i32,
): i32 {
  const w = scratchLayout(scratch, L, r, widest, S_W);
  const cEQ = scratchLayout(scratch, L, r, widest, S_CEQ);
  const cEC = scratchLayout(scratch, L, r, widest, S_CEC);
  const cbRow = scratchLayout(scratch, L, r, widest, S_CBROW);
  const cbCol = scratchLayout(scratch, L, r, widest, S_CBCOL);
  const ubCol = scratchLayout(scratch, L, r, widest, S_UBCOL);
  const prev = scratchLayout(scratch, L, r, widest, S_PREV);
  const cur = scratchLayout(scratch, L, r, widest, S_CUR);
  const rawU = scratchLayout(scratch, L, r, widest, S_RAWU);
  const rawL = scratchLayout(scratch, L, r, widest, S_RAWL);
  const h = scratchLayout(scratch, L, r, widest, S_H);
  const hU = scratchLayout(scratch, L, r, widest, S_HU);
  const hL = scratchLayout(scratch, L, r, widest, S_HL);
  const runU = scratchLayout(scratch, L, r, widest, S_GU);
  const runL = scratchLayout(scratch, L, r, widest, S_GL);
  const vU = scratchLayout(scratch, L, r, widest, S_VU);
  const vL = scratchLayout(scratch, L, r, widest, S_VL);
  const invL: f64 = 1.0 / <f64>L;
  const sqrtL = Math.sqrt(<f64>L);
  const eP = 2 * n * n * U * M + U;
  const eP2 = 2 * n * n * U * M * M + U;
  const eMu = eP * invL + 2 * U * (Math.abs(c) + M);
  const eVar = eP2 * invL + 2 * M * eMu + eMu * eMu + 4 * U * M * M;
  const varFloor = 4 * eVar;
  const tau = Math.sqrt(tau2) * SLACK;
  const finite = tau2 != Infinity;
  const limit = tau2 * SLACK;
  if (finite && tHi > tLo) envelope(x, rows, r, rawU, rawL, runU, runL, vU, vL);
  gL = L;
  gR = r;
  gX = x;
  gQ = q;
  gQU = qU;
  gQL = qL;
  gOrder = order;
  gFlags = flags;
  gFinite = finite;
  gLimit = limit;
  gTau2 = tau2;
  gRawU = rawU;
  gRawL = rawL;
  gW = w;
  gCEQ = cEQ;
  gCEC = cEC;
  gCbRow = cbRow;
  gCbCol = cbCol;
  gUbCol = ubCol;
  gPrev = prev;
  gCur = cur;
  gH = h;
  gHU = hU;
  gHL = hL;
  gGU = runU;
  gGL = runL;
  gVU = vU;
  gVL = vL;
  gStats = stats;
  gOutT = outT;
  gOutD = outD;
  gKept = 0;
  gCells = <i64>L * <i64>(2 * r + 1);
  gPicks = picks;
  gLazy = picks > 0;
  gNCand = 0;
  gNStored = 0;
  gHeap = scratchLayout(scratch, L, r, widest, S_HEAP);
  gStore = scratchLayout(scratch, L, r, widest, S_STORE);
  gMaxStored = flags & F_NOSTORE ? 0 : storeCapacity(L, widest);
  setf(stats, ST_WINDOWS, f(stats, ST_WINDOWS) + <f64>(tHi - tLo));
  const cells: i64 = <i64>L * <i64>(2 * r + 1);
  // Stage A's first part two windows at a time (f64x2): each window's mean and std from the prefix sums,
  // its slack and LB_Kim, the same operations lane by lane as one window at a time, so every value is
  // the one-window path's. Window t - tLo even computes the pair (t, t + 1); t + 1 past tHi is a lane
  // read from memory past the range and never used.
  const invLv = f64x2.splat(invL);
  const varFloorV = f64x2.splat(varFloor);
  const eMuV = f64x2.splat(eMu);
  const kV = f64x2.splat(2.4 * M * eVar);
  const tauV = f64x2.splat(tau);
  const sqrtLV = f64x2.splat(sqrtL);
  const cV = f64x2.splat(c);
  const oneV = f64x2.splat(1.0);
  const q0 = f64x2.splat(f(q, 0));
  const q1 = f64x2.splat(f(q, 1));
  const qE0 = f64x2.splat(f(q, L - 1));
  const qE1 = f64x2.splat(f(q, L - 2));
  const oL = <usize>L << 3;
  const kimOn = (flags & F_KIM) != 0;
  const corners = kimOn && L >= 4;
  let pairOk: i32 = 0; // bit k: window t + k has v > varFloor
  let pairKim: i32 = 0; // bit k: LB_Kim prunes window t + k
  let vIb = oneV;
  let vM = oneV;
  let vLim2 = oneV;
  let vKim = oneV;
  for (let t = tLo; t < tHi; t++) {
    if (stopDue(<i64>L)) return -1;
    const xt = x + (<usize>t << 3);
    if (finite) {
      const lane = (t - tLo) & 1;
      if (lane == 0) {
        const a1 = s1 + (<usize>(t - tLo) << 3);
        const a2 = s2 + (<usize>(t - tLo) << 3);
        const muc = f64x2.mul(f64x2.sub(v128.load(a1 + oL), v128.load(a1)), invLv);
        const v = f64x2.sub(f64x2.mul(f64x2.sub(v128.load(a2 + oL), v128.load(a2)), invLv), f64x2.mul(muc, muc));
        pairOk = i64x2.bitmask(f64x2.gt(v, varFloorV));
        if (pairOk) {
          vIb = f64x2.div(oneV, f64x2.sqrt(v));
          const dW = f64x2.mul(f64x2.add(eMuV, f64x2.mul(f64x2.mul(kV, vIb), vIb)), vIb);
          const lim = f64x2.add(tauV, f64x2.mul(sqrtLV, dW));
          vLim2 = f64x2.mul(lim, lim);
          vM = f64x2.add(cV, muc);
          const x0 = f64x2.mul(f64x2.sub(v128.load(xt), vM), vIb);
          const y0 = f64x2.mul(f64x2.sub(v128.load(xt + oL - 8), vM), vIb);
          let d = f64x2.sub(q0, x0);
          vKim = f64x2.mul(d, d);
          d = f64x2.sub(qE0, y0);
          vKim = f64x2.add(vKim, f64x2.mul(d, d));
          if (corners) {
            // The corner cells' minima (LB_Kim's second slices): added to the bound, so it prunes when
            // either the two-cell or the full bound would.
            const x1 = f64x2.mul(f64x2.sub(v128.load(xt + 8), vM), vIb);
            const y1 = f64x2.mul(f64x2.sub(v128.load(xt + oL - 16), vM), vIb);
            let b1 = f64x2.sub(q0, x1);
            let b2 = f64x2.sub(q1, x0);
            let b3 = f64x2.sub(q1, x1);
            vKim = f64x2.add(vKim, f64x2.min(f64x2.mul(b1, b1), f64x2.min(f64x2.mul(b2, b2), f64x2.mul(b3, b3))));
            b1 = f64x2.sub(qE0, y1);
            b2 = f64x2.sub(qE1, y0);
            b3 = f64x2.sub(qE1, y1);
            vKim = f64x2.add(vKim, f64x2.min(f64x2.mul(b1, b1), f64x2.min(f64x2.mul(b2, b2), f64x2.mul(b3, b3))));
          }
          pairKim = kimOn ? i64x2.bitmask(f64x2.gt(vKim, vLim2)) & pairOk : 0;
        }
      }
      if ((pairOk >> lane) & 1) {
        if ((pairKim >> lane) & 1) {
          bump(stats, ST_KIM);
          continue;
        }
        const ib = lane ? f64x2.extract_lane(vIb, 1) : f64x2.extract_lane(vIb, 0);
        const m = lane ? f64x2.extract_lane(vM, 1) : f64x2.extract_lane(vM, 0);
        const lim2 = lane ? f64x2.extract_lane(vLim2, 1) : f64x2.extract_lane(vLim2, 0);
        const kim = lane ? f64x2.extract_lane(vKim, 1) : f64x2.extract_lane(vKim, 0);
        // LB_Enhanced with V = 2 (as native/dtwscan.c): LB_Kim's corner slices plus LB_Keogh over the
        // points 2 .. L-3, both ways.
        const V: i32 = flags & F_KIM && L >= 4 ? 2 : 0;
        const lb0: f64 = V > 0 ? kim : 0;
        let lb: f64 = lb0;
        if (flags & F_KEOGH_EQ) lb = keoghEq(xt, m, ib, qU, qL, V, L - V, lb0, lim2);
        if (lb > lim2) {
          bump(stats, ST_KEOGH_EQ);
          continue;
        }
        lb = lb0;
        const rt = <usize>t << 3;
        if (flags & F_KEOGH_EC) lb = keoghEc(q, m, ib, rawU + rt, rawL + rt, V, L - V, lb0, lim2);
        if (lb > lim2) {
          bump(stats, ST_KEOGH_EC);
          continue;
        }
      }
    }
    if (stageB(t)) {
      if (stopDue(cells)) return -1;
    }
  }
  if (gLazy) {
    if (selectPicks() < 0) return -1;
  }
  return gKept;
}

