// The parameter block of the zned pre-filter, written once: f64 slot indices (*_BYTE: byte offsets of
// i32 or f64 arrays) of the block a thread's caller fills per query and entity. Plain constants, so this
// one file is AssemblyScript (wasm/zscan.ts imports it), TypeScript (src/kernels/ed-prefilter.ts: SLOT) and,
// through `npm run build:params -w ml-service`, the C header native/zscan_params.h (generated, committed;
// test/ed-prefilter.test.ts checks it is the generation of this file).

export const P_INV_L = 0;
export const P1_C = 1; // stage 1b (8 segments) prunes when P <= 0 or P^2 < C Cw; C <= 0: never called
export const P1_EPS_C = 2; // error bounds of Cw and P at stage 1b's segments
export const P1_EPS_P = 3;
export const P0_C = 4; // the same three for stage 1a (4 segments)
export const P0_EPS_C = 5;
export const P0_EPS_P = 6;
export const P_CW_MIN = 7; // stage 1 never prunes a window with Cw below this (see ed-kernel.ts: EPS_REF)
export const P1_Q = 8; // 8 slots: stage-1b query segment means
export const P1_INV_LEN = 16; // 8 slots: 1 / l_j
export const P2_Q2_PLUS_L = 24; // |q|^2 + L
export const P2_RQ = 25; // upper bound of the query's residual norm at stage 2's segments
export const P2_LIM = 26; // prune when the conservative LB^2 exceeds this
export const P2_EPS_P = 27;
export const P2_EPS_C = 28;
export const P2_LV_MIN = 29; // stage 2 keeps windows with Lv <= this (P2_REL would not bound sigma's error)
export const P2_L = 30;
export const P2_REL = 31; // relative error bound of sigma^2 for windows above P2_LV_MIN
export const P2_Q = 32; // m2 (<= 16) slots
export const P2_INV_LEN = 48; // m2 slots
export const P3_QSUM = 72; // stage 3: sum of the query's values (0 but for rounding)
export const P3_DOT_ERR = 73; // stage 3: error bound of the dot product, in raw units
export const P3_CENTER = 74; // stage 3: the entity's centre (prefix sums are of close - centre)
export const P3_EPS_MU = 75; // stage 3: error bound of the window mean from the prefix sums
export const P3_Q_BYTE = 1024; // stage 3: the normalised query, L f64
export const P0_Q = 64; // 4 slots: stage-1a query segment means
export const P0_INV_LEN = 68; // 4 slots
export const P2_BOUNDS_BYTE = 768; // m2 + 1 i32 segment bounds of stage 2
export const P1_BOUNDS_BYTE = 848; // 9 i32 segment bounds of stage 1b
export const P0_BOUNDS_BYTE = 896; // 5 i32 segment bounds of stage 1a
// The native scanChunk's query constants (native/zscan.c), past the query (which ends by byte
// 1024 + 8 * 500 = 5024, slot 628), as src/kernels/ed-kernel.ts writes them.
export const C_U = 640;
export const C_EPS_REF = 641;
export const C_Q2 = 642;
export const C_QABS = 643;
export const C_REF_FACTOR = 644;
export const C_RQ0_SQ = 645;
export const C_RQ1_SQ = 646;
// Per PAA level 0, 1, 2 (stages 1a, 1b, 2): abs, maxLen, delta, minLen, segments, m of errP.
export const C_PAA = 647;
export const C_PAA_STRIDE = 6;
