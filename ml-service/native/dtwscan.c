// Native kernel of the DTW search: exact nearest windows under Sakoe-Chiba banded DTW of z-normalised
// windows, over a run of the plan's triples (entity, lo, hi) in one call. wasm/dtwscan.ts is the same
// kernel in AssemblyScript (the portable fallback); src/kernels/dtw-kernel.ts chooses one and documents the bounds.
//
// Cascade per window (measured step by step in docs/decisions/077-native-dtw-kernel.md):
//   A1  LB_Kim: the first two and last two cells of every path (Rakthanmanon et al., KDD 2012), O(1);
//   A2  LB_Keogh of the window against the query's envelope, query points in order of |q| (UCR Suite),
//       early abandoned;
//   A3  LB_Keogh of the query against the window's envelope, read from the entity's raw envelope (UCR's
//       reused data envelope), early abandoned;
//   B   the exact two-pass normalisation (as src/kernels/window-distance.ts), both LB_Keogh again from it for the
//       cumulative bounds, LB_Improved (Lemire 2009), then DTW with cells pruned against the threshold and the cumulative bounds,
//       abandoned when a row has no live cell (EAPrunedDTW, Herrmann and Webb 2021). On the AVX2 path B first
//       runs on A's normalisation against a threshold widened by its proven error, and only a window that
//       comes within gets the exact normalisation and DTW (stage_b, decision 134).
// With AVX2 (checked at run time; stage flag 64 forces the portable path) A1 runs on four windows at a
// time, and A2, A3 and B's normalisation and bounds four points at a time; A2 and A3 start from LB_Kim's
// value and skip the points it covers (LB_Enhanced with V = 2, Tan, Petitjean and Webb, SDM 2019). The
// data envelope is computed by van Herk / Gil-Werman. Measured in docs/decisions/097-dtw-speed.md.
// With AVX2 and a band of at least DIAG_MIN_BAND rows, B's DTW runs along anti-diagonals, four cells a
// step, over the whole band with a fixed vector count (dtw_band_avx2: the same cells and values;
// docs/decisions/116-dtw-antidiagonal.md and 129-dtw-whole-band-diagonals.md).
// Picks mode (flags' bits 16 and up = K): an entity alone in its range returns only its greedy picks,
// selected lazily so that the windows a pick blocks never get their DTW (select_picks; decision 116), and
// a window overlapping a nearer candidate is abandoned against that one's distance (decision 134).
// A1..A3 normalise with the window's mean and std from the prefix sums, whose rounding is covered by a
// proven per-window slack (the same as the TypeScript reference kernel), so they only ever prune windows
// that are farther than the threshold. Every distance reported is computed in B with the same operations
// in the same order as the slow twin (no FMA: binding.gyp passes -ffp-contract=off), so it is bit for bit
// the value TypeScript computes.
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "napi_args.h"
#include "dtwscan_params.h" // stage flags F_*, counters ST_*, F_PICKS_SHIFT: written once in wasm/dtw-params.ts

#define INF __builtin_inf()
// Bounds are compared with a hair of slack, so rounding in a bound never rejects a window it should not.
#define SLACK (1 + 1e-9)
#define U_ROUND 2.3e-16 // a little above the unit roundoff 2^-52
// The narrowest band (half-width in rows) at which the AVX2 path computes the DTW by anti-diagonals
// (16 for the live-range version; the whole-band version wins from 4 up: L=60 band 10 %, r = 6, 32.6 ->
// 26.8 ns a window; at r = 3 the two were within noise, decision 129).
#define DIAG_MIN_BAND 4
// Stage B runs on stage A's normalisation while sqrt(2L) dW is at most this fraction of tau (decision 134).
#ifndef APPROX_MARGIN
#define APPROX_MARGIN 1e-3
// The float DTW filter (decision 140) from this band up: below it, eight float lanes take as many vectors
// a diagonal as four double ones (r + 1 <= 8 cells) and the filter would only add its setup.
#define F32_MIN_BAND 8
// The unit roundoff of float (round to nearest).
#define U_F32 5.9604644775390625e-08
#endif

static inline double dmin(double a, double b) { return a < b ? a : b; }
static inline double dmax(double a, double b) { return a > b ? a : b; }

/** Envelope of x[0..n) with half-width r: up[i] = max x[i-r..i+r], lo[i] = min (Lemire's deques). */
static void envelope(const double *x, int n, int r, double *up, double *lo, int *du, int *dl) {
  int uh = 0, ut = 0, lh = 0, lt = 0, next = 0;
  for (int i = 0; i < n; i++) {
    const int hi = i + r < n - 1 ? i + r : n - 1;
    while (next <= hi) {
      while (ut > uh && x[du[ut - 1]] <= x[next]) ut--;
      du[ut++] = next;
      while (lt > lh && x[dl[lt - 1]] >= x[next]) lt--;
      dl[lt++] = next;
      next++;
    }
    while (du[uh] < i - r) uh++;
    while (dl[lh] < i - r) lh++;
    up[i] = x[du[uh]];
    lo[i] = x[dl[lh]];
  }
}

/**
 * Envelope of x[0..n) with half-width r (up[i] = max x[i-r..i+r] clipped to the range, lo[i] = min), by
 * van Herk / Gil-Werman: the sequence padded by r rows on each side (the padding never wins) is cut into
 * blocks of w = 2r + 1 rows, with a running max and min forward within each block and backward within each
 * block; the window [i, i + w) of the padded sequence spans at most two blocks, so its max is
 * max(backward[i], forward[i + w - 1]). Branch-free passes instead of the deques' data-dependent
 * branches; the values are the same (max and min are exact). s: scratch of 5 (n + 2r) doubles.
 */
static void envelope_vh(const double *x, int n, int r, double *up, double *lo, double *s) {
  if (r == 0) {
    memcpy(up, x, (size_t)n * sizeof(double));
    memcpy(lo, x, (size_t)n * sizeof(double));
    return;
  }
  const int w = 2 * r + 1, N = n + 2 * r;
  double *y = s, *fU = s + N, *fL = s + 2 * N, *bU = s + 3 * N, *bL = s + 4 * N;
  // Padding by copies of the end rows: they lie inside the clipped range, so they change no max or min.
  for (int k = 0; k < r; k++) y[k] = x[0], y[n + r + k] = x[n - 1];
  memcpy(y + r, x, (size_t)n * sizeof(double));
  for (int k0 = 0; k0 < N; k0 += w) {
    const int k1 = k0 + w < N ? k0 + w : N;
    double u = y[k0], l = y[k0];
    fU[k0] = u, fL[k0] = l;
    for (int k = k0 + 1; k < k1; k++) {
      const double v = y[k];
      u = v > u ? v : u;
      l = v < l ? v : l;
      fU[k] = u, fL[k] = l;
    }
    u = l = y[k1 - 1];
    bU[k1 - 1] = u, bL[k1 - 1] = l;
    for (int k = k1 - 2; k >= k0; k--) {
      const double v = y[k];
      u = v > u ? v : u;
      l = v < l ? v : l;
      bU[k] = u, bL[k] = l;
    }
  }
  for (int i = 0; i < n; i++) {
    const double a = bU[i], b = fU[i + w - 1], c = bL[i], d = fL[i + w - 1];
    up[i] = a > b ? a : b;
    lo[i] = c < d ? c : d;
  }
}

/** How far v lies outside [lo, up], squared. */
static inline double outside2(double v, double up, double lo) {
  const double d = v > up ? v - up : v < lo ? lo - v : 0;
  return d * d;
}

/**
 * Banded DTW (squared) of q (rows) and w (columns), both of length n, band r. A cell whose value v has
 * v + (a lower bound of the rest of any path through it) > limit is dead (Infinity): the rest of a path
 * after (i, j) visits every row after i, so costs at least cbRow[i + 1], and every column after j, at least
 * cbCol[j + 1]; ubCol[j] = limit - cbCol[j + 1]. Rows start at the previous row's first live cell, and end
 * once past its last one the cell to the left is dead; a row with no live cell abandons (Infinity). Live
 * cells get exactly the values of the full matrix: a dead predecessor is never the minimum of a live cell.
 */
static double dtw_pruned(const double *q, const double *w, int n, int r, double limit, const double *cbRow,
                         const double *ubCol, double *prev, double *cur) {
  // Both rows have a slot at -1 and at n (the callers allocate n + 2 and pass element 1): a row's cells
  // just outside its live range hold Infinity, so the inner loop reads its neighbours without tests.
  double *p = prev, *c = cur;
  int pS = -1, pE = -1;
  {
    const double ubRow = limit - cbRow[1];
    const int jhi = r < n - 1 ? r : n - 1;
    double left = 0;
    for (int j = 0; j <= jhi; j++) {
      const double d = q[0] - w[j];
      const double v = left + d * d;
      // Row 0 has only the left predecessor: everything right of a dead cell is dead.
      if (v > dmin(ubRow, ubCol[j])) break;
      c[j] = v;
      left = v;
      if (pS < 0) pS = j;
      pE = j;
    }
  }
  if (pS < 0) return INF;
  c[pS - 1] = INF;
  c[pE + 1] = INF;
  for (int i = 1; i < n; i++) {
    double *t = p;
    p = c;
    c = t;
    const int jlo = i - r > 0 ? i - r : 0;
    const int jhi = i + r < n - 1 ? i + r : n - 1;
    const double ubRow = limit - cbRow[i + 1];
    const double qi = q[i];
    const int start = jlo > pS ? jlo : pS;
    // Up to pE + 1 a cell has its up and diagonal neighbours (Infinity outside the live range).
    const int mid = jhi < pE + 1 ? jhi : pE + 1;
    int nS = -1, nE = -1;
    double left = INF;
    int j = start;
    for (; j <= mid; j++) {
      // Only min(.., left) and the addition wait for the cell to the left; the rest runs ahead.
      const double up = p[j], diag = p[j - 1];
      const double ud = up < diag ? up : diag;
      const double d = qi - w[j];
      const double dd = d * d;
      const double ub = dmin(ubRow, ubCol[j]);
      double v = (ud < left ? ud : left) + dd;
      if (v > ub) v = INF;
      else {
        if (nS < 0) nS = j;
        nE = j;
      }
      c[j] = v;
      left = v;
    }
    // Past it, only from the left, until a dead cell.
    for (; j <= jhi && left != INF; j++) {
      const double d = qi - w[j];
      const double v = left + d * d;
      if (v > dmin(ubRow, ubCol[j])) break;
      if (nS < 0) nS = j;
      nE = j;
      c[j] = v;
      left = v;
    }
    if (nS < 0) return INF;
    c[nS - 1] = INF;
    c[nE + 1] = INF;
    pS = nS;
    pE = nE;
  }
  return pE == n - 1 ? c[n - 1] : INF;
}

