// Native AVX2 build of the z-normalised ED pre-filter: the same four pruning stages as wasm/zscan.ts,
// with the same bounds and the same parameter block, four windows per 256-bit vector instead of two per
// 128-bit one (V8's WASM SIMD code keeps stage 1a near 4 ns a window; this runs it near 1.3).
//
// It only ever PRUNES. Every bound is the one wasm/zscan.ts documents (derivation and error bounds in
// src/kernels/ed-kernel.ts), computed with separately rounded operations: no FMA contraction (binding.gyp passes
// -ffp-contract=off). The rounding-error bounds the caller passes in hold for any order of summation, so
// they hold here as there. Every window it keeps gets the exact two-pass distance (exact_d2, bit for bit
// window-distance.ts's): scan() leaves that to the caller, scanChunk() computes it, for every window
// within the threshold or, in picks mode, lazily for each stock's greedy picks (lazy_picks, decision 141).
// test/ed-prefilter.test.ts runs the same exactness cases through this kernel (per range, per chunk, in
// picks mode), the WASM one and the direct scan.
//
// Built by node-gyp on `npm install` (binding.gyp). src/kernels/ed-native.ts loads it; where it is missing or
// the CPU has no AVX2, search uses the WASM kernel.
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

// The parameter block (wasm/params.ts, the one definition; this header is generated from it).
#include "napi_args.h"
#include "zscan_params.h"

#define AVX2 __attribute__((target("avx2")))

static inline const int32_t *bounds_at(const uint8_t *p, int at) { return (const int32_t *)(p + at); }

/** A query's constants, splatted once per entity. */
typedef struct {
  __m256d invL, cwMin, signBit, zero;
  // stage 1a
  __m256d c0, epsC0, epsP0, il0[4], q0[4];
  int o0[5];
  // stage 1b
  __m256d c1, epsC1, epsP1, q1[8], il1[8];
  int o1[9];
  // stage 2
  __m256d q2PlusL, rq2, lim, epsP2, epsC2, lf, lvMin, relUp, relDown, one, two;
  __m256d q2[16], il2[16];
  long o2[17];
  const double *par;
} Consts;

AVX2 static void consts_init(Consts *k, const uint8_t *p) {
  const double *par = (const double *)p;
  k->par = par;
  k->invL = _mm256_set1_pd(par[P_INV_L]);
  k->cwMin = _mm256_set1_pd(par[P_CW_MIN]);
  k->signBit = _mm256_set1_pd(-0.0);
  k->zero = _mm256_setzero_pd();
  k->c0 = _mm256_set1_pd(par[P0_C]);
  k->epsC0 = _mm256_set1_pd(par[P0_EPS_C]);
  k->epsP0 = _mm256_set1_pd(par[P0_EPS_P]);
  for (int j = 0; j < 4; j++) {
    k->q0[j] = _mm256_set1_pd(par[P0_Q + j]);
    k->il0[j] = _mm256_set1_pd(par[P0_INV_LEN + j]);
  }
  for (int j = 0; j < 5; j++) k->o0[j] = bounds_at(p, P0_BOUNDS_BYTE)[j];
  k->c1 = _mm256_set1_pd(par[P1_C]);
  k->epsC1 = _mm256_set1_pd(par[P1_EPS_C]);
  k->epsP1 = _mm256_set1_pd(par[P1_EPS_P]);
  for (int j = 0; j < 8; j++) {
    k->q1[j] = _mm256_set1_pd(par[P1_Q + j]);
    k->il1[j] = _mm256_set1_pd(par[P1_INV_LEN + j]);
  }
  for (int j = 0; j < 9; j++) k->o1[j] = bounds_at(p, P1_BOUNDS_BYTE)[j];
  k->q2PlusL = _mm256_set1_pd(par[P2_Q2_PLUS_L]);
  k->rq2 = _mm256_set1_pd(2.0 * par[P2_RQ]);
  k->lim = _mm256_set1_pd(par[P2_LIM]);
  k->epsP2 = _mm256_set1_pd(par[P2_EPS_P]);
  k->epsC2 = _mm256_set1_pd(par[P2_EPS_C]);
  k->lf = _mm256_set1_pd(par[P2_L]);
  k->lvMin = _mm256_set1_pd(par[P2_LV_MIN]);
  k->relUp = _mm256_set1_pd(1.0 + par[P2_REL]);
  k->relDown = _mm256_set1_pd(1.0 - par[P2_REL]);
  k->one = _mm256_set1_pd(1.0);
  k->two = _mm256_set1_pd(2.0);
  // Stage 2's segments (m2 <= 16; the slots past m2 are never read).
  for (int j = 0; j < 16; j++) {
    k->q2[j] = _mm256_set1_pd(par[P2_Q + j]);
    k->il2[j] = _mm256_set1_pd(par[P2_INV_LEN + j]);
  }
  for (int j = 0; j < 17; j++) k->o2[j] = bounds_at(p, P2_BOUNDS_BYTE)[j];
}

/*
 * Each stage below bounds the four consecutive windows whose prefix sums start at a (and b for S2) and
 * returns a 4-bit mask, bit k set when window k is pruned. The loads are plain unaligned vector loads:
 * the windows are consecutive, so no gathers (slow on this hardware) are needed.
 */

