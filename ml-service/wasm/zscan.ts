// AssemblyScript source of the z-normalised ED pre-filter (compiled by `npm run build:wasm -w ml-service`
// to zscan.wasm, which is committed; a test checks that the two agree).
//
// It only ever PRUNES: a start row is dropped when a lower bound of its distance to the query, made
// conservative by the rounding-error bounds the caller passes in, exceeds the caller's limit. Every
// window it keeps gets the exact two-pass distance in TypeScript (window-distance.ts), so what a search
// reports never depends on this file's arithmetic.
//
// Notation (see ed-kernel.ts for the derivation and the error bounds): per window of L rows starting at
// t, with the entity's prefix sums S1 (of close - centre) and S2 (of its square), and segments j < m over
// rows b_j .. b_(j+1)-1 (b_0 = 0, b_m = L) of lengths l_j:
//   g_j = S1[t+b_(j+1)] - S1[t+b_j],  sw = S1[t+L] - S1[t],  mu = sw / L,  Lv = S2[t+L] - S2[t] - sw mu,
//   P   = sum_j Q_j g_j  (= sum_j l_j Q_j (g_j / l_j - mu), as sum_j l_j Q_j = 0 but for rounding),
//   Cw  = sum_j g_j^2 / l_j - mu sw  (= sum_j l_j (g_j / l_j - mu)^2).
// With sigma^2 = Lv / L, the z-normalised window's segment means are W_j = (g_j / l_j - mu) / sigma, and
//   <Pq, Pw> = P / sigma,  |Pw|^2 = Cw / sigma^2,  |w - Pw|^2 = L - Cw / sigma^2.

// Parameter block (f64 slots; bounds as i32 at byte offsets), written by the caller per query and entity.
import {
  P_INV_L,
  P1_C,
  P1_EPS_C,
  P1_EPS_P,
  P0_C,
  P0_EPS_C,
  P0_EPS_P,
  P_CW_MIN,
  P1_Q,
  P1_INV_LEN,
  P2_Q2_PLUS_L,
  P2_RQ,
  P2_LIM,
  P2_EPS_P,
  P2_EPS_C,
  P2_LV_MIN,
  P2_L,
  P2_REL,
  P2_Q,
  P2_INV_LEN,
  P3_QSUM,
  P3_DOT_ERR,
  P3_CENTER,
  P3_EPS_MU,
  P3_Q_BYTE,
  P0_Q,
  P0_INV_LEN,
  P2_BOUNDS_BYTE,
  P1_BOUNDS_BYTE,
  P0_BOUNDS_BYTE,
} from './params';