/** A query's constants and the scratch of one call. */
typedef struct {
  int L, r;
  const double *q;
  double *qU, *qL; // the query's envelope
  const int32_t *order; // query indices by |q| descending
  double *h, *hU, *hL; // LB_Improved: the window projected onto the query's envelope, and its envelope
  double *w, *cEQ, *cEC, *cbRow, *ubCol, *prev, *cur;
  double *rawU, *rawL; // the entity's raw envelope over a triple's rows
  double *vh;           // envelope_vh's scratch
  double *qp, *wr, *ubRow, *ubColR, *diag[3]; // dtw_diag_avx2: padded query, reversed row, bounds, diagonals
  float *qpF, *wrF, *ubRowF, *ubColRF, *diagF[3]; // dtw_band_f32: the same in float (decision 140)
  double qMax;                                    // max |q|
  int *du, *dl;
  double sqrtL, sqrt2L, invL;
  int flags;
  int simd; // AVX2 paths (the CPU has it and F_SCALAR is off)
  const int32_t *control; // the search's control word (NULL: none); non-zero once it is cancelled
  int64_t work;           // work since the control word was last read (see stop_due)
  int64_t cells;          // a DTW's work: the cells of its band
  int stopped;            // the control word was found set: the call returns -1, its outputs partial
  // Picks mode (see select_picks): at most `picks` picks per entity, or 0 for every window within tau2;
  // `lazy` is set while a range's windows are being collected as candidates.
  int picks, lazy, nCand;
  struct Cand *cand; // the candidates' heap, one range's windows at most
  // select_picks: a DTW's limit below the range's (Infinity: none), and what the last DTW returned.
  double dtwCap, lastD2;
  // The first `maxStored` candidates of a range keep what their DTW needs (w, cbRow, ubCol: 3L + 1
  // values each), so it is not computed twice; later ones are normalised again when their turn comes.
  double *store;
  int nStored, maxStored;
} Ctx;

/**
 * Cancellation inside a call: a chunk of 8 long entities with a wide band is seconds of work, and neither
 * the pool nor worker.terminate() can stop native code. The search's control word (an Int32Array over a
 * SharedArrayBuffer the pool sets, src/search/search-pool.ts) is read once per STOP_WORK units of work (a window
 * counts L, a DTW the cells of its band): about a millisecond, so a cancelled search leaves the call
 * within milliseconds, and one relaxed load per millisecond costs nothing measurable.
 */
#define STOP_WORK (1 << 20)
static inline int stop_due(Ctx *k, int64_t work) {
  if ((k->work += work) < STOP_WORK) return 0;
  k->work = 0;
  if (k->control && __atomic_load_n(k->control, __ATOMIC_RELAXED) != 0) k->stopped = 1;
  return k->stopped;
}

/**
 * A window waiting in select_picks: its key is a lower bound of its distance (exact = CAND_BOUND), the
 * distance (CAND_EXACT), or a value its distance is known to exceed (CAND_ABOVE: its DTW was abandoned
 * against that value); slot: where its DTW's inputs are stored (k->store), or -1.
 */
enum { CAND_BOUND = 0, CAND_EXACT = 1, CAND_ABOVE = 2 };
typedef struct Cand {
  double key;
  int32_t t, exact, slot;
  double dW; // > 0: the stored inputs are stage A's normalisation, each point within dW of the exact one
} Cand;

/**
 * Heap order: by key, then by start (greedy's tie-break); a CAND_ABOVE entry after every other of the
 * same key (its distance is larger than the key, so greedy takes a window of distance = key first).
 */
static inline int cand_less(const Cand *a, const Cand *b) {
  if (a->key != b->key) return a->key < b->key;
  const int aa = a->exact == CAND_ABOVE, ba = b->exact == CAND_ABOVE;
  return aa != ba ? aa < ba : a->t < b->t;
}

static void cand_push(Cand *h, int *n, Cand c) {
  int i = (*n)++;
  while (i > 0) {
    const int up = (i - 1) / 2;
    if (!cand_less(&c, &h[up])) break;
    h[i] = h[up];
    i = up;
  }
  h[i] = c;
}

static Cand cand_pop(Cand *h, int *n) {
  const Cand top = h[0], last = h[--*n];
  int i = 0;
  for (;;) {
    const int l = 2 * i + 1;
    if (l >= *n) break;
    const int m = l + 1 < *n && cand_less(&h[l + 1], &h[l]) ? l + 1 : l;
    if (!cand_less(&h[m], &last)) break;
    h[i] = h[m];
    i = m;
  }
  if (*n > 0) h[i] = last;
  return top;
}

/** Stage A's normalisation of a window: w' = (x - m) * ib, each point within dW of the exact value. */
typedef struct {
  double m, ib, dW;
} Approx;

/** One range's constants: its arrays, stage A's slack (as the TypeScript reference kernel) and the outputs. */
typedef struct {
  const double *closes, *sum1, *sum2;
  const double *rawU, *rawL; // the entity's raw envelope, indexed by global row
  int64_t e;
  double c, eMu, eVar, c24, varFloor, tau, tau2, limit;
  int finite;
  int32_t *outT;
  double *outD;
  int64_t *nOut;
  double *stats;
} Range;

/**
 * Stage A of window t, one window at a time (the portable path, and the AVX2 path's tail): LB_Kim,
 * LB_Keogh(window, query envelope) and LB_Keogh(query, window envelope) from the prefix-sum mean and std.
 * Returns 1 when a bound prunes the window.
 */
static int stage_a_prunes(const Ctx *k, const Range *g, int64_t t) {
  const int L = k->L;
  const double *q = k->q, *qU = k->qU, *qL = k->qL;
  const int32_t *order = k->order;
  const double *x = g->closes + t;
  double *stats = g->stats;
  const int64_t base = t + g->e; // prefix index of row t (each entity has a leading zero)
  const double muc = (g->sum1[base + L] - g->sum1[base]) * k->invL;
  const double v = (g->sum2[base + L] - g->sum2[base]) * k->invL - muc * muc;
  if (!(v > g->varFloor)) return 0;
  const double ib = 1 / __builtin_sqrt(v);
  // |x' - w| <= dW for every point: the mean's error, plus |x - mu| <= 2M times sigma's relative error.
  const double dW = (g->eMu + g->c24 * ib * ib) * ib;
  const double lim = g->tau + k->sqrtL * dW;
  const double lim2 = lim * lim;
  const double m = g->c + muc;
  // A1: LB_Kim over the cells (0,0), (L-1,L-1), and one of (0,1), (1,0), (1,1) and of their mirrors.
  const double x0 = (x[0] - m) * ib, x1 = (x[1] - m) * ib;
  const double y0 = (x[L - 1] - m) * ib, y1 = (x[L - 2] - m) * ib;
  double d = q[0] - x0;
  double kim = d * d;
  d = q[L - 1] - y0;
  kim += d * d;
  if ((k->flags & F_KIM) && kim > lim2) {
    stats[ST_KIM]++;
    return 1;
  }
  if ((k->flags & F_KIM) && L >= 4) {
    double a1 = q[0] - x1, a2 = q[1] - x0, a3 = q[1] - x1;
    kim += dmin(a1 * a1, dmin(a2 * a2, a3 * a3));
    a1 = q[L - 1] - y1, a2 = q[L - 2] - y0, a3 = q[L - 2] - y1;
    kim += dmin(a1 * a1, dmin(a2 * a2, a3 * a3));
    if (kim > lim2) {
      stats[ST_KIM]++;
      return 1;
    }
  }
  // With LB_Kim on, A2 and A3 are LB_Enhanced with V = 2 (Tan, Petitjean and Webb, SDM 2019): every path
  // meets each of the four slices LB_Kim bounds (cells with max(i, j) = 0 or 1, and their mirrors at the
  // end) and, in each other column j (A2) or row i (A3), a cell in none of them; so LB_Kim plus
  // LB_Keogh over the points 2 .. L-3 is a bound, and far tighter than LB_Keogh (the ends' envelope terms
  // are mostly zero, the corner cells seldom).
  const int kimOn = (k->flags & F_KIM) != 0, V = kimOn ? 2 : 0;
  const double lb0 = kimOn ? kim : 0;
  // A2: LB_Keogh(window, query envelope), largest |q| first so a far window abandons early.
  double lb = lb0;
  for (int s = 0; s < L && lb <= lim2 && (k->flags & F_KEOGH_EQ); s++) {
    const int j = order[s];
    if (j < V || j > L - 1 - V) continue;
    lb += outside2((x[j] - m) * ib, qU[j], qL[j]);
  }
  if (lb > lim2) {
    stats[ST_KEOGH_EQ]++;
    return 1;
  }
  // A3: LB_Keogh(query, window envelope). The raw envelope may reach past the window (wider, so
  // still a bound), and normalising is monotone, so it normalises into the window's envelope.
  lb = lb0;
  const double *rawU = g->rawU + t, *rawL = g->rawL + t;
  for (int s = 0; s < L && lb <= lim2 && (k->flags & F_KEOGH_EC); s++) {
    const int j = order[s];
    if (j < V || j > L - 1 - V) continue;
    lb += outside2(q[j], (rawU[j] - m) * ib, (rawL[j] - m) * ib);
  }
  if (lb > lim2) {
    stats[ST_KEOGH_EC]++;
    return 1;
  }
  return 0;
}

static double dtw_diag_avx2(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol);
static double dtw_band_avx2(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol);
static void diag_rows(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol);
static double dtw_band_f32(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol);

static void exact_bounds_avx2(int L, const double *x, double mean, double sd, const double *q, const double *qU,
                              const double *qL, const double *U, const double *Lo, double *w, double *cEQ,
                              double *cEC, double *eq, double *ec);

/**
 * Stage B of window t: the exact normalisation, as normalizeWindow (flat windows are no candidates), both
 * LB_Keogh from the exact values, then the pruned DTW; a window within tau2 is appended to the outputs.
 * Returns 1 when a DTW was computed.
 */
static int dtw_append(Ctx *k, const Range *g, int64_t t, const double *w, const double *cbRow, const double *ubCol);

static double dtw_of(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol);
static double dtw_test(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol);