/** Stage 1b: the same bound at 8 segments (stage1b in wasm/zscan.ts). */
AVX2 static inline int stage1b(const Consts *k, const double *a) {
  const int *o = k->o1;
  const __m256d x0 = _mm256_loadu_pd(a);
  __m256d prev = x0;
  // Two accumulators per sum: half the chain of dependent adds. (The error bounds the caller passes
  // hold for any order of summation.)
  __m256d pa = k->zero, pb = k->zero, ga = k->zero, gb = k->zero;
#pragma GCC unroll 4
  for (int j = 0; j < 8; j += 2) {
    const __m256d n0 = _mm256_loadu_pd(a + o[j + 1]);
    const __m256d n1 = _mm256_loadu_pd(a + o[j + 2]);
    const __m256d h0 = _mm256_sub_pd(n0, prev);
    const __m256d h1 = _mm256_sub_pd(n1, n0);
    prev = n1;
    pa = _mm256_add_pd(pa, _mm256_mul_pd(k->q1[j], h0));
    pb = _mm256_add_pd(pb, _mm256_mul_pd(k->q1[j + 1], h1));
    ga = _mm256_add_pd(ga, _mm256_mul_pd(_mm256_mul_pd(h0, h0), k->il1[j]));
    gb = _mm256_add_pd(gb, _mm256_mul_pd(_mm256_mul_pd(h1, h1), k->il1[j + 1]));
  }
  const __m256d pq = _mm256_add_pd(pa, pb), gg = _mm256_add_pd(ga, gb);
  const __m256d sw = _mm256_sub_pd(prev, x0);
  const __m256d cwLo = _mm256_sub_pd(_mm256_sub_pd(gg, _mm256_mul_pd(_mm256_mul_pd(sw, sw), k->invL)), k->epsC1);
  const __m256d pHi = _mm256_add_pd(pq, k->epsP1);
  return _mm256_movemask_pd(_mm256_and_pd(
      _mm256_cmp_pd(cwLo, k->cwMin, _CMP_GT_OQ),
      _mm256_or_pd(_mm256_cmp_pd(pHi, k->zero, _CMP_LE_OQ),
                   _mm256_cmp_pd(_mm256_mul_pd(pHi, pHi), _mm256_mul_pd(k->c1, cwLo), _CMP_LT_OQ))));
}

/** Stage 2: m2 segments with sigma, plus the residual (stage2 in wasm/zscan.ts). */
AVX2 static inline int stage2(const Consts *k, const double *a, const double *b, int L, int m2) {
  const __m256d x0 = _mm256_loadu_pd(a), xL = _mm256_loadu_pd(a + L);
  const __m256d y0 = _mm256_loadu_pd(b), yL = _mm256_loadu_pd(b + L);
  const __m256d sw = _mm256_sub_pd(xL, x0);
  const __m256d swmu = _mm256_mul_pd(sw, _mm256_mul_pd(sw, k->invL));
  const __m256d lv = _mm256_sub_pd(_mm256_sub_pd(yL, y0), swmu);
  // Four accumulators per sum, so the chains of dependent adds are a quarter as long (the caller's
  // error bounds hold for any order of summation).
  __m256d prev = x0;
  __m256d p0 = k->zero, p1 = k->zero, p2 = k->zero, p3 = k->zero;
  __m256d c0 = k->zero, c1 = k->zero, c2 = k->zero, c3 = k->zero;
#define SEG(j, pa, ca)                                                              \
  do {                                                                              \
    const __m256d next = _mm256_loadu_pd(a + k->o2[(j) + 1]);                       \
    const __m256d g = _mm256_sub_pd(next, prev);                                    \
    prev = next;                                                                    \
    pa = _mm256_add_pd(pa, _mm256_mul_pd(k->q2[j], g));                             \
    ca = _mm256_add_pd(ca, _mm256_mul_pd(_mm256_mul_pd(g, g), k->il2[j]));          \
  } while (0)
  int j = 0;
  for (; j + 3 < m2; j += 4) {
    SEG(j, p0, c0);
    SEG(j + 1, p1, c1);
    SEG(j + 2, p2, c2);
    SEG(j + 3, p3, c3);
  }
  for (; j < m2; j++) SEG(j, p0, c0);
#undef SEG
  const __m256d pq = _mm256_add_pd(_mm256_add_pd(p0, p1), _mm256_add_pd(p2, p3));
  const __m256d gg = _mm256_add_pd(_mm256_add_pd(c0, c1), _mm256_add_pd(c2, c3));
  const __m256d u = _mm256_div_pd(k->one, _mm256_sqrt_pd(_mm256_mul_pd(lv, k->invL))); // 1 / sigma
  // Upper bound of P / sigma, away from zero by the relative error of sigma.
  const __m256d pu = _mm256_mul_pd(_mm256_add_pd(pq, k->epsP2), u);
  const __m256d pHi = _mm256_mul_pd(pu, _mm256_blendv_pd(k->relDown, k->relUp, _mm256_cmp_pd(pu, k->zero, _CMP_GT_OQ)));
  // Lower bound of Cw / sigma^2, then the residual's upper bound sqrt(L - that).
  const __m256d cz = _mm256_mul_pd(_mm256_sub_pd(_mm256_sub_pd(gg, swmu), k->epsC2), _mm256_mul_pd(u, u));
  const __m256d czLo = _mm256_mul_pd(cz, _mm256_blendv_pd(k->relUp, k->relDown, _mm256_cmp_pd(cz, k->zero, _CMP_GT_OQ)));
  const __m256d res = _mm256_max_pd(_mm256_sub_pd(k->lf, czLo), k->zero);
  const __m256d lb2 =
      _mm256_sub_pd(_mm256_sub_pd(k->q2PlusL, _mm256_mul_pd(k->two, pHi)), _mm256_mul_pd(k->rq2, _mm256_sqrt_pd(res)));
  // Ordered compares: a NaN (from lv <= 0) never prunes.
  return _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(lb2, k->lim, _CMP_GT_OQ), _mm256_cmp_pd(lv, k->lvMin, _CMP_GT_OQ)));
}