@inline
function par(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

/** Appends the unpruned of the pair (ta, tb) to out[n..] (tb only if `both`); returns the new count. */
@inline
function keepPair(out: usize, n: i32, ta: i32, tb: i32, mask: i32, both: bool): i32 {
  store<i32>(out + (<usize>n << 2), ta);
  n += (mask & 1) ^ 1;
  if (both) {
    store<i32>(out + (<usize>n << 2), tb);
    n += ((mask >> 1) & 1) ^ 1;
  }
  return n;
}

@inline
function boundAt(p: usize, at: i32, j: i32): usize {
  return <usize>load<i32>(p + <usize>at + (<usize>j << 2)) << 3;
}

/**
 * Stage 1a, two windows per step: the PAA bound at 4 segments with the residual energy, maximised over the
 * window's unknown sigma, so it needs neither S2 nor a square root. With a = P / sqrt(Cw), the bound
 *   <q, w> <= P u + Rq sqrt(L - Cw u^2)  (u = 1 / sigma)  is at most  sqrt(L) sqrt(max(a, 0)^2 + Rq^2),
 * so d^2 >= |q|^2 + L - 2 sqrt(L (a+^2 + Rq^2)) > lim  <=>  P <= 0 or P^2 < C Cw,  with the caller's C.
 * Scans local start rows [tLo, tHi) of one entity whose prefix sums start at byte address s1, writes
 * the start rows it cannot prune to `out` (i32) and returns how many there are.
 */
export function scanZ(p: usize, s1: usize, tLo: i32, tHi: i32, out: usize): i32 {
  const c = f64x2.splat(par(p, P0_C));
  const epsC = f64x2.splat(par(p, P0_EPS_C));
  const epsP = f64x2.splat(par(p, P0_EPS_P));
  const cwMin = f64x2.splat(par(p, P_CW_MIN));
  const invL = f64x2.splat(par(p, P_INV_L));
  const qb = p + (<usize>P0_Q << 3); // the query's segment means, read as memory operands (registers are few)
  // 1 / l_j per segment, read as memory operands. (One 1 / max_j l_j for all four segments was a valid
  // but loose bound: the g_j are sums of close - centre, not of close - mu, so for a window far from its
  // entity's centre the l_j mu^2 terms it shrinks dwarf Cw, and stage 1a pruned about half as much.)
  const ib = p + (<usize>P0_INV_LEN << 3);
  const o1 = boundAt(p, P0_BOUNDS_BYTE, 1);
  const o2 = boundAt(p, P0_BOUNDS_BYTE, 2);
  const o3 = boundAt(p, P0_BOUNDS_BYTE, 3);
  const oL = boundAt(p, P0_BOUNDS_BYTE, 4);
  let n: i32 = 0;
  let t = tLo;
  // Four windows per step (two pairs), so the loop's own overhead is paid half as often.
  for (; t + 3 < tHi; t += 4) {
    const a = s1 + (<usize>t << 3);
    const m0 = prunePair(a, o1, o2, o3, oL, qb, ib, invL, c, epsC, epsP, cwMin);
    const m1 = prunePair(a + 16, o1, o2, o3, oL, qb, ib, invL, c, epsC, epsP, cwMin);
    const mask = m0 | (m1 << 2);
    // Most steps are pruned whole: skip the compaction for them.
    if (mask != 15) {
      for (let k: i32 = 0; k < 4; k++) {
        store<i32>(out + (<usize>n << 2), t + k);
        n += ((mask >> k) & 1) ^ 1;
      }
    }
  }
  for (; t < tHi; t++) {
    store<i32>(out + (<usize>n << 2), t);
    n++;
  }
  return n;
}

/** Bit i set: window i of the pair whose S1 row is at byte address a is pruned by stage 1a. */
@inline
function prunePair(
  a: usize,
  o1: usize,
  o2: usize,
  o3: usize,
  oL: usize,
  qb: usize,
  ib: usize,
  invL: v128,
  c: v128,
  epsC: v128,
  epsP: v128,
  cwMin: v128,
): i32 {
  const x0 = v128.load(a);
  const x1 = v128.load(a + o1);
  const x2 = v128.load(a + o2);
  const x3 = v128.load(a + o3);
  const xL = v128.load(a + oL);
  const g0 = f64x2.sub(x1, x0);
  const g1 = f64x2.sub(x2, x1);
  const g2 = f64x2.sub(x3, x2);
  const g3 = f64x2.sub(xL, x3);
  const pq = f64x2.add(
    f64x2.add(f64x2.mul(v128.load64_splat(qb), g0), f64x2.mul(v128.load64_splat(qb, 8), g1)),
    f64x2.add(f64x2.mul(v128.load64_splat(qb, 16), g2), f64x2.mul(v128.load64_splat(qb, 24), g3)),
  );
  const gg = f64x2.add(
    f64x2.add(
      f64x2.mul(f64x2.mul(g0, g0), v128.load64_splat(ib)),
      f64x2.mul(f64x2.mul(g1, g1), v128.load64_splat(ib, 8)),
    ),
    f64x2.add(
      f64x2.mul(f64x2.mul(g2, g2), v128.load64_splat(ib, 16)),
      f64x2.mul(f64x2.mul(g3, g3), v128.load64_splat(ib, 24)),
    ),
  );
  const sw = f64x2.sub(xL, x0);
  const cwLo = f64x2.sub(f64x2.sub(gg, f64x2.mul(f64x2.mul(sw, sw), invL)), epsC);
  const pHi = f64x2.add(pq, epsP);
  // P <= 0 or P^2 < C Cw  <=>  P |P| < C Cw  (Cw > cwMin >= 0).
  const prune = v128.and(f64x2.gt(cwLo, cwMin), f64x2.lt(f64x2.mul(pHi, f64x2.abs(pHi)), f64x2.mul(c, cwLo)));
  return i64x2.bitmask(prune);
}


/**
 * Stage 1b on stage 1a's survivors out[0..count), two at a time: the same sigma-free bound at 8 segments.
 * Compacts `out`; returns the survivors.
 */
export function stage1b(p: usize, s1: usize, count: i32, out: usize): i32 {
  const c = f64x2.splat(par(p, P1_C));
  const epsC = f64x2.splat(par(p, P1_EPS_C));
  const epsP = f64x2.splat(par(p, P1_EPS_P));
  const cwMin = f64x2.splat(par(p, P_CW_MIN));
  const invL = f64x2.splat(par(p, P_INV_L));
  const qb = p + (<usize>P1_Q << 3);
  const ib = p + (<usize>P1_INV_LEN << 3);
  const o1 = boundAt(p, P1_BOUNDS_BYTE, 1);
  const o2 = boundAt(p, P1_BOUNDS_BYTE, 2);
  const o3 = boundAt(p, P1_BOUNDS_BYTE, 3);
  const o4 = boundAt(p, P1_BOUNDS_BYTE, 4);
  const o5 = boundAt(p, P1_BOUNDS_BYTE, 5);
  const o6 = boundAt(p, P1_BOUNDS_BYTE, 6);
  const o7 = boundAt(p, P1_BOUNDS_BYTE, 7);
  const oL = boundAt(p, P1_BOUNDS_BYTE, 8);
  let n: i32 = 0;
  for (let k: i32 = 0; k < count; k += 2) {
    const ta = load<i32>(out + (<usize>k << 2));
    const tb = k + 1 < count ? load<i32>(out + (<usize>(k + 1) << 2)) : ta;
    const aa = s1 + (<usize>ta << 3);
    const ab = s1 + (<usize>tb << 3);
    let x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128, x6: v128, x7: v128, xL: v128;
    if (tb == ta + 1) {
      // Survivors come in runs: two consecutive windows load as one vector.
      x0 = v128.load(aa);
      x1 = v128.load(aa + o1);
      x2 = v128.load(aa + o2);
      x3 = v128.load(aa + o3);
      x4 = v128.load(aa + o4);
      x5 = v128.load(aa + o5);
      x6 = v128.load(aa + o6);
      x7 = v128.load(aa + o7);
      xL = v128.load(aa + oL);
    } else {
      x0 = v128.load64_lane(ab, v128.load64_zero(aa), 1);
      x1 = v128.load64_lane(ab + o1, v128.load64_zero(aa + o1), 1);
      x2 = v128.load64_lane(ab + o2, v128.load64_zero(aa + o2), 1);
      x3 = v128.load64_lane(ab + o3, v128.load64_zero(aa + o3), 1);
      x4 = v128.load64_lane(ab + o4, v128.load64_zero(aa + o4), 1);
      x5 = v128.load64_lane(ab + o5, v128.load64_zero(aa + o5), 1);
      x6 = v128.load64_lane(ab + o6, v128.load64_zero(aa + o6), 1);
      x7 = v128.load64_lane(ab + o7, v128.load64_zero(aa + o7), 1);
      xL = v128.load64_lane(ab + oL, v128.load64_zero(aa + oL), 1);
    }
    const g0 = f64x2.sub(x1, x0);
    const g1 = f64x2.sub(x2, x1);
    const g2 = f64x2.sub(x3, x2);
    const g3 = f64x2.sub(x4, x3);
    const g4 = f64x2.sub(x5, x4);
    const g5 = f64x2.sub(x6, x5);
    const g6 = f64x2.sub(x7, x6);
    const g7 = f64x2.sub(xL, x7);
    const pq = f64x2.add(
      f64x2.add(
        f64x2.add(f64x2.mul(v128.load64_splat(qb), g0), f64x2.mul(v128.load64_splat(qb, 8), g1)),
        f64x2.add(f64x2.mul(v128.load64_splat(qb, 16), g2), f64x2.mul(v128.load64_splat(qb, 24), g3)),
      ),
      f64x2.add(
        f64x2.add(f64x2.mul(v128.load64_splat(qb, 32), g4), f64x2.mul(v128.load64_splat(qb, 40), g5)),
        f64x2.add(f64x2.mul(v128.load64_splat(qb, 48), g6), f64x2.mul(v128.load64_splat(qb, 56), g7)),
      ),
    );
    const gg = f64x2.add(
      f64x2.add(
        f64x2.add(f64x2.mul(f64x2.mul(g0, g0), v128.load64_splat(ib)), f64x2.mul(f64x2.mul(g1, g1), v128.load64_splat(ib, 8))),
        f64x2.add(f64x2.mul(f64x2.mul(g2, g2), v128.load64_splat(ib, 16)), f64x2.mul(f64x2.mul(g3, g3), v128.load64_splat(ib, 24))),
      ),
      f64x2.add(
        f64x2.add(f64x2.mul(f64x2.mul(g4, g4), v128.load64_splat(ib, 32)), f64x2.mul(f64x2.mul(g5, g5), v128.load64_splat(ib, 40))),
        f64x2.add(f64x2.mul(f64x2.mul(g6, g6), v128.load64_splat(ib, 48)), f64x2.mul(f64x2.mul(g7, g7), v128.load64_splat(ib, 56))),
      ),
    );
    const sw = f64x2.sub(xL, x0);
    const cwLo = f64x2.sub(f64x2.sub(gg, f64x2.mul(f64x2.mul(sw, sw), invL)), epsC);
    const pHi = f64x2.add(pq, epsP);
    const prune = v128.and(
      f64x2.gt(cwLo, cwMin),
      v128.or(f64x2.le(pHi, f64x2.splat(0.0)), f64x2.lt(f64x2.mul(pHi, pHi), f64x2.mul(c, cwLo))),
    );
    n = keepPair(out, n, ta, tb, i64x2.bitmask(prune), k + 1 < count);
  }
  return n;
}

/**
 * Stage 2 on stage 1's survivors out[0..count), two at a time: LB at m2 segments plus the residual energy,
 *   d^2 >= |q|^2 + L - 2 (P / sigma + Rq sqrt(L - Cw / sigma^2)),
 * each term pushed to its conservative side by its error bound (windows with Lv <= P2_LV_MIN, where the
 * fixed relative error P2_REL of sigma would not hold, are kept). Compacts `out`; returns the survivors.
 */
export function stage2(p: usize, s1: usize, s2: usize, count: i32, L: i32, m2: i32, out: usize): i32 {
  const invL = f64x2.splat(par(p, P_INV_L));
  const q2PlusL = f64x2.splat(par(p, P2_Q2_PLUS_L));
  const rq2 = f64x2.splat(2.0 * par(p, P2_RQ));
  const lim = f64x2.splat(par(p, P2_LIM));
  const epsP = f64x2.splat(par(p, P2_EPS_P));
  const epsC = f64x2.splat(par(p, P2_EPS_C));
  const lf = f64x2.splat(par(p, P2_L));
  const lvMin = f64x2.splat(par(p, P2_LV_MIN));
  const relUp = f64x2.splat(1.0 + par(p, P2_REL));
  const relDown = f64x2.splat(1.0 - par(p, P2_REL));
  const one = f64x2.splat(1.0);
  const two = f64x2.splat(2.0);
  const zero = f64x2.splat(0.0);
  const qBase = p + (<usize>P2_Q << 3);
  const invBase = p + (<usize>P2_INV_LEN << 3);
  const bBase = p + <usize>P2_BOUNDS_BYTE;
  const oL: usize = <usize>L << 3;
  // An odd count gets a duplicate last lane; it is written once.
  let n: i32 = 0;
  for (let k: i32 = 0; k < count; k += 2) {
    const ta = load<i32>(out + (<usize>k << 2));
    const tb = k + 1 < count ? load<i32>(out + (<usize>(k + 1) << 2)) : ta;
    const aa = s1 + (<usize>ta << 3);
    const ab = s1 + (<usize>tb << 3);
    const adj = tb == ta + 1; // two consecutive windows load as one vector
    const x0 = adj ? v128.load(aa) : v128.load64_lane(ab, v128.load64_zero(aa), 1);
    const xL = adj ? v128.load(aa + oL) : v128.load64_lane(ab + oL, v128.load64_zero(aa + oL), 1);
    const ya = s2 + (<usize>ta << 3);
    const yb = s2 + (<usize>tb << 3);
    const y0 = adj ? v128.load(ya) : v128.load64_lane(yb, v128.load64_zero(ya), 1);
    const yL = adj ? v128.load(ya + oL) : v128.load64_lane(yb + oL, v128.load64_zero(ya + oL), 1);
    const sw = f64x2.sub(xL, x0);
    const swmu = f64x2.mul(sw, f64x2.mul(sw, invL));
    const lv = f64x2.sub(f64x2.sub(yL, y0), swmu);
    let prev = x0;
    let pq = zero;
    let gg = zero;
    // Two copies of the segment loop, so the adjacency test is not repeated per segment.
    if (adj) {
      for (let j: i32 = 0; j < m2; j++) {
        const jo = <usize>j;
        const next = v128.load(aa + (<usize>load<i32>(bBase + ((jo + 1) << 2)) << 3));
        const g = f64x2.sub(next, prev);
        prev = next;
        pq = f64x2.add(pq, f64x2.mul(v128.load64_splat(qBase + (jo << 3)), g));
        gg = f64x2.add(gg, f64x2.mul(f64x2.mul(g, g), v128.load64_splat(invBase + (jo << 3))));
      }
    } else {
      for (let j: i32 = 0; j < m2; j++) {
        const jo = <usize>j;
        const off = <usize>load<i32>(bBase + ((jo + 1) << 2)) << 3;
        const next = v128.load64_lane(ab + off, v128.load64_zero(aa + off), 1);
        const g = f64x2.sub(next, prev);
        prev = next;
        pq = f64x2.add(pq, f64x2.mul(v128.load64_splat(qBase + (jo << 3)), g));
        gg = f64x2.add(gg, f64x2.mul(f64x2.mul(g, g), v128.load64_splat(invBase + (jo << 3))));
      }
    }
    const s2v = f64x2.mul(lv, invL);
    const u = f64x2.div(one, f64x2.sqrt(s2v)); // 1 / sigma
    // Upper bound of P / sigma: scale the bound of P by u, away from zero by the relative error.
    const pr = f64x2.add(pq, epsP);
    const pu = f64x2.mul(pr, u);
    const pHi = f64x2.mul(pu, v128.bitselect(relUp, relDown, f64x2.gt(pu, zero)));
    // Lower bound of Cw / sigma^2, then the residual's upper bound sqrt(L - that).
    const cz = f64x2.mul(f64x2.sub(f64x2.sub(gg, swmu), epsC), f64x2.mul(u, u));
    const czLo = f64x2.mul(cz, v128.bitselect(relDown, relUp, f64x2.gt(cz, zero)));
    const res = f64x2.max(f64x2.sub(lf, czLo), zero);
    const lb2 = f64x2.sub(f64x2.sub(q2PlusL, f64x2.mul(two, pHi)), f64x2.mul(rq2, f64x2.sqrt(res)));
    const prune = v128.and(f64x2.gt(lb2, lim), f64x2.gt(lv, lvMin));
    n = keepPair(out, n, ta, tb, i64x2.bitmask(prune), k + 1 < count);
  }
  return n;
}

/**
 * Stage 3 on stage 2's survivors: the distance from one dot product with the query,
 *   d^2 = |q|^2 + L - 2 (sum_i q_i close_(t+i) - mu sum_i q_i) / sigma,
 * with mu and sigma from the prefix sums, pushed down by its error bounds (the dot product's, mu's, and
 * sigma's relative error, valid above P2_LV_MIN). Only the windows it cannot prune get the two-pass
 * computation in TypeScript. `closes` is the byte address of the entity's first close. Compacts `out`.
 */
export function stage3(p: usize, closes: usize, s1: usize, s2: usize, count: i32, L: i32, out: usize): i32 {
  const invL = par(p, P_INV_L);
  const q2PlusL = par(p, P2_Q2_PLUS_L);
  const lim = par(p, P2_LIM);
  const lvMin = par(p, P2_LV_MIN);
  const rel = par(p, P2_REL);
  const qSum = par(p, P3_QSUM);
  const dotErr = par(p, P3_DOT_ERR);
  const center = par(p, P3_CENTER);
  const epsMu = par(p, P3_EPS_MU);
  const qp = p + <usize>P3_Q_BYTE;
  const oL: usize = <usize>L << 3;
  const pairs = L >> 1;
  let n: i32 = 0;
  for (let k: i32 = 0; k < count; k++) {
    const t = load<i32>(out + (<usize>k << 2));
    const a = s1 + (<usize>t << 3);
    const b = s2 + (<usize>t << 3);
    const sw = load<f64>(a + oL) - load<f64>(a);
    const muc = sw * invL;
    const lv = load<f64>(b + oL) - load<f64>(b) - sw * muc;
    let keep = true;
    if (lv > lvMin) {
      const x = closes + (<usize>t << 3);
      let acc = f64x2.splat(0.0);
      for (let i: i32 = 0; i < pairs; i++) {
        const o = <usize>i << 4;
        acc = f64x2.add(acc, f64x2.mul(v128.load(qp + o), v128.load(x + o)));
      }
      let dot = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
      if (L & 1) dot += load<f64>(qp + (<usize>(L - 1) << 3)) * load<f64>(x + (<usize>(L - 1) << 3));
      const dc = dot - (muc + center) * qSum;
      const u = 1.0 / Math.sqrt(lv * invL);
      // Upper bound of (sum_i q_i (close_i - mu)) / sigma.
      const num = dc + dotErr + Math.abs(qSum) * epsMu;
      const hi = num * u * (num > 0.0 ? 1.0 + rel : 1.0 - rel);
      keep = !(q2PlusL - 2.0 * hi > lim);
    }
    if (keep) {
      store<i32>(out + (<usize>n << 2), t);
      n++;
    }
  }
  return n;
}