static int stage_b(Ctx *k, const Range *g, int64_t t, const Approx *ap) {
  const int L = k->L, r = k->r;
  const double *q = k->q, *qU = k->qU, *qL = k->qL;
  const int32_t *order = k->order;
  const double *x = g->closes + t;
  const double *rawU = g->rawU, *rawL = g->rawL;
  double *stats = g->stats;
  // With `ap` (AVX2 path, a window stage A normalised; decision 134), the bounds and a first DTW run on
  // stage A's normalisation w' = (x - m) * ib, each point within dW of the exact w: a cost along a path of
  // at most 2L - 1 cells, or a bound over at most L points, moves by at most sqrt(2L) dW in its square
  // root (the triangle inequality), so everything is compared with limit = (tau + sqrt(2L) dW)^2. Only
  // a window whose DTW on w' comes within it gets the exact two-pass normalisation and its exact DTW:
  // the two sequential sums are half of this stage, and most windows here are then abandoned.
  double mean, sd, limit;
  if (ap) {
    const double lt = g->tau + k->sqrt2L * ap->dW;
    mean = ap->m;
    sd = -ap->ib; // exact_bounds_avx2: multiply by ib
    limit = lt * lt;
  } else {
    const double first = x[0];
    int flat = 1;
    double sum = 0;
    for (int i = 0; i < L; i++) {
      if (x[i] != first) flat = 0;
      sum += x[i];
    }
    if (flat) return 0;
    mean = sum / L;
    double ss = 0;
    for (int i = 0; i < L; i++) {
      const double dd = x[i] - mean;
      ss += dd * dd;
    }
    sd = __builtin_sqrt(ss / L);
    limit = g->limit;
  }
  double *w = k->w, *cEQ = k->cEQ, *cEC = k->cEC, *cbRow = k->cbRow, *ubCol = k->ubCol;
  // Picks mode: once the range has a match, a candidate waits for select_picks (before, every one is
  // farther than tau2, so none of them is a pick), its DTW inputs in a slot, if one is free.
  const int collect = k->lazy && k->nCand > 0;
  const int slot = collect && k->nStored < k->maxStored ? k->nStored : -1;
  if (slot >= 0) {
    w = k->store + (size_t)slot * (3 * (size_t)L + 1);
    cbRow = w + L;
    ubCol = cbRow + L + 1;
  }
  const int cumulative = g->finite && (k->flags & F_CUMULATIVE);
  double eq = 0, ec = 0;
  // Both LB_Keogh from the exact values: (x - mean) / sd is monotone in x in floating point too, so the
  // normalised raw envelope bounds every w[j] the band lets row i meet, and each contribution is at
  // most the cost of any cell its row (or column) can take. With AVX2, four points a step (the same
  // quotients; only the bounds' sums add in another order).
  if (k->simd)
    exact_bounds_avx2(L, x, mean, sd, q, qU, qL, rawU + t, rawL + t, w, cumulative ? cEQ : NULL, cEC, &eq, &ec);
  else {
    for (int i = 0; i < L; i++) w[i] = (x[i] - mean) / sd;
    for (int i = 0; i < L && cumulative; i++) {
      cEQ[i] = outside2(w[i], qU[i], qL[i]);
      eq += cEQ[i];
      cEC[i] = outside2(q[i], (rawU[t + i] - mean) / sd, (rawL[t + i] - mean) / sd);
      ec += cEC[i];
    }
  }
  if (cumulative) {
    if (eq > limit || ec > limit) {
      stats[ST_EXACT_LB]++;
      return 0;
    }
    if (k->flags & F_IMPROVED) {
      // LB_Improved (Lemire, Pattern Recognition 2009): LB_Keogh(w, q) plus LB_Keogh of q against the
      // envelope of w projected onto q's envelope. A cell (i, j) costs at least (w_j - h_j)^2 + (h_j - q_i)^2,
      // as w_j - h_j and h_j - q_i never have opposite signs when q_i lies in q's envelope at j.
      double *h = k->h, *hU = k->hU, *hL = k->hL;
      for (int i = 0; i < L; i++) {
        const double v = w[i];
        h[i] = v > qU[i] ? qU[i] : v < qL[i] ? qL[i] : v;
      }
      envelope_vh(h, L, r, hU, hL, k->vh);
      double imp = eq;
      for (int s = 0; s < L && imp <= limit; s++) {
        const int i = order[s];
        imp += outside2(q[i], hU[i], hL[i]);
      }
      if (imp > limit) {
        stats[ST_IMPROVED]++;
        return 0;
      }
    }
    // The running sums stay in registers (reading back the stored element was a store-to-load chain:
    // over half of stage B at L=250), and go four elements a step: each block's own suffix sums do not
    // wait for the running sum, so the chain is one addition per block, not per element (over a third of
    // stage B at L=250 on the demo, decision 134). The additions' order differs from one by one, which
    // moves a bound by at most L ulps of it (the sums are of non-negative terms, each bound at most the
    // limit here), far inside the limit's slack: a cell is pruned only when every path through it is
    // farther than tau2, and the values of live cells do not depend on the bounds.
    const int columns = (k->flags & F_COLUMNS) != 0;
    double sr = 0, sc = 0;
    cbRow[L] = 0;
    int i = L - 1;
    for (; i >= 3; i -= 4) {
      const double r3 = cEC[i], r2 = cEC[i - 1] + r3, r1 = cEC[i - 2] + r2, r0 = cEC[i - 3] + r1;
      const double c3 = cEQ[i], c2 = cEQ[i - 1] + c3, c1 = cEQ[i - 2] + c2, c0 = cEQ[i - 3] + c1;
      ubCol[i] = columns ? limit - sc : INF;
      ubCol[i - 1] = columns ? limit - (sc + c3) : INF;
      ubCol[i - 2] = columns ? limit - (sc + c2) : INF;
      ubCol[i - 3] = columns ? limit - (sc + c1) : INF;
      cbRow[i] = sr + r3;
      cbRow[i - 1] = sr + r2;
      cbRow[i - 2] = sr + r1;
      cbRow[i - 3] = sr + r0;
      sr += r0;
      sc += c0;
    }
    for (; i >= 0; i--) {
      ubCol[i] = columns ? limit - sc : INF; // limit - (the columns' bound after column i)
      sr += cEC[i];
      sc += cEQ[i];
      cbRow[i] = sr;
    }
  } else {
    for (int i = 0; i <= L; i++) cbRow[i] = 0;
    for (int j = 0; j < L; j++) ubCol[j] = INF;
  }
  if (collect) {
    // The window waits with a lower bound of its distance as key (0 without the cumulative bounds), a
    // hair below so that rounding in the bound's sums can never order it after a window of smaller
    // distance: the larger of LB_Keogh and LB_Enhanced (measured: 5 % fewer DTWs than LB_Keogh alone on
    // the demo at L=250 top-100, decision 116).
    double key = cumulative ? (eq > ec ? eq : ec) : 0;
    if (cumulative && L >= 6) {
      // LB_Enhanced with V = 2 from the exact values (as stage A2/A3): the corner slices, then each
      // other column (row) j in 2 .. L-3 costs at least its LB_Keogh term.
      double a1 = q[0] - w[1], a2 = q[1] - w[0], a3 = q[1] - w[1];
      double d0 = q[0] - w[0], d1 = q[L - 1] - w[L - 1];
      double kim = d0 * d0 + d1 * d1 + dmin(a1 * a1, dmin(a2 * a2, a3 * a3));
      a1 = q[L - 1] - w[L - 2], a2 = q[L - 2] - w[L - 1], a3 = q[L - 2] - w[L - 2];
      kim += dmin(a1 * a1, dmin(a2 * a2, a3 * a3));
      // Four partial sums each (a sum of non-negative terms: any order is within L ulps, and the key
      // is a hair below the bound anyway).
      double me4[4] = {0, 0, 0, 0}, mc4[4] = {0, 0, 0, 0};
      int j = 2;
      for (; j + 3 <= L - 3; j += 4)
        for (int u = 0; u < 4; u++) me4[u] += cEQ[j + u], mc4[u] += cEC[j + u];
      for (; j <= L - 3; j++) me4[0] += cEQ[j], mc4[0] += cEC[j];
      const double me = (me4[0] + me4[1]) + (me4[2] + me4[3]), mc = (mc4[0] + mc4[1]) + (mc4[2] + mc4[3]);
      const double enh = kim + (me > mc ? me : mc);
      if (enh > key) key = enh;
    }
    if (ap) {
      // A bound of the exact window's: sqrt(key) moves by at most sqrt(L) dW from w' to w (sqrt(2L) dW taken).
      const double kr = __builtin_sqrt(key) - k->sqrt2L * ap->dW;
      key = kr > 0 ? kr * kr : 0;
    }
    const Cand c = {key / SLACK, (int32_t)t, CAND_BOUND, slot, slot >= 0 && ap ? ap->dW : 0};
    if (slot >= 0) k->nStored++;
    cand_push(k->cand, &k->nCand, c);
    return 0;
  }
  if (ap) {
    // The DTW on w': abandoned (farther than tau2), or the window is computed exactly.
    stats[ST_DTW]++;
    if (dtw_test(k, w, limit, cbRow, ubCol) == INF) {
      stats[ST_ABANDONED]++;
      return 1;
    }
    stage_b(k, g, t, NULL);
    return 1;
  }
  const int64_t before = *g->nOut;
  const int computed = dtw_append(k, g, t, w, cbRow, ubCol);
  if (k->lazy && *g->nOut > before) {
    // Picks mode: the range's first match waits with its distance; the windows after it are collected.
    const Cand c = {g->outD[before], (int32_t)t, CAND_EXACT, -1, 0};
    *g->nOut = before;
    cand_push(k->cand, &k->nCand, c);
  }
  return computed;
}

/** The pruned banded DTW of the query and w (squared; Infinity: farther than limit). */
static double dtw_of(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol) {
  // By anti-diagonals only where a diagonal holds a few vectors (band >= DIAG_MIN_BAND): with a narrow
  // band its fixed cost per diagonal outweighs the shorter chain (measured in docs/decisions/116).
  if (!k->simd || (k->flags & F_ROWS) || k->r < DIAG_MIN_BAND)
    return dtw_pruned(k->q, w, k->L, k->r, limit, cbRow, ubCol, k->prev, k->cur);
  if (k->flags & F_LIVE) return dtw_diag_avx2(k, w, limit, cbRow, ubCol);
  // Where eight float lanes need fewer vectors a diagonal than four double ones, a float DTW first: it
  // abandons only a window the double one would abandon too (decision 140), which is most of them.
  const int r = k->r < k->L - 1 ? k->r : k->L - 1;
  if (r >= F32_MIN_BAND && !(k->flags & F_NOF32) && dtw_band_f32(k, w, limit, cbRow, ubCol) == INF) return INF;
  diag_rows(k, w, limit, cbRow, ubCol);
  return dtw_band_avx2(k, w, limit, cbRow, ubCol);
}

/**
 * Whether the DTW of w may come within limit: Infinity when it does not, else any other value (not
 * always the distance). The DTWs on stage A's normalisation ask only this (decision 134: one that comes
 * within gets the exact normalisation and its exact DTW), so where the float DTW runs (decision 140) its
 * answer is enough, and a window it does not abandon goes to the exact DTW without the double one on w'.
 */
static double dtw_test(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol) {
  const int r = k->r < k->L - 1 ? k->r : k->L - 1;
  if (k->simd && !(k->flags & (F_ROWS | F_LIVE | F_NOF32)) && r >= F32_MIN_BAND && r >= DIAG_MIN_BAND) {
    const double f = dtw_band_f32(k, w, limit, cbRow, ubCol);
    if (f >= 0) return f; // else the float DTW did not run: the double one answers
  }
  return dtw_of(k, w, limit, cbRow, ubCol);
}