/**
 * A lower bound of the squared distance exact_d2 computes for a window whose stage-3 bound is lb. Stage 3
 * prunes against threshold T iff lb > lim(T) = (sqrt(T) + EPS_REF)^2 (1 + 1e-9) + 1e-9 L (P2_LIM, as
 * scanZWasm in src/kernels/ed-kernel.ts sets it), and that is sound for every T (none of its error terms
 * depend on T), so the computed distance exceeds every T below T* = (sqrt((lb - 1e-9 L) / (1 + 1e-9)) -
 * EPS_REF)^2, i.e. it is at least T*. Taken 1e-9 lower still against this formula's own rounding.
 */
static inline double key_of(const double *par, double lb) {
  const double x = (lb - 1e-9 * par[P2_L]) / (1 + 1e-9);
  if (!(x > 0)) return -__builtin_inf();
  const double r = __builtin_sqrt(x) - par[C_EPS_REF];
  if (!(r > 0)) return -__builtin_inf();
  return r * r * (1 - 1e-9);
}

/**
 * Stage 3: 1 when window t cannot be pruned by its distance from one dot product (stage3 in wasm/zscan.ts).
 * When it keeps the window and key is not NULL, *key is a lower bound of the squared distance exact_d2
 * computes for it (-INFINITY when none is known): see key_of.
 */
AVX2 static inline int stage3(const double *par, const double *q, const double *closes, const double *s1,
                              const double *s2, int t, int L, double *key) {
  const double invL = par[P_INV_L];
  const double sw = s1[t + L] - s1[t];
  const double muc = sw * invL;
  const double lv = s2[t + L] - s2[t] - sw * muc;
  if (!(lv > par[P2_LV_MIN])) {
    if (key) *key = -__builtin_inf();
    return 1;
  }
  const double *x = closes + t;
  __m256d acc = _mm256_setzero_pd();
  int i = 0;
  for (; i + 3 < L; i += 4) acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_loadu_pd(q + i), _mm256_loadu_pd(x + i)));
  double lanes[4];
  _mm256_storeu_pd(lanes, acc);
  // Any order of summation: P3_DOT_ERR bounds the dot product's rounding for every order.
  double dot = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < L; i++) dot += q[i] * x[i];
  const double qSum = par[P3_QSUM];
  const double dc = dot - (muc + par[P3_CENTER]) * qSum;
  const double u = 1.0 / __builtin_sqrt(lv * invL);
  // Upper bound of (sum_i q_i (close_i - mu)) / sigma.
  const double num = dc + par[P3_DOT_ERR] + __builtin_fabs(qSum) * par[P3_EPS_MU];
  const double rel = par[P2_REL];
  const double hi = num * u * (num > 0.0 ? 1.0 + rel : 1.0 - rel);
  const double lb = par[P2_Q2_PLUS_L] - 2.0 * hi;
  if (lb > par[P2_LIM]) return 0;
  if (key) *key = key_of(par, lb);
  return 1;
}

/** Groups of four consecutive windows that stage 1a left some of, waiting for the later stages. */
#define BATCH 256
typedef struct {
  int t[BATCH];
  int mask[BATCH]; // bit j set: window t + j is pruned
  int count;
} Batch;

/**
 * Stages 1b, 2 and 3 for a batch of groups; appends the survivors' rows to out[n..] in order and returns
 * the new count. Each stage runs over the whole batch before the next, so the groups' independent work
 * overlaps in the pipeline instead of waiting on one group's chain of latencies and branches.
 */
AVX2 __attribute__((noinline)) static int finish_batch(const Consts *k, Batch *b, const double *s1,
                                                      const double *s2, const double *closes, int L, int m2,
                                                      int use1b, int32_t *out, double *keys, int n) {
  int g = b->count;
  if (use1b) {
    int kept = 0;
    for (int i = 0; i < g; i++) {
      const int t = b->t[i];
      const int mask = b->mask[i] | stage1b(k, s1 + t);
      b->t[kept] = t;
      b->mask[kept] = mask;
      if (mask != 15) {
        // Stage 2 reads S2, which nothing has touched yet: start fetching its two lines now, so the
        // misses overlap with the rest of this pass instead of stalling stage 2 one group at a time.
        _mm_prefetch((const char *)(s2 + t), _MM_HINT_T0);
        _mm_prefetch((const char *)(s2 + t + L + 3), _MM_HINT_T0);
        kept++;
      }
    }
    g = kept;
  }
  int kept = 0;
  for (int i = 0; i < g; i++) {
    const int t = b->t[i];
    const int mask = b->mask[i] | stage2(k, s1 + t, s2 + t, L, m2);
    b->t[kept] = t;
    b->mask[kept] = mask;
    kept += mask != 15;
  }
  const double *q = (const double *)((const uint8_t *)k->par + P3_Q_BYTE);
  for (int i = 0; i < kept; i++) {
    for (int j = 0; j < 4; j++) {
      if ((b->mask[i] >> j) & 1) continue;
      out[n] = b->t[i] + j;
      n += stage3(k->par, q, closes, s1, s2, b->t[i] + j, L, keys ? keys + n : NULL);
    }
  }
  b->count = 0;
  return n;
}

