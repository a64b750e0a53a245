// AssemblyScript build of the DTW kernel (compiled by `npm run build:wasm -w ml-service` to dtwscan.wasm,
// which is committed; a test checks that the two agree): the same cascade, bounds and operation order as
// native/dtwscan.c (read that file for the reasoning), over copies of one entity's rows that
// src/kernels/dtw-wasm.ts writes into this module's own memory. It is the portable fallback where the native
// addon is not built.

const SLACK: f64 = 1 + 1e-9;
const U: f64 = 2.3e-16;
const F_KIM: i32 = 1;
const F_KEOGH_EQ: i32 = 2;
const F_KEOGH_EC: i32 = 4;
const F_CUMULATIVE: i32 = 8;
const F_COLUMNS: i32 = 16;
const F_IMPROVED: i32 = 32;
const ST_WINDOWS: i32 = 0;
const ST_KIM: i32 = 1;
const ST_KEOGH_EQ: i32 = 2;
const ST_KEOGH_EC: i32 = 3;
const ST_EXACT_LB: i32 = 4;
const ST_DTW: i32 = 5;
const ST_ABANDONED: i32 = 6;
const ST_IMPROVED: i32 = 7;

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

/** Envelope of x[0..n) with half-width r into up / lo (Lemire's deques in du / dl). */
export function envelope(x: usize, n: i32, r: i32, up: usize, lo: usize, du: usize, dl: usize): void {
  let uh = 0;
  let ut = 0;
  let lh = 0;
  let lt = 0;
  let next = 0;
  for (let i = 0; i < n; i++) {
    const hi = i + r < n - 1 ? i + r : n - 1;
    while (next <= hi) {
      while (ut > uh && f(x, geti(du, ut - 1)) <= f(x, next)) ut--;
      seti(du, ut++, next);
      while (lt > lh && f(x, geti(dl, lt - 1)) >= f(x, next)) lt--;
      seti(dl, lt++, next);
      next++;
    }
    while (geti(du, uh) < i - r) uh++;
    while (geti(dl, lh) < i - r) lh++;
    setf(up, i, f(x, geti(du, uh)));
    setf(lo, i, f(x, geti(dl, lh)));
  }
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
): i32 {
  const w = scratch;
  const cEQ = w + (<usize>L << 3);
  const cEC = cEQ + (<usize>L << 3);
  const cbRow = cEC + (<usize>L << 3);
  const cbCol = cbRow + (<usize>(L + 1) << 3);
  const ubCol = cbCol + (<usize>(L + 1) << 3);
  const prev = ubCol + (<usize>L << 3);
  const cur = prev + (<usize>L << 3);
  const rawU = cur + (<usize>L << 3);
  const rawL = rawU + (<usize>widest << 3);
  const du = rawL + (<usize>widest << 3);
  const dl = du + (<usize>widest << 2);
  const h = dl + (<usize>widest << 2);
  const hU = h + (<usize>L << 3);
  const hL = hU + (<usize>L << 3);
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
  if (finite && tHi > tLo) envelope(x, rows, r, rawU, rawL, du, dl);
  let kept = 0;
  setf(stats, ST_WINDOWS, f(stats, ST_WINDOWS) + <f64>(tHi - tLo));
  const cells: i64 = <i64>L * <i64>(2 * r + 1);
  for (let t = tLo; t < tHi; t++) {
    if (stopDue(<i64>L)) return -1;
    const xt = x + (<usize>t << 3);
    if (finite) {
      const base = t - tLo;
      const muc = (f(s1, base + L) - f(s1, base)) * invL;
      const v = (f(s2, base + L) - f(s2, base)) * invL - muc * muc;
      if (v > varFloor) {
        const ib = 1 / Math.sqrt(v);
        const dW = (eMu + 2.4 * M * eVar * ib * ib) * ib;
        const lim = tau + sqrtL * dW;
        const lim2 = lim * lim;
        const m = c + muc;
        const x0 = (f(xt, 0) - m) * ib;
        const x1 = (f(xt, 1) - m) * ib;
        const y0 = (f(xt, L - 1) - m) * ib;
        const y1 = (f(xt, L - 2) - m) * ib;
        let d = f(q, 0) - x0;
        let kim = d * d;
        d = f(q, L - 1) - y0;
        kim += d * d;
        if ((flags & F_KIM) && kim > lim2) {
          bump(stats, ST_KIM);
          continue;
        }
        if ((flags & F_KIM) && L >= 4) {
          let a1 = f(q, 0) - x1;
          let a2 = f(q, 1) - x0;
          let a3 = f(q, 1) - x1;
          kim += min(a1 * a1, min(a2 * a2, a3 * a3));
          a1 = f(q, L - 1) - y1;
          a2 = f(q, L - 2) - y0;
          a3 = f(q, L - 2) - y1;
          kim += min(a1 * a1, min(a2 * a2, a3 * a3));
          if (kim > lim2) {
            bump(stats, ST_KIM);
            continue;
          }
        }
        // LB_Enhanced with V = 2 (as native/dtwscan.c): LB_Kim's corner slices plus LB_Keogh over the
        // points 2 .. L-3, both ways.
        const V: i32 = flags & F_KIM && L >= 4 ? 2 : 0;
        const lb0: f64 = V > 0 ? kim : 0;
        let lb: f64 = lb0;
        if (flags & F_KEOGH_EQ) {
          for (let s = 0; s < L && lb <= lim2; s++) {
            const j = geti(order, s);
            if (j < V || j > L - 1 - V) continue;
            lb += outside2((f(xt, j) - m) * ib, f(qU, j), f(qL, j));
          }
        }
        if (lb > lim2) {
          bump(stats, ST_KEOGH_EQ);
          continue;
        }
        lb = lb0;
        if (flags & F_KEOGH_EC) {
          for (let s = 0; s < L && lb <= lim2; s++) {
            const j = geti(order, s);
            if (j < V || j > L - 1 - V) continue;
            lb += outside2(f(q, j), (f(rawU, t + j) - m) * ib, (f(rawL, t + j) - m) * ib);
          }
        }
        if (lb > lim2) {
          bump(stats, ST_KEOGH_EC);
          continue;
        }
      }
    }
    const first = f(xt, 0);
    let flat = true;
    let sum: f64 = 0;
    for (let i = 0; i < L; i++) {
      const v = f(xt, i);
      if (v != first) flat = false;
      sum += v;
    }
    if (flat) continue;
    const mean = sum / <f64>L;
    let ss: f64 = 0;
    for (let i = 0; i < L; i++) {
      const dd = f(xt, i) - mean;
      ss += dd * dd;
    }
    const sd = Math.sqrt(ss / <f64>L);
    for (let i = 0; i < L; i++) setf(w, i, (f(xt, i) - mean) / sd);
    if (finite && (flags & F_CUMULATIVE)) {
      let eq: f64 = 0;
      let ec: f64 = 0;
      for (let i = 0; i < L; i++) {
        const a = outside2(f(w, i), f(qU, i), f(qL, i));
        setf(cEQ, i, a);
        eq += a;
        const b = outside2(f(q, i), (f(rawU, t + i) - mean) / sd, (f(rawL, t + i) - mean) / sd);
        setf(cEC, i, b);
        ec += b;
      }
      if (eq > limit || ec > limit) {
        bump(stats, ST_EXACT_LB);
        continue;
      }
      if (flags & F_IMPROVED) {
        for (let i = 0; i < L; i++) {
          const v = f(w, i);
          setf(h, i, v > f(qU, i) ? f(qU, i) : v < f(qL, i) ? f(qL, i) : v);
        }
        envelope(h, L, r, hU, hL, du, dl);
        let imp = eq;
        for (let s = 0; s < L && imp <= limit; s++) {
          const i = geti(order, s);
          imp += outside2(f(q, i), f(hU, i), f(hL, i));
        }
        if (imp > limit) {
          bump(stats, ST_IMPROVED);
          continue;
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
    bump(stats, ST_DTW);
    const d2 = dtwPruned(q, w, L, r, finite ? limit : Infinity, cbRow, ubCol, prev, cur);
    if (d2 != Infinity && d2 <= tau2) {
      seti(outT, kept, t);
      setf(outD, kept, d2);
      kept++;
    } else bump(stats, ST_ABANDONED);
    if (stopDue(cells)) return -1;
  }
  return kept;
}