/** Stage B's DTW of window t (normalised w, cumulative bounds cbRow and ubCol); appends it within tau2. */
static int dtw_append(Ctx *k, const Range *g, int64_t t, const double *w, const double *cbRow, const double *ubCol) {
  const double tau2 = g->tau2;
  // select_picks may cap the limit below the range's (k->dtwCap): the row bounds then prune against the
  // cap, the column bounds (ubCol, made from g->limit) against the looser limit, which is still sound.
  const double base = g->finite ? g->limit : INF;
  const double limit = k->dtwCap < base ? k->dtwCap : base;
  double *stats = g->stats;
  stats[ST_DTW]++;
  const double d2 = dtw_of(k, w, limit, cbRow, ubCol);
  k->lastD2 = d2;
  if (d2 != INF && d2 <= tau2) {
    g->outT[*g->nOut] = (int32_t)t;
    g->outD[*g->nOut] = d2;
    (*g->nOut)++;
  } else stats[ST_ABANDONED]++;
  return 1;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2")))

static int has_avx2(void) {
  static int known = -1;
  if (known < 0) {
    __builtin_cpu_init();
    known = __builtin_cpu_supports("avx2") ? 1 : 0;
  }
  return known;
}

static inline AVX2 double hsum4(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/** outside2 of four points: max(v - up, lo - v, 0) squared (the same value as outside2's). */
static inline AVX2 __m256d outside2x4(__m256d v, __m256d up, __m256d lo) {
  const __m256d d = _mm256_max_pd(_mm256_max_pd(_mm256_sub_pd(v, up), _mm256_sub_pd(lo, v)), _mm256_setzero_pd());
  return _mm256_mul_pd(d, d);
}

/** Checked every this many points: a vector sum is cheap, its horizontal total and branch are not. */
#define CHECK_EVERY 16

/**
 * A2 of one window over its points [0, L) (the caller offsets the pointers), four a step in row order:
 * 1 when start + LB_Keogh(window, query envelope) over them > lim2.
 */
static AVX2 int keogh_eq_x4(const double *x, const double *qU, const double *qL, int L, double m, double ib,
                            double start, double lim2) {
  const __m256d vm = _mm256_set1_pd(m), vib = _mm256_set1_pd(ib);
  __m256d a0 = _mm256_set_pd(0, 0, 0, start), a1 = _mm256_setzero_pd();
  int j = 0;
  for (; j + 8 <= L; j += 8) {
    const __m256d w0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j), vm), vib);
    const __m256d w1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j + 4), vm), vib);
    a0 = _mm256_add_pd(a0, outside2x4(w0, _mm256_loadu_pd(qU + j), _mm256_loadu_pd(qL + j)));
    a1 = _mm256_add_pd(a1, outside2x4(w1, _mm256_loadu_pd(qU + j + 4), _mm256_loadu_pd(qL + j + 4)));
    if ((j + 8) % CHECK_EVERY == 0 && hsum4(_mm256_add_pd(a0, a1)) > lim2) return 1;
  }
  double lb = hsum4(_mm256_add_pd(a0, a1));
  for (; j < L; j++) lb += outside2((x[j] - m) * ib, qU[j], qL[j]);
  return lb > lim2;
}

/** A3 likewise (U, Lo: the window's raw envelope): 1 when start + LB_Keogh(query, its envelope) > lim2. */
static AVX2 int keogh_ec_x4(const double *q, const double *U, const double *Lo, int L, double m, double ib,
                            double start, double lim2) {
  const __m256d vm = _mm256_set1_pd(m), vib = _mm256_set1_pd(ib);
  __m256d a0 = _mm256_set_pd(0, 0, 0, start), a1 = _mm256_setzero_pd();
  int j = 0;
  for (; j + 8 <= L; j += 8) {
    const __m256d u0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(U + j), vm), vib);
    const __m256d l0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(Lo + j), vm), vib);
    const __m256d u1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(U + j + 4), vm), vib);
    const __m256d l1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(Lo + j + 4), vm), vib);
    a0 = _mm256_add_pd(a0, outside2x4(_mm256_loadu_pd(q + j), u0, l0));
    a1 = _mm256_add_pd(a1, outside2x4(_mm256_loadu_pd(q + j + 4), u1, l1));
    if ((j + 8) % CHECK_EVERY == 0 && hsum4(_mm256_add_pd(a0, a1)) > lim2) return 1;
  }
  double lb = hsum4(_mm256_add_pd(a0, a1));
  for (; j < L; j++) lb += outside2(q[j], (U[j] - m) * ib, (Lo[j] - m) * ib);
  return lb > lim2;
}

/**
 * exact_bounds_avx2 with stage A's normalisation w' = (x - m) * ib (within dW of the exact one, see
 * stage_b): the same sums, a multiplication where the exact one divides.
 */
static AVX2 void approx_bounds_avx2(int L, const double *x, double m, double ib, const double *q,
                                    const double *qU, const double *qL, const double *U, const double *Lo, double *w,
                                    double *cEQ, double *cEC, double *eq, double *ec) {
  const __m256d vm = _mm256_set1_pd(m), vib = _mm256_set1_pd(ib);
  __m256d aq = _mm256_setzero_pd(), ac = _mm256_setzero_pd();
  int j = 0;
  for (; j + 4 <= L; j += 4) {
    const __m256d wv = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j), vm), vib);
    _mm256_storeu_pd(w + j, wv);
    if (cEQ) {
      const __m256d e = outside2x4(wv, _mm256_loadu_pd(qU + j), _mm256_loadu_pd(qL + j));
      _mm256_storeu_pd(cEQ + j, e);
      aq = _mm256_add_pd(aq, e);
    }
    const __m256d u = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(U + j), vm), vib);
    const __m256d l = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(Lo + j), vm), vib);
    const __m256d f = outside2x4(_mm256_loadu_pd(q + j), u, l);
    _mm256_storeu_pd(cEC + j, f);
    ac = _mm256_add_pd(ac, f);
  }
  double sq = hsum4(aq), sc = hsum4(ac);
  for (; j < L; j++) {
    w[j] = (x[j] - m) * ib;
    if (cEQ) {
      cEQ[j] = outside2(w[j], qU[j], qL[j]);
      sq += cEQ[j];
    }
    cEC[j] = outside2(q[j], (U[j] - m) * ib, (Lo[j] - m) * ib);
    sc += cEC[j];
  }
  *eq = sq;
  *ec = sc;
}

/**
 * Stage B's normalised window w = (x - mean) / sd and, when cEQ is given, both LB_Keogh's contributions
 * per point (cEQ: w against the query's envelope; cEC: the query against the window's normalised raw
 * envelope U, Lo) and their sums.
 */
static AVX2 void exact_bounds_avx2(int L, const double *x, double mean, double sd, const double *q,
                                   const double *qU, const double *qL, const double *U, const double *Lo, double *w,
                                   double *cEQ, double *cEC, double *eq, double *ec) {
  if (sd < 0) {
    approx_bounds_avx2(L, x, mean, -sd, q, qU, qL, U, Lo, w, cEQ, cEC, eq, ec);
    return;
  }
  const __m256d vm = _mm256_set1_pd(mean), vs = _mm256_set1_pd(sd);
  int j = 0;
  if (!cEQ) {
    for (; j + 4 <= L; j += 4)
      _mm256_storeu_pd(w + j, _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j), vm), vs));
    for (; j < L; j++) w[j] = (x[j] - mean) / sd;
    return;
  }
  __m256d aq = _mm256_setzero_pd(), ac = _mm256_setzero_pd();
  for (; j + 4 <= L; j += 4) {
    const __m256d wv = _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(x + j), vm), vs);
    _mm256_storeu_pd(w + j, wv);
    const __m256d e = outside2x4(wv, _mm256_loadu_pd(qU + j), _mm256_loadu_pd(qL + j));
    _mm256_storeu_pd(cEQ + j, e);
    aq = _mm256_add_pd(aq, e);
    const __m256d u = _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(U + j), vm), vs);
    const __m256d l = _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(Lo + j), vm), vs);
    const __m256d f = outside2x4(_mm256_loadu_pd(q + j), u, l);
    _mm256_storeu_pd(cEC + j, f);
    ac = _mm256_add_pd(ac, f);
  }
  double sq = hsum4(aq), sc = hsum4(ac);
  for (; j < L; j++) {
    w[j] = (x[j] - mean) / sd;
    cEQ[j] = outside2(w[j], qU[j], qL[j]);
    sq += cEQ[j];
    cEC[j] = outside2(q[j], (U[j] - mean) / sd, (Lo[j] - mean) / sd);
    sc += cEC[j];
  }
  *eq = sq;
  *ec = sc;
}


/**
 * The rows both anti-diagonal DTWs read along a diagonal: k->wr[m] = w[n-1-m] and k->ubColR[m] =
 * ubCol[n-1-m] (along a diagonal, j = k - i falls as i rises, so row i's column sits at m = n-1-k+i,
 * ascending with i), and k->ubRow[m] = limit - cbRow[m+1]. The padding past n is read only by lanes
 * masked off.
 */
static AVX2 void diag_rows(const Ctx *k, const double *w, double limit, const double *cbRow,
                           const double *ubCol) {
  const int n = k->L;
  double *wr = k->wr, *ubR = k->ubRow, *ubC = k->ubColR;
  const __m256d vlimit = _mm256_set1_pd(limit);
  int m = 0;
  for (; m + 4 <= n; m += 4) {
    // Elements n-4-m .. n-1-m, reversed (a permutation: the values are unchanged).
    _mm256_storeu_pd(wr + m, _mm256_permute4x64_pd(_mm256_loadu_pd(w + n - 4 - m), 0x1B));
    _mm256_storeu_pd(ubC + m, _mm256_permute4x64_pd(_mm256_loadu_pd(ubCol + n - 4 - m), 0x1B));
    _mm256_storeu_pd(ubR + m, _mm256_sub_pd(vlimit, _mm256_loadu_pd(cbRow + m + 1)));
  }
  for (; m < n; m++) {
    wr[m] = w[n - 1 - m];
    ubC[m] = ubCol[n - 1 - m];
    ubR[m] = limit - cbRow[m + 1];
  }
}

/**
 * dtw_pruned's cells and values, computed along the anti-diagonals k = i + j four rows a step (AVX2): a
 * cell needs only the two diagonals before its own (up and left on k - 1, the diagonal neighbour on
 * k - 2), so the four cells of a step are independent and the loop is no longer one long chain of
 * min, add, compare per cell. Each cell is min(up, left, diag) + d * d as in the twin (min is exact, so
 * the order of the three does not matter), dead (Infinity) when above min(ubRow[i], ubCol[j]) exactly as
 * in dtw_pruned; a diagonal computes only the rows next to the previous two diagonals' live cells, and
 * when that range is empty no path survives (a path meets one of every two consecutive diagonals).
 * Diagonals are stored by row i; every slot outside the range last written holds Infinity.
 */