/**
 * All stages over local start rows [tLo, tHi), four consecutive windows at a time: stage 1a for every
 * group, the later stages only for a group some window of which the stage before left. Writes the
 * survivors' rows to out in order and returns how many. Stage 1a is skipped when the threshold is too
 * loose for it (P0_C <= 0), 1b likewise (P1_C <= 0). The last (tHi - tLo) mod 4 rows go to stage 3 alone.
 */
AVX2 static int scan_entity(const uint8_t *p, const double *s1, const double *s2, const double *closes, int tLo,
                            int tHi, int L, int m2, int32_t *out, double *keys) {
  Consts k;
  consts_init(&k, p);
  const double *par = k.par;
  const int use1b = par[P1_C] > 0;
  int n = 0;
  int t = tLo;
  Batch batch;
  batch.count = 0;
#define PUSH(tt, mm)                                                                             \
  do {                                                                                           \
    batch.t[batch.count] = (tt);                                                                 \
    batch.mask[batch.count] = (mm);                                                              \
    if (++batch.count == BATCH) n = finish_batch(&k, &batch, s1, s2, closes, L, m2, use1b, out, keys, n); \
  } while (0)
  if (par[P0_C] > 0) {
    // Stage 1a: 4 segments, sigma-free (scanZ in wasm/zscan.ts): prune iff P |P| < C Cw. Everything it
    // needs is a local here, so the loop runs from registers.
    const __m256d c = k.c0, epsC = k.epsC0, epsP = k.epsP0, invL = k.invL, cwMin = k.cwMin;
    const __m256d il0 = k.il0[0], il1 = k.il0[1], il2 = k.il0[2], il3 = k.il0[3];
    const __m256d q0 = k.q0[0], q1 = k.q0[1], q2 = k.q0[2], q3 = k.q0[3], signBit = k.signBit;
    const long o1 = k.o0[1], o2 = k.o0[2], o3 = k.o0[3], oL = k.o0[4];
#define STAGE1A_MASK(a, mask)                                                                                   \
  do {                                                                                                          \
    const __m256d x0 = _mm256_loadu_pd(a), x1 = _mm256_loadu_pd(a + o1), x2 = _mm256_loadu_pd(a + o2);         \
    const __m256d x3 = _mm256_loadu_pd(a + o3), xL = _mm256_loadu_pd(a + oL);                                   \
    const __m256d g0 = _mm256_sub_pd(x1, x0), g1 = _mm256_sub_pd(x2, x1);                                       \
    const __m256d g2 = _mm256_sub_pd(x3, x2), g3 = _mm256_sub_pd(xL, x3);                                       \
    const __m256d pq = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(q0, g0), _mm256_mul_pd(q1, g1)),              \
                                     _mm256_add_pd(_mm256_mul_pd(q2, g2), _mm256_mul_pd(q3, g3)));             \
    const __m256d gg = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(g0, g0), il0),                 \
                                                   _mm256_mul_pd(_mm256_mul_pd(g1, g1), il1)),                \
                                     _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(g2, g2), il2),                 \
                                                   _mm256_mul_pd(_mm256_mul_pd(g3, g3), il3)));               \
    const __m256d sw = _mm256_sub_pd(xL, x0);                                                                   \
    const __m256d cwLo = _mm256_sub_pd(_mm256_sub_pd(gg, _mm256_mul_pd(_mm256_mul_pd(sw, sw), invL)), epsC);    \
    const __m256d pHi = _mm256_add_pd(pq, epsP);                                                                \
    const __m256d lhs = _mm256_mul_pd(pHi, _mm256_andnot_pd(signBit, pHi));                                     \
    mask = _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(cwLo, cwMin, _CMP_GT_OQ),                             \
                                            _mm256_cmp_pd(lhs, _mm256_mul_pd(c, cwLo), _CMP_LT_OQ)));           \
  } while (0)
    // Two groups per step: one branch for eight windows, most of which are pruned together.
    for (; t + 7 < tHi; t += 8) {
      int m0, m1;
      STAGE1A_MASK(s1 + t, m0);
      STAGE1A_MASK(s1 + t + 4, m1);
      if ((m0 & m1) == 15) continue;
      if (m0 != 15) PUSH(t, m0);
      if (m1 != 15) PUSH(t + 4, m1);
    }
    for (; t + 3 < tHi; t += 4) {
      int m0;
      STAGE1A_MASK(s1 + t, m0);
      if (m0 != 15) PUSH(t, m0);
    }
#undef STAGE1A_MASK
  } else {
    for (; t + 3 < tHi; t += 4) PUSH(t, 0);
  }
#undef PUSH
  n = finish_batch(&k, &batch, s1, s2, closes, L, m2, use1b, out, keys, n);
  const double *q = (const double *)(p + P3_Q_BYTE);
  for (; t < tHi; t++) {
    out[n] = t;
    n += stage3(par, q, closes, s1, s2, t, L, keys ? keys + n : NULL);
  }
  return n;
}
/** errP of src/kernels/ed-kernel.ts for PAA level x: the rounding bound of the kernel's P at that level. */
static double err_p(const double *par, int x, double M, double eP, double eMu) {
  const double *c = par + C_PAA + C_PAA_STRIDE * x;
  const double U = par[C_U];
  return c[0] * (eP + 2 * (c[5] + 2) * U * c[1] * M) + __builtin_fabs(c[2]) * (M + 2 * eMu + 2 * U * M);
}

