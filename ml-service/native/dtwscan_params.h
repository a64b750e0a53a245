// Generated from wasm/dtw-params.ts by `npm run build:params -w ml-service`: do not edit.
// The DTW kernels' stage flags (F_*) and counters (ST_*).
#ifndef DTWSCAN_PARAMS_H
#define DTWSCAN_PARAMS_H
enum {
  F_ALL = 31,
  F_COLUMNS = 16,
  F_CUMULATIVE = 8,
  F_IMPROVED = 32,
  F_KEOGH_EC = 4,
  F_KEOGH_EQ = 2,
  F_KIM = 1,
  F_LIVE = 1024,
  F_NOF32 = 2048,
  F_NOSTORE = 512,
  F_PICKS_SHIFT = 16,
  F_ROWS = 128,
  F_SCALAR = 64,
  F_WINDOWS = 256,
  ST_ABANDONED = 6,
  ST_COUNT = 8,
  ST_DTW = 5,
  ST_EXACT_LB = 4,
  ST_IMPROVED = 7,
  ST_KEOGH_EC = 3,
  ST_KEOGH_EQ = 2,
  ST_KIM = 1,
  ST_WINDOWS = 0,
};
#endif