static AVX2 double dtw_diag_avx2(const Ctx *k, const double *w, double limit, const double *cbRow,
                                 const double *ubCol) {
  const int n = k->L, r = k->r;
  double *qp = k->qp, *wr = k->wr, *ubR = k->ubRow, *ubC = k->ubColR;
  diag_rows(k, w, limit, cbRow, ubCol);
  const __m256d inf = _mm256_set1_pd(INF);
  double *B[3] = {k->diag[0], k->diag[1], k->diag[2]}; // slot i of a diagonal at B[.][i], i from -4
  for (int b = 0; b < 3; b++)
    for (int i = -4; i < n + 4; i += 4) _mm256_storeu_pd(B[b] + i, inf);
  // Diagonal -2 holds the start: (0, 0) is then 0 + d * d, as the twin's first cell.
  B[1][-1] = 0;
  int dirtyLo[3] = {1, -1, 1}, dirtyHi[3] = {0, -1, 0}; // per buffer, the slots that may not be Infinity
  int lo1 = n, hi1 = -1;  // live rows of diagonal k - 1 (-1: none)
  int lo2 = -1, hi2 = -1; // of diagonal k - 2 (the start counts as live at row -1)
  int b0 = 0, b1 = 2, b2 = 1;
  for (int kk = 0; kk <= 2 * n - 2; kk++) {
    double *d0 = B[b0];
    const double *d1 = B[b1], *d2 = B[b2];
    // The rows next to the live cells of the two diagonals before, within the band and the matrix:
    // 0 <= i, j < n and |2i - k| <= r.
    int a = lo1 < lo2 + 1 ? lo1 : lo2 + 1;
    int b = hi1 + 1 > hi2 + 1 ? hi1 + 1 : hi2 + 1;
    int iMin = kk - (n - 1) > 0 ? kk - (n - 1) : 0;
    const int bandLo = (kk - r + 1) >> 1; // ceil((k - r) / 2); k - r may be negative
    if (bandLo > iMin) iMin = bandLo;
    int iMax = kk < n - 1 ? kk : n - 1;
    const int bandHi = (kk + r) >> 1;
    if (bandHi < iMax) iMax = bandHi;
    if (a < iMin) a = iMin;
    if (b > iMax) b = iMax;
    // No cell left to compute: every path is dead. (With band 0 the odd diagonals have no cell at all;
    // paths step over them.)
    if (a > b && iMin <= iMax) return INF;
    const int off = n - 1 - kk;
    // The first and the last vector with a live lane, and their masks: the live range's ends are read
    // from them once the diagonal is done, off the loop's path.
    int loI = -1, loM = 0, hiI = -1, hiM = 0, i = a;
    for (; i <= b; i += 4) {
      const __m256d up = _mm256_loadu_pd(d1 + i - 1), left = _mm256_loadu_pd(d1 + i);
      const __m256d dg = _mm256_loadu_pd(d2 + i - 1);
      const __m256d d = _mm256_sub_pd(_mm256_loadu_pd(qp + i), _mm256_loadu_pd(wr + off + i));
      const __m256d v = _mm256_add_pd(_mm256_min_pd(_mm256_min_pd(up, dg), left), _mm256_mul_pd(d, d));
      const __m256d ub = _mm256_min_pd(_mm256_loadu_pd(ubR + i), _mm256_loadu_pd(ubC + off + i));
      const __m256d live = _mm256_cmp_pd(v, ub, _CMP_LE_OQ);
      _mm256_storeu_pd(d0 + i, _mm256_blendv_pd(inf, v, live));
      // Lanes past b (outside the band or the matrix) count as dead; their slots are reset below.
      int mask = _mm256_movemask_pd(live);
      if (i + 3 > b) mask &= (1 << (b - i + 1)) - 1;
      const int first = mask != 0 && loI < 0;
      loI = first ? i : loI;
      loM = first ? mask : loM;
      hiI = mask ? i : hiI;
      hiM = mask ? mask : hiM;
    }
    const int nLo = loI < 0 ? n : loI + __builtin_ctz(loM | 16);
    const int nHi = hiI < 0 ? -1 : hiI + 31 - __builtin_clz(hiM | 1);
    for (int x = b + 1; x < i; x++) d0[x] = INF;
    // Slots this buffer held for diagonal k - 3 outside what was just written go back to Infinity.
    for (int x = dirtyLo[b0]; x <= dirtyHi[b0] && x < a; x++) d0[x] = INF;
    for (int x = dirtyLo[b0] > i ? dirtyLo[b0] : i; x <= dirtyHi[b0]; x++) d0[x] = INF;
    dirtyLo[b0] = a, dirtyHi[b0] = i - 1;
    lo2 = lo1, hi2 = hi1;
    lo1 = nLo, hi1 = nHi;
    const int t = b2;
    b2 = b1, b1 = b0, b0 = t;
  }
  const double *last = B[b1];
  // The last diagonal (2n - 2) is the cell (n - 1, n - 1), in the buffer just rotated to d1.
  return hi1 == n - 1 ? last[n - 1] : INF;
}

/**
 * dtw_diag_avx2's cells and values without its live-range bookkeeping: every diagonal computes the whole
 * band, the same fixed number V of vectors from its first row, so the loop's trip count never changes and
 * its branches are predicted (measured: the variable ranges, their ends and the resets of stale slots
 * cost more in mispredictions than the cells they skip). A cell whose predecessors are all dead gets
 * Infinity + d * d = Infinity, above any bound, so it is dead as in dtw_diag_avx2: the live cells and their
 * values are the same. Lanes past the diagonal's last row (outside the band or the matrix) are dead by
 * their bound. The call abandons when two consecutive diagonals have no live cell (a path meets one of
 * every two). Stale slots: diagonal k writes rows [iMin, iMin + 4V) and Infinity just outside them; its
 * first row iMin never falls and rises at most one a diagonal, so diagonals k + 1 and k + 2 read only
 * rows [iMin(k) - 1, iMin(k) + 4V] of it (checked in the comments below). This replaces dtw_diag_avx2 in
 * the search (decision 129); that one stays as the measured alternative (stage flag F_LIVE).
 */
static AVX2 double dtw_band_avx2(const Ctx *k, const double *w, double limit, const double *cbRow,
                                 const double *ubCol) {
  const int n = k->L, r = k->r < n - 1 ? k->r : n - 1;
  double *qp = k->qp, *wr = k->wr, *ubR = k->ubRow, *ubC = k->ubColR; // diag_rows's, made by dtw_of
  const int V = (r + 1 + 3) >> 2; // a diagonal has at most r + 1 cells in the band
  const __m256d inf = _mm256_set1_pd(INF), lanes = _mm256_set_pd(3, 2, 1, 0);
  double *B[3] = {k->diag[0], k->diag[1], k->diag[2]};
  for (int b = 0; b < 3; b++)
    for (int i = -4; i < 4 * V + 4; i += 4) _mm256_storeu_pd(B[b] + i, inf);
  B[1][-1] = 0; // diagonal -2 holds the start, as in dtw_diag_avx2
  int b0 = 0, b1 = 2, b2 = 1, liveBefore = 1;
  for (int kk = 0; kk <= 2 * n - 2; kk++) {
    double *d0 = B[b0];
    const double *d1 = B[b1], *d2 = B[b2];
    int iMin = kk - (n - 1) > 0 ? kk - (n - 1) : 0;
    const int bandLo = (kk - r + 1) >> 1;
    if (bandLo > iMin) iMin = bandLo;
    int iMax = kk < n - 1 ? kk : n - 1;
    const int bandHi = (kk + r) >> 1;
    if (bandHi < iMax) iMax = bandHi;
    // Reads: d1 rows [iMin - 1, iMin + 4V - 1], d2 rows [iMin - 1, iMin + 4V - 2]; written (with the
    // Infinity just outside) were [iMin(k-1) - 1, iMin(k-1) + 4V] and [iMin(k-2) - 1, iMin(k-2) + 4V], and
    // iMin - 2 <= iMin(k-2) <= iMin(k-1) <= iMin.
    const int off = n - 1 - kk;
    const __m256d top = _mm256_set1_pd((double)(iMax - iMin));
    __m256d any = _mm256_setzero_pd();
    d0[iMin - 1] = INF;
    for (int s = 0, i = iMin; s < V; s++, i += 4) {
      const __m256d up = _mm256_loadu_pd(d1 + i - 1), left = _mm256_loadu_pd(d1 + i);
      const __m256d dg = _mm256_loadu_pd(d2 + i - 1);
      const __m256d d = _mm256_sub_pd(_mm256_loadu_pd(qp + i), _mm256_loadu_pd(wr + off + i));
      const __m256d v = _mm256_add_pd(_mm256_min_pd(_mm256_min_pd(up, dg), left), _mm256_mul_pd(d, d));
      const __m256d ub = _mm256_min_pd(_mm256_loadu_pd(ubR + i), _mm256_loadu_pd(ubC + off + i));
      const __m256d in = _mm256_cmp_pd(_mm256_add_pd(lanes, _mm256_set1_pd(4.0 * s)), top, _CMP_LE_OQ);
      const __m256d live = _mm256_and_pd(_mm256_cmp_pd(v, ub, _CMP_LE_OQ), in);
      _mm256_storeu_pd(d0 + i, _mm256_blendv_pd(inf, v, live));
      any = _mm256_or_pd(any, live);
    }
    d0[iMin + 4 * V] = INF;
    const int live = _mm256_movemask_pd(any) != 0;
    if (!live && !liveBefore) return INF;
    liveBefore = live;
    const int t = b2;
    b2 = b1, b1 = b0, b0 = t;
  }
  // The last diagonal (2n - 2) is the cell (n - 1, n - 1), its first row, in the buffer rotated to d1.
  return B[b1][n - 1];
}

/** [prev7, cur0 .. cur6]: a diagonal's vector moved one row down (row i - 1 in lane 0 of row i's vector). */
static inline AVX2 __m256 rows_down(__m256 prev, __m256 cur) {
  return _mm256_castsi256_ps(
      _mm256_alignr_epi8(_mm256_castps_si256(cur), _mm256_castps_si256(_mm256_permute2f128_ps(prev, cur, 0x21)), 12));
}

/** [cur1 .. cur7, next0]: moved one row up. */
static inline AVX2 __m256 rows_up(__m256 cur, __m256 next) {
  return _mm256_castsi256_ps(
      _mm256_alignr_epi8(_mm256_castps_si256(_mm256_permute2f128_ps(cur, next, 0x21)), _mm256_castps_si256(cur), 4));
}

/**
 * dtw_band_f32's diagonals, V vectors of eight rows each (a constant: the loops unroll and the two
 * diagonals before the current one live in registers, so the chain from one diagonal to the next never
 * goes through memory). The cells, values and liveness are dtw_band_avx2's, in float: diagonal k holds rows
 * [iMin(k), iMin(k) + 8V), Infinity outside. A cell (i, j) on diagonal k reads up (i - 1) and left (i)
 * on k - 1 and diag (i - 1) on k - 2. iMin rises by 0 or 1 a diagonal (both its terms do), so on k - 1
 * row i is either the same lane (then up is the vector moved a row down, Infinity entering at row
 * iMin(k-1) - 1) or the next one (up is the stored vector, left it moved a row up, Infinity entering at
 * row iMin(k-1) + 8V); on k - 2, row i - 1 sits 0, 1 or 2 rows past iMin(k-2) - 1 likewise.
 * Returns Infinity when the DTW is abandoned or ends dead, else 0.
 */
static inline __attribute__((always_inline)) AVX2 double f32_diagonals(const Ctx *k, const int V) {
  const int n = k->L, r = k->r < n - 1 ? k->r : n - 1;
  const float *qp = k->qpF, *wr = k->wrF, *ubR = k->ubRowF, *ubC = k->ubColRF;
  const __m256 inf = _mm256_set1_ps(__builtin_inff()), lanes = _mm256_set_ps(7, 6, 5, 4, 3, 2, 1, 0);
  __m256 D1[4], D2[4], D0[4];
  // Diagonal -1 (rows from 0) is dead; diagonal -2 (rows from -1) holds the start, 0 at row -1.
#pragma GCC unroll 4
  for (int s = 0; s < V; s++) D1[s] = D2[s] = inf;
  D2[0] = _mm256_blend_ps(inf, _mm256_setzero_ps(), 1);
  int p1 = 0, p2 = -1, liveBefore = 1;
  for (int kk = 0; kk <= 2 * n - 2; kk++) {
    int iMin = kk - (n - 1) > 0 ? kk - (n - 1) : 0;
    const int bandLo = (kk - r + 1) >> 1;
    if (bandLo > iMin) iMin = bandLo;
    int iMax = kk < n - 1 ? kk : n - 1;
    const int bandHi = (kk + r) >> 1;
    if (bandHi < iMax) iMax = bandHi;
    const int off = n - 1 - kk, up1 = iMin - p1, o2 = iMin - 1 - p2; // up1 in {0, 1}, o2 in {-1, 0, 1}
    const __m256 top = _mm256_set1_ps((float)(iMax - iMin));
    __m256 any = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int s = 0; s < V; s++) {
      const int i = iMin + 8 * s;
      const __m256 below1 = s > 0 ? D1[s - 1] : inf, above1 = s + 1 < V ? D1[s + 1] : inf;
      const __m256 below2 = s > 0 ? D2[s - 1] : inf, above2 = s + 1 < V ? D2[s + 1] : inf;
      const __m256 up = up1 ? D1[s] : rows_down(below1, D1[s]);
      const __m256 left = up1 ? rows_up(D1[s], above1) : D1[s];
      const __m256 dg = o2 < 0 ? rows_down(below2, D2[s]) : o2 > 0 ? rows_up(D2[s], above2) : D2[s];
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(qp + i), _mm256_loadu_ps(wr + off + i));
      const __m256 v = _mm256_add_ps(_mm256_min_ps(_mm256_min_ps(up, dg), left), _mm256_mul_ps(d, d));
      const __m256 ub = _mm256_min_ps(_mm256_loadu_ps(ubR + i), _mm256_loadu_ps(ubC + off + i));
      const __m256 in = _mm256_cmp_ps(_mm256_add_ps(lanes, _mm256_set1_ps(8.0f * s)), top, _CMP_LE_OQ);
      const __m256 live = _mm256_and_ps(_mm256_cmp_ps(v, ub, _CMP_LE_OQ), in);
      D0[s] = _mm256_blendv_ps(inf, v, live);
      any = _mm256_or_ps(any, live);
    }
    const int live = _mm256_movemask_ps(any) != 0;
    if (!live && !liveBefore) return INF;
    liveBefore = live;