/** errC of src/kernels/ed-kernel.ts for PAA level x: the rounding bound of the kernel's Cw at that level. */
static double err_c(const double *par, int x, double L, double M, double eP, double eMu) {
  const double *c = par + C_PAA + C_PAA_STRIDE * x;
  const double U = par[C_U];
  const double m = c[4];
  const double eG = (m * (2 * c[1] * M * eP + eP * eP)) / c[3] + (m + 1) * U * L * c[1] * M * M;
  return 2 * eG + 2 * L * M * eMu + 2 * M * eP + 8 * U * L * M * M;
}

/**
 * The exact squared distance of the z-normalised window at x to q, abandoned (INFINITY) once past
 * limit2, INFINITY for a flat window: the same operations in the same order as normalizeWindow and
 * windowDistance2 in src/kernels/window-distance.ts, so the value is bit for bit the one TypeScript computes.
 */
static double exact_d2(const double *x, const double *q, int L, double limit2) {
  const double first = x[0];
  int flat = 1;
  double sum = 0;
  for (int i = 0; i < L; i++) {
    const double v = x[i];
    if (v != first) flat = 0;
    sum += v;
  }
  if (flat) return __builtin_inf();
  const double mean = sum / L;
  double ss = 0;
  for (int i = 0; i < L; i++) {
    const double d = x[i] - mean;
    ss += d * d;
  }
  const double sd = __builtin_sqrt(ss / L);
  double acc = 0;
  for (int i = 0; i < L; i++) {
    const double d = q[i] - (x[i] - mean) / sd;
    acc += d * d;
    if (acc > limit2) return __builtin_inf();
  }
  return acc;
}

/** Makes *buf hold at least n elements of size bytes (doubling); 0 when out of memory. */
static int grow(void **buf, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return 1;
  size_t c = *cap ? *cap : 1024;
  while (c < n) c *= 2;
  void *b = realloc(*buf, c * size);
  if (!b) return 0;
  *buf = b;
  *cap = c;
  return 1;
}

/** A window waiting for the picks: v is its key (a lower bound, exact = 0) or its exact distance. */
typedef struct {
  double v;
  int32_t t;
  int32_t exact;
} Item;

/** Heap order: ascending v; on equal v a key before an exact distance; then ascending start row. */
static inline int item_less(const Item *a, const Item *b) {
  if (a->v != b->v) return a->v < b->v;
  if (a->exact != b->exact) return a->exact < b->exact;
  return a->t < b->t;
}

static void heap_push(Item *h, int *n, Item x) {
  int i = (*n)++;
  while (i > 0) {
    const int up = (i - 1) / 2;
    if (!item_less(&x, &h[up])) break;
    h[i] = h[up];
    i = up;
  }
  h[i] = x;
}

static Item heap_pop(Item *h, int *n) {
  const Item top = h[0];
  const Item last = h[--(*n)];
  int i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && item_less(&h[c + 1], &h[c])) c++;
    if (!item_less(&h[c], &last)) break;
    h[i] = h[c];
    i = c;
  }
  if (*n > 0) h[i] = last;
  return top;
}

/**
 * One entity's greedy picks (greedyPicks in src/search/top-picks.ts: ascending distance, ties by start, a
 * window overlapping a taken one skipped, at most K, only within tau2) from its stage-3 survivors
 * h[0 .. n) keyed by lower bounds of their distances, computing exact distances lazily: the smallest item
 * is taken when it is an exact distance (every other item's distance is at least its value, and on a tie
 * a key comes first, so the window it stands for is resolved before); a key is replaced by its exact
 * distance, unless its window overlaps a pick, which then came strictly before it in greedy's order
 * (the pick's distance is below this key), so greedy skips it whatever its distance. Writes the picks to
 * outT / outD from nOut in greedy order; returns the new nOut. *exact counts the distances computed.
 */
static int64_t lazy_picks(Item *h, int n, const double *closes, int64_t base, const double *q, int L, double tau2,
                          int K, int32_t *outT, double *outD, int64_t nOut, int64_t *exact) {
  // Heapify.
  int size = 0;
  for (int i = 0; i < n; i++) heap_push(h, &size, h[i]);
  const int64_t first = nOut;
  while (size > 0 && nOut - first < K) {
    const Item it = heap_pop(h, &size);
    if (it.v > tau2) break;
    int blocked = 0;
    for (int64_t j = first; j < nOut; j++) {
      const int32_t p = outT[j];
      if (it.t < p + L && p < it.t + L) {
        blocked = 1;
        break;
      }
    }
    if (blocked) continue;
    if (it.exact) {
      outT[nOut] = it.t;
      outD[nOut] = it.v;
      nOut++;
      continue;
    }
    const double d2 = exact_d2(closes + (it.t - base), q, L, tau2);
    (*exact)++;
    if (d2 == __builtin_inf()) continue; // beyond tau2: never a pick, and greedy never saw it
    const Item x = {d2, it.t, 1};
    heap_push(h, &size, x);
  }
  return nOut;
}

static int has_avx2(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return known;
}
#else
// Elsewhere the addon loads but reports no AVX2, and search keeps the WASM kernel.
static int has_avx2(void) { return 0; }
#endif

