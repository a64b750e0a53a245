// The DTW kernels' shared constants, written once: the stage flags a call takes and the counters it
// fills (stats[i]). Plain constants, so this one file is AssemblyScript (wasm/dtwscan.ts imports it),
// TypeScript (src/dtw-search.ts: DTW_STAGES, DTW_STAT) and, through `npm run build:params -w ml-service`,
// the C header native/dtwscan_params.h (generated, committed; test/kernel-params.test.ts checks it is
// the generation of this file, and that native/dtwscan.c's values are these).

// Stage flags (bits), all of F_ALL by default; the step bench turns them off one by one.
export const F_KIM = 1;
export const F_KEOGH_EQ = 2;
export const F_KEOGH_EC = 4;
export const F_CUMULATIVE = 8;
export const F_COLUMNS = 16;
export const F_IMPROVED = 32; // LB_Improved before the DTW: off, it cost more than it saved (decision 077)
export const F_SCALAR = 64; // native: the portable one-window path even where AVX2 is there
export const F_ROWS = 128; // native AVX2: the row DTW instead of the anti-diagonal one
export const F_WINDOWS = 256; // native: every window within the threshold even where picks were asked
export const F_NOSTORE = 512; // native picks mode: keep no candidate's DTW inputs, recompute each
export const F_LIVE = 1024; // native AVX2: the anti-diagonal DTW over the live cells' range, not the whole band
export const F_NOF32 = 2048; // native AVX2: no float DTW before the double one (decision 140)
export const F_ALL = 31; // what the search runs: every stage but LB_Improved
export const F_PICKS_SHIFT = 16; // the flags' bits from here up: K of the picks mode (0: every window)
// Counters (stats[i]): windows seen, pruned per stage, DTWs computed and abandoned.
export const ST_WINDOWS = 0;
export const ST_KIM = 1;
export const ST_KEOGH_EQ = 2;
export const ST_KEOGH_EC = 3;
export const ST_EXACT_LB = 4;
export const ST_DTW = 5;
export const ST_ABANDONED = 6;
export const ST_IMPROVED = 7;
export const ST_COUNT = 8;