#pragma GCC unroll 4
    for (int s = 0; s < V; s++) D2[s] = D1[s], D1[s] = D0[s];
    p2 = p1, p1 = iMin;
  }
  // The last diagonal (2n - 2) is the cell (n - 1, n - 1), its first row: lane 0.
  return _mm256_cvtss_f32(D1[0]) == __builtin_inff() ? INF : 0;
}

/**
 * A float DTW before the double one (decision 140): the same cells as dtw_band_avx2, eight lanes a
 * vector, so a band of 25 takes 4 vectors a diagonal instead of 7. It returns Infinity only where
 * dtw_band_avx2 (with the bounds diag_rows made) returns Infinity too, so dtw_of skips the double DTW
 * there; 0 says nothing (dtw_of then runs the double one), and -1 that it did not run (a band past 31
 * rows, no finite limit, or a window far from normalised).
 *
 * Why Infinity is sound. Say the double DTW is finite: some path P (the chain of its result) has every
 * cell c live, its double value v(c) <= ub(c) = min(ubRow[i], ubCol[j]). The exact sum S(c) of P's
 * squared differences up to c is at most v(c) (1 + 1e-9): a double sum of at most 2n terms errs by far
 * less. The float inputs differ from the double ones by at most U_F32 |x| each, so by the triangle
 * inequality along P's at most 2n - 1 cells the exact sum on the float inputs S'(c) has
 * sqrt(S'(c)) <= sqrt(S(c)) + delta, delta = sqrt(2n) U_F32 (max|q| + max|w|). The float DP's value at c
 * is at most the float evaluation of P's sum up to c (rounding is monotone, so min(...) + d * d rounds
 * to at most P's own predecessor's value + d * d), and that is at most S'(c) (1 + U_F32)^(2n + 3) (each
 * term's difference, square and addition round once). So with the float bounds
 *   ubF = T(ub) = (sqrt(ub (1 + 1e-9)) + delta)^2 (1 + gamma), gamma >= (1 + U_F32)^(2n + 8) - 1
 * (gamma also covers the bound's own rounding to float, upwards of its double value by at most U_F32),
 * every cell of P stays live in the float DTW, which therefore does not abandon and ends finite. T is
 * increasing, so T(min(a, b)) = min(T(a), T(b)): the rows' and the columns' bounds are made apart.
 */
static AVX2 double dtw_band_f32(const Ctx *k, const double *w, double limit, const double *cbRow,
                                const double *ubCol) {
  const int n = k->L, r = k->r < n - 1 ? k->r : n - 1;
  // A diagonal has at most r + 1 cells in the band: 2 to 4 vectors of eight (F32_MIN_BAND <= r <= 31); a
  // wider band's 5 or more would not fit the registers, and it runs the double DTW alone.
  const int V = (r + 1 + 7) >> 3;
  if (V > 4) return -1;
  float *wr = k->wrF, *ubR = k->ubRowF, *ubC = k->ubColRF;
  // The bounds' largest value A (both rise along their rows: the last is the limit they were made from).
  const double A = ubCol[n - 1] < INF && ubCol[n - 1] > limit ? ubCol[n - 1] : limit;
  // max |w|
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d wMax4 = _mm256_setzero_pd();
  int m = 0;
  for (; m + 4 <= n; m += 4) wMax4 = _mm256_max_pd(wMax4, _mm256_andnot_pd(sign, _mm256_loadu_pd(w + m)));
  double t4[4], wMax = 0;
  _mm256_storeu_pd(t4, wMax4);
  for (int u = 0; u < 4; u++) wMax = t4[u] > wMax ? t4[u] : wMax;
  for (; m < n; m++) wMax = __builtin_fabs(w[m]) > wMax ? __builtin_fabs(w[m]) : wMax;
  // Far outside what normalised windows hold (|w| <= sqrt(L)): no filter (the float squares could overflow).
  if (!(wMax < 1e15) || !(A < INF)) return -1;
  const double delta = __builtin_sqrt(2.0 * n) * U_F32 * (k->qMax + wMax) * (1 + 1e-6) + 1e-30;
  const double gamma = 1.01 * (2.0 * n + 8) * U_F32;
  // T(a) = (sqrt(a (1 + 1e-9)) + delta)^2 (1 + gamma) <= a c1 + c0 for every a <= A, a linear map (and
  // for a < 0 any value is sound: no live double cell has a negative bound).
  const double c1 = (1 + 1e-9) * (1 + gamma);
  const double c0 = (2 * delta * __builtin_sqrt(A * (1 + 1e-9)) + delta * delta) * (1 + gamma);
  const __m256d vc1 = _mm256_set1_pd(c1), vc0 = _mm256_set1_pd(c0), vlimit = _mm256_set1_pd(limit);
  // The rows dtw_band_avx2 reads along a diagonal (see diag_rows), in float: the window reversed, the row
  // bounds T(limit - cbRow[m + 1]) and the column bounds T(ubCol) reversed.
  for (m = 0; m + 4 <= n; m += 4) {
    _mm_storeu_ps(wr + m, _mm256_cvtpd_ps(_mm256_permute4x64_pd(_mm256_loadu_pd(w + n - 4 - m), 0x1B)));
    const __m256d uc = _mm256_permute4x64_pd(_mm256_loadu_pd(ubCol + n - 4 - m), 0x1B);
    _mm_storeu_ps(ubC + m, _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(uc, vc1), vc0)));
    const __m256d ur = _mm256_sub_pd(vlimit, _mm256_loadu_pd(cbRow + m + 1));
    _mm_storeu_ps(ubR + m, _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(ur, vc1), vc0)));
  }
  for (; m < n; m++) {
    wr[m] = (float)w[n - 1 - m];
    ubC[m] = (float)(ubCol[n - 1 - m] * c1 + c0);
    ubR[m] = (float)((limit - cbRow[m + 1]) * c1 + c0);
  }
  return V == 2 ? f32_diagonals(k, 2) : V == 3 ? f32_diagonals(k, 3) : f32_diagonals(k, 4);
}

/**
 * Stage A four windows at a time (AVX2): the prefix-sum statistics and LB_Kim of windows t..t+3 in one
 * vector each (the same operations as stage_a_prunes, lane by lane), then A2 and A3 for the survivors in
 * row order, vectorised over the points. Same bounds as the portable path, so the same windows survive
 * up to the order of a sum's additions (far inside the slack).
 */
static AVX2 int64_t scan_avx2(Ctx *k, const Range *g, int64_t lo, int64_t hi) {
  const int L = k->L;
  const double *q = k->q;
  double *stats = g->stats;
  int64_t exact = 0, t = lo;
  if (g->finite) {
    const __m256d invL = _mm256_set1_pd(k->invL), varFloor = _mm256_set1_pd(g->varFloor);
    const __m256d one = _mm256_set1_pd(1), eMu = _mm256_set1_pd(g->eMu), c24 = _mm256_set1_pd(g->c24);
    const __m256d tau = _mm256_set1_pd(g->tau), sqrtL = _mm256_set1_pd(k->sqrtL), c = _mm256_set1_pd(g->c);
    const __m256d q0 = _mm256_set1_pd(q[0]), q1 = _mm256_set1_pd(q[1]);
    const __m256d qE0 = _mm256_set1_pd(q[L - 1]), qE1 = _mm256_set1_pd(q[L - 2]);
    const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    const int kim = (k->flags & F_KIM) != 0;
    double ibs[4], kims[4], ms[4], lim2s[4], oks[4], dWs[4];
    // LB_Enhanced with V = 2 (see stage_a_prunes): LB_Kim's slices plus LB_Keogh over the other points.
    const int from = kim ? 2 : 0, mid = L - 2 * from;
    for (; t + 4 <= hi; t += 4) {
      if (stop_due(k, 4 * (int64_t)L)) return exact;
      const double *x = g->closes + t, *s1 = g->sum1 + t + g->e, *s2 = g->sum2 + t + g->e;
      const __m256d muc = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(s1 + L), _mm256_loadu_pd(s1)), invL);
      const __m256d v = _mm256_sub_pd(_mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(s2 + L), _mm256_loadu_pd(s2)), invL),
                                      _mm256_mul_pd(muc, muc));
      const __m256d ok = _mm256_cmp_pd(v, varFloor, _CMP_GT_OQ);
      const __m256d ib = _mm256_div_pd(one, _mm256_sqrt_pd(v));
      const __m256d dW = _mm256_mul_pd(_mm256_add_pd(eMu, _mm256_mul_pd(_mm256_mul_pd(c24, ib), ib)), ib);
      const __m256d lim = _mm256_add_pd(tau, _mm256_mul_pd(sqrtL, dW));
      const __m256d lim2 = _mm256_mul_pd(lim, lim);
      const __m256d m = _mm256_add_pd(c, muc);
      __m256d keep, b = _mm256_setzero_pd();
      if (kim) {
        const __m256d x0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x), m), ib);
        const __m256d x1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + 1), m), ib);
        const __m256d y0 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + L - 1), m), ib);
        const __m256d y1 = _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(x + L - 2), m), ib);
        __m256d d = _mm256_sub_pd(q0, x0);
        b = _mm256_mul_pd(d, d);
        d = _mm256_sub_pd(qE0, y0);
        b = _mm256_add_pd(b, _mm256_mul_pd(d, d));
        __m256d a1 = _mm256_sub_pd(q0, x1), a2 = _mm256_sub_pd(q1, x0), a3 = _mm256_sub_pd(q1, x1);
        b = _mm256_add_pd(b, _mm256_min_pd(_mm256_mul_pd(a1, a1), _mm256_min_pd(_mm256_mul_pd(a2, a2), _mm256_mul_pd(a3, a3))));
        a1 = _mm256_sub_pd(qE0, y1), a2 = _mm256_sub_pd(qE1, y0), a3 = _mm256_sub_pd(qE1, y1);
        b = _mm256_add_pd(b, _mm256_min_pd(_mm256_mul_pd(a1, a1), _mm256_min_pd(_mm256_mul_pd(a2, a2), _mm256_mul_pd(a3, a3))));
        // Kept: within the bound, or too flat for stage A (then B decides).
        keep = _mm256_or_pd(_mm256_cmp_pd(b, lim2, _CMP_LE_OQ), _mm256_xor_pd(ok, all));
      } else
        keep = all;
      const int mask = _mm256_movemask_pd(keep);
      if (mask != 15) stats[ST_KIM] += 4 - __builtin_popcount(mask);
      if (mask == 0) continue;
      _mm256_storeu_pd(ibs, ib);
      _mm256_storeu_pd(kims, b);
      _mm256_storeu_pd(ms, m);
      _mm256_storeu_pd(lim2s, lim2);
      _mm256_storeu_pd(oks, ok);
      _mm256_storeu_pd(dWs, dW);
      for (int lane = 0; lane < 4; lane++) {
        if (!(mask >> lane & 1)) continue;
        const int64_t tt = t + lane;
        int64_t okBits; // the compare's all-ones mask is a NaN as a double: test its bits
        memcpy(&okBits, &oks[lane], sizeof okBits);
        const Approx ap = {ms[lane], ibs[lane], dWs[lane]};
        if (okBits) {
          const double lb0 = kim ? kims[lane] : 0;
          if ((k->flags & F_KEOGH_EQ) && keogh_eq_x4(g->closes + tt + from, k->qU + from, k->qL + from, mid,
                                                      ms[lane], ibs[lane], lb0, lim2s[lane])) {
            stats[ST_KEOGH_EQ]++;
            continue;
          }
          if ((k->flags & F_KEOGH_EC) && keogh_ec_x4(q + from, g->rawU + tt + from, g->rawL + tt + from, mid,
                                                      ms[lane], ibs[lane], lb0, lim2s[lane])) {
            stats[ST_KEOGH_EC]++;
            continue;
          }
        }
        // Stage A's normalisation only where its margin is a hair of tau (on a long series with large
        // values the prefix sums' rounding makes dW large enough to let windows through to the exact DTW
        // that the exact bounds would have pruned: measured at L=60 on the bench market, decision 134).
        const int approx = okBits && (k->flags & F_CUMULATIVE) && k->sqrt2L * dWs[lane] <= APPROX_MARGIN * g->tau;
        if (stage_b(k, g, tt, approx ? &ap : NULL)) {
          exact++;
          if (stop_due(k, k->cells)) return exact;
        }
      }
    }
  }
  for (; t < hi; t++) {
    if (stop_due(k, L)) return exact;
    if (g->finite && stage_a_prunes(k, g, t)) continue;
    if (stage_b(k, g, t, NULL)) {
      exact++;
      if (stop_due(k, k->cells)) return exact;
    }
  }
  return exact;
}
#else
// Elsewhere only the portable path runs (k->simd is 0); these never run.
static int has_avx2(void) { return 0; }
static inline void exact_bounds_avx2(int L, const double *x, double mean, double sd, const double *q, const double *qU,
                              const double *qL, const double *U, const double *Lo, double *w, double *cEQ,
                              double *cEC, double *eq, double *ec) {}