/** The byte address of a typed array's first element, or NULL with a pending JS error. */
static uint8_t *bytes_of(napi_env env, napi_value v, size_t *length) {
  napi_typedarray_type type;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "zscan: expected a Uint8Array over the market memory");
    return NULL;
  }
  *length = len;
  return (uint8_t *)data;
}

/** 1 on a CPU with AVX2; else 0 with a pending JS error. */
static int avx2_or_throw(napi_env env, const char *message) {
  if (has_avx2()) return 1;
  napi_throw_error(env, NULL, message);
  return 0;
}

/**
 * scan(memory: Uint8Array, p, s1, s2, closes, tLo, tHi, L, m2, out): byte addresses into memory, as the
 * WASM exports take them. Runs stage 1a (or keeps every row when the 4-segment bound cannot prune: P0_C
 * <= 0), 1b (when P1_C > 0), 2 and 3 over local start rows [tLo, tHi) and returns how many survive in out.
 */
static napi_value Scan(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!args_of(env, info, argv, 10, "zscan.scan: expected 10 arguments")) return NULL;
  size_t len;
  uint8_t *mem = bytes_of(env, argv[0], &len);
  if (!mem) return NULL;
  static const int intArgs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t a[9];
  if (!ints_of(env, argv, intArgs, 9, a, "zscan.scan: expected integer arguments")) return NULL;
  const int64_t p = a[0], s1 = a[1], s2 = a[2], closes = a[3], tLo = a[4], tHi = a[5], L = a[6], m2 = a[7], out = a[8];
  // Every address the stages touch stays inside the memory: the parameter block, the output buffer, the
  // prefix rows up to tHi - 1 + L (the last a window reads) and the closes up to tHi - 2 + L.
  const int64_t rows = tHi + L;
  if (p < 0 || p + 8192 > (int64_t)len || s1 < 0 || s2 < 0 || closes < 0 || tLo < 0 || tHi < tLo || L < 1 ||
      m2 < 1 || m2 > 16 || s1 + 8 * rows > (int64_t)len || s2 + 8 * rows > (int64_t)len ||
      closes + 8 * (rows - 1) > (int64_t)len || out < 0 || out + 4 * (tHi - tLo + 4) > (int64_t)len ||
      (p | s1 | s2 | closes) % 8 != 0 || out % 4 != 0) {
    napi_throw_range_error(env, NULL, "zscan.scan: an address is outside the memory");
    return NULL;
  }
  if (!avx2_or_throw(env, "zscan.scan: this CPU has no AVX2")) return NULL;
#if defined(__x86_64__)
  const double *S1 = (const double *)(mem + s1);
  const double *S2 = (const double *)(mem + s2);
  int32_t *o = (int32_t *)(mem + out);
  const int n = scan_entity(mem + p, S1, S2, (const double *)(mem + closes), (int)tLo, (int)tHi, (int)L, (int)m2, o, NULL);
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
#else
  return NULL;
#endif
}

/**
 * scanChunk(memory, p, plan, kLo, kHi, offsets, spread, center, tau2, s1At, s2At, closesAt, L, m2, outAt,
 * outT, outD, outEnd): scan over the plan's triples (entity, lo, hi) at plan[kLo .. kHi) with one
 * threshold tau2, in one call instead of one per entity: sets each entity's bounds in the parameter block
 * (the per-entity part of scanZWasm in src/kernels/ed-kernel.ts, from the query constants C_* the caller wrote),
 * runs the four stages, and computes the exact distance of every survivor. The windows within tau2 go to
 * outT (start row) and outD (squared distance) in order; outEnd[i] is how many there are after triple i.
 * Returns how many distances were computed directly.
 */
static napi_value ScanChunk(napi_env env, napi_callback_info info) {
  napi_value argv[19];
  if (!args_of(env, info, argv, 19, "zscan.scanChunk: expected 19 arguments")) return NULL;
  size_t len, planLen, offLen, spreadLen, centerLen, tLen, dLen, endLen;
  uint8_t *mem = bytes_of(env, argv[0], &len);
  if (!mem) return NULL;
  const int32_t *plan = typed_of(env, argv[2], napi_int32_array, &planLen, "zscan.scanChunk: plan must be an Int32Array");
  if (!plan) return NULL;
  const int32_t *offsets = typed_of(env, argv[5], napi_int32_array, &offLen, "zscan.scanChunk: offsets must be an Int32Array");
  if (!offsets) return NULL;
  const double *spread = typed_of(env, argv[6], napi_float64_array, &spreadLen, "zscan.scanChunk: spread must be a Float64Array");
  if (!spread) return NULL;
  const double *center = typed_of(env, argv[7], napi_float64_array, &centerLen, "zscan.scanChunk: center must be a Float64Array");
  if (!center) return NULL;
  int32_t *outT = typed_of(env, argv[15], napi_int32_array, &tLen, "zscan.scanChunk: outT must be an Int32Array");
  if (!outT) return NULL;
  double *outD = typed_of(env, argv[16], napi_float64_array, &dLen, "zscan.scanChunk: outD must be a Float64Array");
  if (!outD) return NULL;
  int32_t *outEnd = typed_of(env, argv[17], napi_int32_array, &endLen, "zscan.scanChunk: outEnd must be an Int32Array");
  if (!outEnd) return NULL;
  static const int intArgs[] = {1, 3, 4, 9, 10, 11, 12, 13, 14, 18};
  int64_t a[10];
  if (!ints_of(env, argv, intArgs, 10, a, "zscan.scanChunk: expected integer arguments")) return NULL;
  double tau2;
  if (napi_get_value_double(env, argv[8], &tau2) != napi_ok) {
    napi_throw_type_error(env, NULL, "zscan.scanChunk: tau2 must be a number");
    return NULL;
  }
  const int64_t p = a[0], kLo = a[1], kHi = a[2], s1At = a[3], s2At = a[4], closesAt = a[5], L = a[6], m2 = a[7],
                outAt = a[8], K = a[9];
  const int64_t entities = (int64_t)offLen - 1;
  if (p < 0 || p + 8192 > (int64_t)len || (p % 8) != 0 || kLo < 0 || kHi < kLo || kHi > (int64_t)planLen ||
      (kHi - kLo) % 3 != 0 || (int64_t)endLen < (kHi - kLo) / 3 || L < 1 || L > 500 || m2 < 1 || m2 > 16 ||
      entities < 0 || (int64_t)spreadLen < entities || (int64_t)centerLen < entities || s1At < 0 || s2At < 0 ||
      closesAt < 0 || outAt < 0 || (s1At | s2At | closesAt) % 8 != 0 || outAt % 4 != 0 || !(tau2 >= 0) || K < 0 ||
      K > 100000) {
    napi_throw_range_error(env, NULL, "zscan.scanChunk: an argument is out of range");
    return NULL;
  }
  if (!avx2_or_throw(env, "zscan.scanChunk: this CPU has no AVX2")) return NULL;
#if defined(__x86_64__)
  double *par = (double *)(mem + p);
  const double *q = (const double *)(mem + p + P3_Q_BYTE);
  const double U = par[C_U], Lf = (double)L;
  // The threshold's part of the bounds, the same for every entity of the chunk (as in scanZWasm).
  const double tauRef = __builtin_sqrt(tau2) + par[C_EPS_REF];
  const double lim = tauRef * tauRef * (1 + 1e-9) + 1e-9 * Lf;
  const double kappa = (par[C_Q2] + Lf - lim) / 2;
  const double k2 = kappa > 0 ? ((kappa * kappa) / Lf) * (1 - 1e-12) : -__builtin_inf();
  const double c0 = k2 - par[C_RQ0_SQ], c1 = k2 - par[C_RQ1_SQ];
  int64_t nOut = 0, exact = 0;
  // Picks mode (K > 0): an entity's survivors wait, keyed, until its last triple of the chunk, then
  // lazy_picks takes its greedy picks.
  Item *items = NULL;
  int nItems = 0;
  size_t capItems = 0;
  double *keys = NULL;
  size_t capKeys = 0;
  for (int64_t k = kLo, i = 0; k < kHi; k += 3, i++) {
    const int64_t e = plan[k], lo = plan[k + 1], hi = plan[k + 2];
    if (e < 0 || e >= entities) {
      free(items);
      free(keys);
      napi_throw_range_error(env, NULL, "zscan.scanChunk: an entity is out of range");
      return NULL;
    }
    const int64_t ea = offsets[e], n = offsets[e + 1] - ea, tLo = lo - ea, tHi = hi - ea;
    // As in Scan: every address the stages touch stays inside the memory and the outputs.
    const int64_t s1 = s1At + 8 * (ea + e), s2 = s2At + 8 * (ea + e), cl = closesAt + 8 * ea, rows = tHi + L;
    // Every window of the range starts and ends inside its entity (the plan's ranges always do).
    if (tLo < 0 || tHi < tLo || (tHi > tLo && tHi - 1 + L > n)) {
      free(items);
      free(keys);
      napi_throw_range_error(env, NULL, "zscan.scanChunk: a range runs past its entity");
      return NULL;
    }
    if (s1 + 8 * rows > (int64_t)len || s2 + 8 * rows > (int64_t)len ||
        cl + 8 * (rows - 1) > (int64_t)len || outAt + 4 * (tHi - tLo + 4) > (int64_t)len ||
        nOut + (tHi - tLo) > (int64_t)tLen || nOut + (tHi - tLo) > (int64_t)dLen) {
      free(items);
      free(keys);
      napi_throw_range_error(env, NULL, "zscan.scanChunk: an address is outside the memory");
      return NULL;
    }
    const double M = spread[e];
    const double eP = 6 * U * n * M + U;
    const double eP2 = 6 * U * n * M * M + U;
    const double eMu = eP / Lf + 2 * U * M;
    const double eV = eP2 + eP * M + Lf * M * eMu + 4 * U * Lf * M * M;
    const double A = __builtin_fabs(center[e]) + M;
    const double vRef = par[C_REF_FACTOR] * A * A;
    par[P1_C] = c1;
    par[P1_EPS_C] = err_c(par, 1, Lf, M, eP, eMu);
    par[P1_EPS_P] = err_p(par, 1, M, eP, eMu);
    par[P0_C] = c0;
    par[P0_EPS_C] = err_c(par, 0, Lf, M, eP, eMu);
    par[P0_EPS_P] = err_p(par, 0, M, eP, eMu);
    par[P2_LIM] = lim;
    par[P2_EPS_P] = err_p(par, 2, M, eP, eMu);
    par[P2_EPS_C] = err_c(par, 2, Lf, M, eP, eMu);
    const double lvA = 1e6 * eV, lvB = Lf * vRef;
    par[P2_LV_MIN] = (lvA > lvB ? lvA : lvB) + __DBL_DENORM_MIN__;
    par[P_CW_MIN] = Lf * vRef;
    par[P3_DOT_ERR] = 4 * Lf * U * par[C_QABS] * A + U;
    par[P3_CENTER] = center[e];
    par[P3_EPS_MU] = eMu + 2 * U * A;
    int32_t *rows_out = (int32_t *)(mem + outAt);
    const double *closes = (const double *)(mem + cl);
    if (K > 0 && !grow((void **)&keys, &capKeys, (size_t)(tHi - tLo + 4), sizeof(double))) {
      free(items);
      free(keys);
      napi_throw_error(env, NULL, "zscan.scanChunk: out of memory");
      return NULL;
    }
    const int count = scan_entity(mem + p, (const double *)(mem + s1), (const double *)(mem + s2), closes, (int)tLo,
                                  (int)tHi, (int)L, (int)m2, rows_out, K > 0 ? keys : NULL);
    if (K > 0) {
      if (!grow((void **)&items, &capItems, (size_t)nItems + (size_t)count, sizeof(Item))) {
        free(items);
        free(keys);
        napi_throw_error(env, NULL, "zscan.scanChunk: out of memory");
        return NULL;
      }
      for (int j = 0; j < count; j++) {
        const Item x = {keys[j], (int32_t)(ea + rows_out[j]), 0};
        items[nItems++] = x;
      }
      // The entity's last triple in this chunk: its picks.
      if (k + 3 >= kHi || plan[k + 3] != e) {
        const int64_t most = nItems < K ? nItems : K;
        if (nOut + most > (int64_t)tLen || nOut + most > (int64_t)dLen) {
          free(items);
          free(keys);
          napi_throw_range_error(env, NULL, "zscan.scanChunk: an address is outside the memory");
          return NULL;
        }
        nOut = lazy_picks(items, nItems, closes, ea, q, (int)L, tau2, (int)K, outT, outD, nOut, &exact);
        nItems = 0;
      }
      outEnd[i] = (int32_t)nOut;
      continue;
    }
    exact += count;
    for (int j = 0; j < count; j++) {
      const int t = rows_out[j];
      const double d2 = exact_d2(closes + t, q, (int)L, tau2);
      if (d2 != __builtin_inf()) {
        outT[nOut] = (int32_t)(ea + t);
        outD[nOut] = d2;
        nOut++;
      }
    }
    outEnd[i] = (int32_t)nOut;
  }
  free(items);
  free(keys);
  napi_value r;
  napi_create_int64(env, exact, &r);
  return r;
#else
  return NULL;
#endif
}