static inline int64_t scan_avx2(Ctx *k, const Range *g, int64_t lo, int64_t hi) { return 0; }
static double dtw_diag_avx2(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol) {
  return INF;
}
static double dtw_band_avx2(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol) {
  return INF;
}
static void diag_rows(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol) {}
static double dtw_band_f32(const Ctx *k, const double *w, double limit, const double *cbRow, const double *ubCol) {
  return -1;
}
#endif

/**
 * Picks mode: the greedy picks among the range's candidates (its first match and the windows after it
 * that passed every bound; the range is its entity's only one in the call), appended to the outputs
 * instead of every window within tau2. Greedy (greedyPicks in src/search/top-picks.ts) takes windows by ascending (distance, start) and drops
 * those overlapping a pick; here the candidates wait in a heap by (key, start), a key being a lower
 * bound of the distance until the DTW is computed, then the distance. The lowest entry, if it overlaps
 * a pick, is dropped (its distance is at least its key, so greedy dropped it too); else a bound gets its
 * DTW and goes back with its distance (or out, when farther than tau2); a distance is the next pick: no
 * other window can come before it in greedy's order. So the picks are greedy's on the full list, while
 * the neighbours of a match that a pick blocks are never computed. A candidate's DTW inputs were
 * stored when it was collected (k->store) or, past the store, are computed again. Returns the DTWs
 * computed.
 */
static int64_t select_picks(Ctx *k, Range *g) {
  const int L = k->L;
  Cand *h = k->cand;
  int n = k->nCand, picks = 0;
  const int64_t first = *g->nOut;
  int64_t exact = 0;
  k->lazy = 0;
  while (n > 0 && picks < k->picks) {
    Cand c = cand_pop(h, &n);
    int blocked = 0;
    for (int64_t x = first; x < *g->nOut && !blocked; x++) blocked = c.t < g->outT[x] + L && g->outT[x] < c.t + L;
    if (blocked) continue;
    if (c.exact == CAND_EXACT) {
      g->outT[*g->nOut] = c.t;
      g->outD[*g->nOut] = c.key;
      (*g->nOut)++;
      picks++;
      continue;
    }
    const int64_t before = *g->nOut;
    // The smallest distance waiting in the heap among the windows overlapping c (Infinity: none). If c
    // is farther, it is not the next pick and that window, once picked, blocks it: so its DTW is abandoned
    // against that distance, and it goes back as CAND_ABOVE with it as key, computed again only if it comes
    // up unblocked. (Every heap window as the cap, overlapping or not, recomputed most of them: 45 % more
    // DTWs on the demo at L=250 top-100; decision 134.)
    double best = INF;
    for (int x = 0; x < n; x++)
      if (h[x].exact == CAND_EXACT && h[x].key < best && c.t < h[x].t + L && h[x].t < c.t + L) best = h[x].key;
    // The cap, with the hair of slack the range's limit has, so an abandoned DTW proves distance > best.
    const double cap = best * SLACK;
    k->dtwCap = cap;
    k->lastD2 = -1;
    int computed, above = 0;
    if (c.slot >= 0 && c.dW > 0) {
      // Stored on stage A's normalisation (see stage_b): the DTW on it first, against the cap or tau2
      // widened by sqrt(2L) dW; only one that comes within is computed exactly (then as below).
      const double *w = k->store + (size_t)c.slot * (3 * (size_t)L + 1);
      const double lt = g->tau + k->sqrt2L * c.dW, ct = __builtin_sqrt(cap) + k->sqrt2L * c.dW;
      const double limA = lt * lt, capA = best < INF ? ct * ct : INF;
      g->stats[ST_DTW]++;
      computed = 1;
      if (dtw_test(k, w, capA < limA ? capA : limA, w + L, w + 2 * L + 1) == INF) {
        g->stats[ST_ABANDONED]++;
        above = capA < limA;
      } else
        stage_b(k, g, c.t, NULL);
    } else if (c.slot >= 0) {
      const double *w = k->store + (size_t)c.slot * (3 * (size_t)L + 1);
      computed = dtw_append(k, g, c.t, w, w + L, w + 2 * L + 1);
    } else
      computed = stage_b(k, g, c.t, NULL);
    k->dtwCap = INF;
    // Abandoned against the cap (not the range's limit): farther than best.
    if (k->lastD2 == INF && cap < g->limit) above = 1;
    // The count is of windows given a DTW: a CAND_ABOVE one's second DTW is not another (stats count both).
    if (c.exact != CAND_ABOVE) exact += computed;
    if (stop_due(k, k->cells)) break;
    if (*g->nOut > before) {
      // Within tau2: back into the heap with its distance.
      c.key = g->outD[before];
      c.exact = CAND_EXACT;
      *g->nOut = before;
      cand_push(h, &n, c);
    } else if (above) {
      // Farther than best: back behind it.
      c.key = best;
      c.exact = CAND_ABOVE;
      cand_push(h, &n, c);
    }
  }
  k->lazy = 1;
  return exact;
}

/**
 * Rows [lo, hi) of one entity (global rows; a = its first row, e its index), threshold tau2: appends the
 * windows within tau2 to outT / outD and returns how many DTWs were computed.
 */
static int64_t scan_range(Ctx *k, const double *closes, const double *sum1, const double *sum2, int64_t e,
                          int64_t a, int64_t n, double c, double M, int64_t lo, int64_t hi, double tau2,
                          int32_t *outT, double *outD, int64_t *nOut, double *stats) {
  const int L = k->L, r = k->r;
  const double U = U_ROUND;
  Range g;
  g.closes = closes, g.sum1 = sum1, g.sum2 = sum2, g.e = e, g.c = c;
  g.outT = outT, g.outD = outD, g.nOut = nOut, g.stats = stats;
  // Stage A's slack (as the TypeScript reference kernel): worst-case rounding of prefix-sum differences.
  const double nn = (double)n;
  const double eP = 2 * nn * nn * U * M + U;
  const double eP2 = 2 * nn * nn * U * M * M + U;
  g.eMu = eP * k->invL + 2 * U * (__builtin_fabs(c) + M);
  g.eVar = eP2 * k->invL + 2 * M * g.eMu + g.eMu * g.eMu + 4 * U * M * M;
  g.c24 = 2.4 * M * g.eVar;
  g.varFloor = 4 * g.eVar;
  g.tau = __builtin_sqrt(tau2) * SLACK;
  g.tau2 = tau2;
  g.finite = tau2 != INF;
  g.limit = tau2 * SLACK;
  // The entity's raw envelope over every row a window of the range reads, padded by r where it can be.
  const int64_t eLo = lo - r > a ? lo - r : a;
  const int64_t eHi = hi - 1 + L + r < a + n ? hi - 1 + L + r : a + n;
  g.rawU = k->rawU - eLo, g.rawL = k->rawL - eLo; // indexed by global row
  if (g.finite && hi > lo) envelope_vh(closes + eLo, (int)(eHi - eLo), r, k->rawU, k->rawL, k->vh);
  stats[ST_WINDOWS] += (double)(hi - lo);
  k->nCand = 0;
  k->nStored = 0;
  int64_t exact = 0;
  if (k->simd) exact = scan_avx2(k, &g, lo, hi);
  else
    for (int64_t t = lo; t < hi; t++) {
      if (stop_due(k, L)) break;
      if (g.finite && stage_a_prunes(k, &g, t)) continue;
      if (stage_b(k, &g, t, NULL)) {
        exact++;
        if (stop_due(k, k->cells)) break;
      }
    }
  // A stopped call's outputs are dropped (it returns -1), so its partial candidates are not selected.
  if (k->stopped) return exact;
  if (k->lazy) exact += select_picks(k, &g);
  return exact;
}