/**
 * distances(memory, p, closesAt, rows, n, L, out): the exact squared distance (exact_d2, no abandoning;
 * INFINITY for a flat window) of the z-normalised window starting at each of rows[0 .. n) (rows of the
 * closes at byte address closesAt) to the query in the parameter block at p, into out[0 .. n). The seed
 * sample of a search (src/search/scan.ts) in one call instead of one TypeScript loop per window; the
 * values are bit for bit windowDistance2's.
 */
static napi_value Distances(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!args_of(env, info, argv, 7, "zscan.distances: expected 7 arguments")) return NULL;
  size_t len, rowsLen, outLen;
  uint8_t *mem = bytes_of(env, argv[0], &len);
  if (!mem) return NULL;
  const int32_t *rows = typed_of(env, argv[3], napi_int32_array, &rowsLen, "zscan.distances: rows must be an Int32Array");
  if (!rows) return NULL;
  double *out = typed_of(env, argv[6], napi_float64_array, &outLen, "zscan.distances: out must be a Float64Array");
  if (!out) return NULL;
  static const int intArgs[] = {1, 2, 4, 5};
  int64_t a[4];
  if (!ints_of(env, argv, intArgs, 4, a, "zscan.distances: expected integer arguments")) return NULL;
  const int64_t p = a[0], closesAt = a[1], n = a[2], L = a[3];
  if (p < 0 || p + P3_Q_BYTE + 8 * L > (int64_t)len || p % 8 != 0 || closesAt < 0 || closesAt % 8 != 0 || L < 1 ||
      L > 500 || n < 0 || n > (int64_t)rowsLen || n > (int64_t)outLen) {
    napi_throw_range_error(env, NULL, "zscan.distances: an argument is out of range");
    return NULL;
  }
#if defined(__x86_64__)
  const double *q = (const double *)(mem + p + P3_Q_BYTE);
  const double *closes = (const double *)(mem + closesAt);
  for (int64_t i = 0; i < n; i++) {
    if (rows[i] < 0 || closesAt + 8 * ((int64_t)rows[i] + L) > (int64_t)len) {
      napi_throw_range_error(env, NULL, "zscan.distances: a window is outside the memory");
      return NULL;
    }
    out[i] = exact_d2(closes + rows[i], q, (int)L, __builtin_inf());
  }
#endif
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn, flag;
  napi_create_function(env, "scan", NAPI_AUTO_LENGTH, Scan, NULL, &fn);
  napi_set_named_property(env, exports, "scan", fn);
  napi_create_function(env, "scanChunk", NAPI_AUTO_LENGTH, ScanChunk, NULL, &fn);
  napi_set_named_property(env, exports, "scanChunk", fn);
  napi_create_function(env, "distances", NAPI_AUTO_LENGTH, Distances, NULL, &fn);
  napi_set_named_property(env, exports, "distances", fn);
  napi_get_boolean(env, has_avx2(), &flag);
  napi_set_named_property(env, exports, "avx2", flag);
  return exports;
}