#define F64(i, name, len)                                                                                    \
  const double *name = typed_of(env, argv[i], napi_float64_array, &len,                                      \
                                "dtwscan.scanChunk: argument " #i " must be a Float64Array");                \
  if (!name) return NULL;

/**
 * scanChunk(closes, sum1, sum2, offsets, center, spread, plan, kLo, kHi, q, order, band, tau2, outT,
 * outD, outEnd, stats, flags, control): the plan's triples at plan[kLo .. kHi) with one threshold tau2
 * (Infinity: no pruning). Windows within tau2 go to outT (start row) and outD (squared distance) in order;
 * outEnd[i] is how many there are after triple i; stats[0..8) accumulate the cascade's counters; flags
 * (F_*) picks the stages (63: all). control: the search's control word (an Int32Array, read while the call
 * runs, see stop_due) or null. Returns the DTWs computed, or -1 when the control word stopped the call
 * (then the outputs are partial).
 */
static napi_value ScanChunk(napi_env env, napi_callback_info info) {
  napi_value argv[19];
  if (!args_of(env, info, argv, 19, "dtwscan.scanChunk: expected 19 arguments")) return NULL;
  size_t nCloses, nS1, nS2, nOff, nCenter, nSpread, nPlan, nQ, nT, nD, nEnd, nStats;
  F64(0, closes, nCloses);
  F64(1, sum1, nS1);
  F64(2, sum2, nS2);
  const int32_t *offsets = typed_of(env, argv[3], napi_int32_array, &nOff, "dtwscan.scanChunk: offsets must be an Int32Array");
  if (!offsets) return NULL;
  F64(4, center, nCenter);
  F64(5, spread, nSpread);
  const int32_t *plan = typed_of(env, argv[6], napi_int32_array, &nPlan, "dtwscan.scanChunk: plan must be an Int32Array");
  if (!plan) return NULL;
  F64(9, q, nQ);
  size_t nOrder;
  const int32_t *order = typed_of(env, argv[10], napi_int32_array, &nOrder, "dtwscan.scanChunk: order must be an Int32Array");
  if (!order) return NULL;
  int32_t *outT = typed_of(env, argv[13], napi_int32_array, &nT, "dtwscan.scanChunk: outT must be an Int32Array");
  if (!outT) return NULL;
  double *outD = typed_of(env, argv[14], napi_float64_array, &nD, "dtwscan.scanChunk: outD must be a Float64Array");
  if (!outD) return NULL;
  int32_t *outEnd = typed_of(env, argv[15], napi_int32_array, &nEnd, "dtwscan.scanChunk: outEnd must be an Int32Array");
  if (!outEnd) return NULL;
  double *stats = typed_of(env, argv[16], napi_float64_array, &nStats, "dtwscan.scanChunk: stats must be a Float64Array");
  if (!stats) return NULL;
  static const int intArgs[] = {7, 8, 11, 17};
  int64_t ia[4];
  double tau2;
  if (!ints_of(env, argv, intArgs, 4, ia, "dtwscan.scanChunk: kLo, kHi, band, tau2 and flags must be numbers"))
    return NULL;
  if (napi_get_value_double(env, argv[12], &tau2) != napi_ok) {
    napi_throw_type_error(env, NULL, "dtwscan.scanChunk: kLo, kHi, band, tau2 and flags must be numbers");
    return NULL;
  }
  const int64_t kLo = ia[0], kHi = ia[1], band = ia[2], flags = ia[3];
  napi_valuetype controlType;
  napi_typeof(env, argv[18], &controlType);
  const int32_t *control = NULL;
  if (controlType != napi_null && controlType != napi_undefined) {
    size_t nControl;
    control = typed_of(env, argv[18], napi_int32_array, &nControl,
                       "dtwscan.scanChunk: control must be an Int32Array or null");
    if (!control) return NULL;
    if (nControl < 1) {
      napi_throw_range_error(env, NULL, "dtwscan.scanChunk: control must hold a word");
      return NULL;
    }
  }
  const int64_t L = (int64_t)nQ, entities = (int64_t)nOff - 1;
  if (L < 4 || L > 500 || band < 0 || kLo < 0 || kHi < kLo || kHi > (int64_t)nPlan || (kHi - kLo) % 3 != 0 ||
      (int64_t)nEnd < (kHi - kLo) / 3 || entities < 0 || (int64_t)nCenter < entities || (int64_t)nSpread < entities ||
      nStats < ST_COUNT || (int64_t)nOrder != L || !(tau2 >= 0)) {
    napi_throw_range_error(env, NULL, "dtwscan.scanChunk: an argument is out of range");
    return NULL;
  }
  const int r = (int)(band < L ? band : L - 1);
  // Check every triple before touching memory: its windows start and end inside its entity, its prefix
  // rows exist, and the outputs have room for every window.
  int64_t windows = 0, widest = 0;
  for (int64_t kk = kLo; kk < kHi; kk += 3) {
    const int64_t e = plan[kk], lo = plan[kk + 1], hi = plan[kk + 2];
    if (e < 0 || e >= entities || offsets[e] < 0 || offsets[e + 1] < offsets[e] ||
        offsets[e + 1] > (int64_t)nCloses || lo < offsets[e] || hi < lo ||
        (hi > lo && hi - 1 + L > offsets[e + 1]) || offsets[e + 1] + e + 1 > (int64_t)nS1 ||
        offsets[e + 1] + e + 1 > (int64_t)nS2) {
      napi_throw_range_error(env, NULL, "dtwscan.scanChunk: a range runs past its entity or the arrays");
      return NULL;
    }
    windows += hi - lo;
    if (hi - lo + L + 2 * r > widest) widest = hi - lo + L + 2 * r;
  }
  if (windows > (int64_t)nT || windows > (int64_t)nD) {
    napi_throw_range_error(env, NULL, "dtwscan.scanChunk: outT / outD are too short");
    return NULL;
  }
  Ctx k;
  k.L = (int)L;
  k.r = r;
  k.q = q;
  k.flags = (int)(flags & 0xffff);
  // Bits 16 and up: picks per entity (picks mode, see select_picks), 0 for every window within tau2.
  k.picks = (int)(flags >> F_PICKS_SHIFT);
  k.dtwCap = INF;
  k.lastD2 = -1;
  k.simd = !(flags & F_SCALAR) && has_avx2();
  k.sqrtL = __builtin_sqrt((double)L);
  k.sqrt2L = __builtin_sqrt(2 * (double)L);
  k.invL = 1 / (double)L;
  k.control = control;
  k.work = 0;
  k.stopped = 0;
  k.cells = L * (2 * (int64_t)r + 1);
  const size_t nd = (size_t)(14 * L + 6) + 7 * (size_t)(2 * L + 24) + 7 * (size_t)(L + 24) + 2 * (size_t)widest +
                    5 * (size_t)(widest + 2 * r);
  double *pool = malloc(nd * sizeof(double));
  int *ipool = malloc(((size_t)L + 2 * (size_t)widest) * sizeof(int));
  if (!pool || !ipool) {
    free(pool);
    free(ipool);
    napi_throw_error(env, NULL, "dtwscan.scanChunk: out of memory");
    return NULL;
  }
  double *at = pool;
  k.qU = at, at += L;
  k.qL = at, at += L;
  k.w = at, at += L;
  k.cEQ = at, at += L;
  k.cEC = at, at += L;
  k.cbRow = at, at += L + 1;
  k.ubCol = at, at += L;
  k.prev = at + 1, at += L + 2;
  k.cur = at + 1, at += L + 2;
  k.h = at, at += L;
  k.hU = at, at += L;
  k.hL = at, at += L;
  k.rawU = at, at += widest;
  k.rawL = at, at += widest;
  k.vh = at, at += 5 * (widest + 2 * r);
  // dtw_diag_avx2's rows, each padded by 4 slots past L (read only by masked lanes); diagonals from slot -4.
  // dtw_band_avx2 reads up to 4V <= L + 3 slots past a row's end (lanes masked off) and writes its
  // diagonals from slot -1 to iMin + 4V <= 2L + 3.
  k.qp = at, at += 2 * L + 24;
  k.wr = at, at += 2 * L + 24;
  k.ubRow = at, at += 2 * L + 24;
  k.ubColR = at, at += 2 * L + 24;
  for (int b = 0; b < 3; b++) k.diag[b] = at + 4, at += 2 * L + 24;
  memcpy(k.qp, q, (size_t)L * sizeof(double));
  for (int i = (int)L; i < 2 * L + 24; i++) k.qp[i] = k.wr[i] = k.ubRow[i] = k.ubColR[i] = 0;
  // dtw_band_f32's rows (2L + 48 floats each, the room of L + 24 doubles), its diagonals from slot -8.
  float *atF = (float *)at;
  k.qpF = atF, atF += 2 * L + 48;
  k.wrF = atF, atF += 2 * L + 48;
  k.ubRowF = atF, atF += 2 * L + 48;
  k.ubColRF = atF, atF += 2 * L + 48;
  for (int b = 0; b < 3; b++) k.diagF[b] = atF + 8, atF += 2 * L + 48;
  at += 7 * (L + 24);
  k.qMax = 0;
  for (int i = 0; i < 2 * L + 48; i++) k.qpF[i] = k.wrF[i] = k.ubRowF[i] = k.ubColRF[i] = 0;
  for (int i = 0; i < L; i++) {
    k.qpF[i] = (float)q[i];
    if (__builtin_fabs(q[i]) > k.qMax) k.qMax = __builtin_fabs(q[i]);
  }
  for (int i = 0; i < L; i++) {
    if (order[i] < 0 || order[i] >= L) {
      free(pool);
      free(ipool);
      napi_throw_range_error(env, NULL, "dtwscan.scanChunk: order holds an index out of range");
      return NULL;
    }
  }
  k.order = order;
  k.du = ipool + L;
  k.dl = ipool + L + widest;
  envelope(q, (int)L, r, k.qU, k.qL, k.du, k.dl);
  k.cand = malloc((size_t)(widest > 0 ? widest : 1) * sizeof(Cand));
  // Up to 4 MB of stored candidates (only the pages used are touched), none without picks; F_NOSTORE
  // stores none, so the tests also cover the candidates past the store.
  const int64_t perMB = ((int64_t)1 << 20) / (8 * (3 * L + 1));
  k.maxStored = k.picks > 0 && !(flags & F_NOSTORE) ? (int)(widest < 4 * perMB + 16 ? widest : 4 * perMB + 16) : 0;
  k.store = k.maxStored > 0 ? malloc((size_t)k.maxStored * (3 * (size_t)L + 1) * sizeof(double)) : NULL;
  if (!k.cand || (k.maxStored > 0 && !k.store)) {
    free(k.cand);
    free(k.store);
    free(pool);
    free(ipool);
    napi_throw_error(env, NULL, "dtwscan.scanChunk: out of memory");
    return NULL;
  }
  int64_t nOut = 0, exact = 0;
  for (int64_t kk = kLo, i = 0; kk < kHi; kk += 3, i++) {
    const int64_t e = plan[kk], a = offsets[e], n = offsets[e + 1] - a;
    // Picks mode only for an entity's only range in the call: windows of two ranges may overlap.
    k.lazy = k.picks > 0 && !(kk > kLo && plan[kk - 3] == e) && !(kk + 3 < kHi && plan[kk + 3] == e);
    exact += scan_range(&k, closes, sum1, sum2, e, a, n, center[e], spread[e], plan[kk + 1], plan[kk + 2], tau2,
                        outT, outD, &nOut, stats);
    outEnd[i] = (int32_t)nOut;
    if (k.stopped) break;
  }
  free(pool);
  free(ipool);
  free(k.cand);
  free(k.store);
  napi_value result;
  napi_create_int64(env, k.stopped ? -1 : exact, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "scanChunk", NAPI_AUTO_LENGTH, ScanChunk, NULL, &fn);
  napi_set_named_property(env, exports, "scanChunk", fn);
  return exports;
}
