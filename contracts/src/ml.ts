/**
 * ml-service request/response shapes. backend proxies /api/v1/similar and /api/v1/predict to these
 * unchanged in meaning, and the frontend renders them.
 */
import { z } from 'zod';
import { entityKindSchema, listingStatusSchema } from './company.js';
import { entityCodeSchema, isoDateSchema, priceRowSchema } from './store.js';
import { timeframeSchema } from './timeframe.js';

/** "As of": the date of the newest price an answer was computed from (null: there were none). */
export const asOfSchema = isoDateSchema.nullable();

export const MIN_QUERY_LENGTH = 8;
export const MAX_QUERY_LENGTH = 500;

export const queryByCodeSchema = z
  .object({ code: entityCodeSchema, start: isoDateSchema, end: isoDateSchema })
  .refine((q) => q.start <= q.end, { message: 'start must not be after end', path: ['start'] });

export const queryBySeriesSchema = z.object({
  series: z
    .array(z.number().refine(Number.isFinite, 'series values must be finite numbers'))
    .min(MIN_QUERY_LENGTH, `series needs at least ${MIN_QUERY_LENGTH} values`)
    .max(MAX_QUERY_LENGTH, `series allows at most ${MAX_QUERY_LENGTH} values`),
});

export const similarQuerySchema = z.union([queryByCodeSchema, queryBySeriesSchema]);
export type SimilarQuery = z.infer<typeof similarQuerySchema>;

export const metricSchema = z.enum(['zned', 'dtw']);
export const normalizeSchema = z.enum(['z', 'mean']);
export const modeSchema = z.enum(['history', 'now']);

export const filtersSchema = z
  .object({
    codes: z.array(entityCodeSchema).max(5000).optional(),
    market: z.string().min(1).max(32).optional(),
    /**
     * A sector code or name, exactly as the master lists it: JP 33業種 or 17業種 (code or name), US GICS
     * sector. An entity is in when any of its sector fields equals it.
     */
    sector: z.string().trim().min(1).max(64).optional(),
    kind: entityKindSchema.optional(),
    from: isoDateSchema.optional(),
    to: isoDateSchema.optional(),
  })
  .strict();

export const similarRequestSchema = z
  .object({
    query: similarQuerySchema,
    topK: z.number().int().min(1).max(100).default(10),
    horizon: z.number().int().min(1).max(250).default(20),
    metric: metricSchema.default('zned'),
    normalize: normalizeSchema.default('z'),
    mode: modeSchema.default('history'),
    /** Sakoe-Chiba band as a fraction of L (DTW only). */
    band: z.number().min(0).max(1).optional(),
    filters: filtersSchema.optional(),
    /**
     * Bars the search runs on: daily, weekly or monthly (contracts/src/timeframe.ts). The query's length,
     * the horizon and every rule count bars of this timeframe; a query by code covers the bars whose date
     * (their last trading day) lies within start..end.
     */
    timeframe: timeframeSchema.default('D'),
  })
  .strict();
export type SimilarRequest = z.infer<typeof similarRequestSchema>;
export type SimilarRequestInput = z.input<typeof similarRequestSchema>;

export const matchSchema = z.object({
  code: z.string(),
  start: isoDateSchema,
  end: isoDateSchema,
  distance: z.number(),
  /** The matched entity's names, so match cards can say whose chart it is. */
  nameJa: z.string().nullable().optional(),
  nameEn: z.string().nullable().optional(),
  /** close[end + horizon] / close[end] - 1; null in mode "now". */
  forwardReturn: z.number().nullable(),
  /** close[end + i] / close[end] for i = 1..horizon; empty in mode "now". */
  forwardPath: z.array(z.number()),
  /** The window's closes, so clients can overlay it on the query without another request. */
  window: z.array(z.number()).optional(),
});
export type Match = z.infer<typeof matchSchema>;

export const quantilesSchema = z.object({
  p10: z.number(),
  p25: z.number(),
  p50: z.number(),
  p75: z.number(),
  p90: z.number(),
});

/** Level of every pUpInterval (decision 094). */
export const P_UP_INTERVAL_LEVEL = 0.9;
/** Below this effective number of independent cases the verdict is "too-few" (decision 094). */
export const MIN_EFFECTIVE_N = 10;
/** The analogue forecast is drawn from at least this many matches, whatever number of cards is shown. */
export const MIN_FORECAST_SAMPLE = 30;

export const pUpIntervalSchema = z.object({
  lo: z.number().min(0).max(1),
  hi: z.number().min(0).max(1),
  level: z.literal(P_UP_INTERVAL_LEVEL),
});

/**
 * What the forecast says about "up" compared with the base rate, decided from the interval (never from a
 * raw gap): "higher" only when the whole interval lies above the base rate, "lower" only when below,
 * "too-few" when effectiveN < MIN_EFFECTIVE_N, else "no-difference".
 */
export const verdictSchema = z.enum(['higher', 'lower', 'no-difference', 'too-few']);
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * What the numbers are built from, so every model is labelled by what it is: the analogue's n similar past
 * stretches, the baseline's n windows of the stock's own history, or a neural net trained on n windows up
 * to trainedTo.
 */
export const forecastBasisSchema = z.object({
  kind: z.enum(['analogues', 'own-history', 'neural-net']),
  n: z.number().int().nonnegative(),
  /** Last date the neural net's training windows reached; null for the other kinds. */
  trainedTo: isoDateSchema.nullable(),
});
export type ForecastBasis = z.infer<typeof forecastBasisSchema>;

export const forecastSchema = z.object({
  n: z.number().int().nonnegative(),
  horizon: z.number().int(),
  mean: z.number().nullable(),
  median: z.number().nullable(),
  quantiles: quantilesSchema.nullable(),
  /** fan[i] = quantiles of the relative close i+1 rows after the end (1 + return). */
  fan: z.array(quantilesSchema),
  pUp: z.number().nullable(),
  baseRateUp: z.number().nullable(),
  basis: forecastBasisSchema,
  /**
   * Effectively independent cases behind pUp: the sum of the cases' average uniqueness over their
   * overlapping forward periods (decision 094). null when pUp is not a share of cases (the neural net).
   */
  effectiveN: z.number().nonnegative().nullable(),
  /** 90 % Wilson interval of pUp on effectiveN; null with effectiveN. */
  pUpInterval: pUpIntervalSchema.nullable(),
  verdict: verdictSchema,
  /** pUp mapped by the calibrator of this setting; null where no calibrator covers it or it missed its goal. */
  pUpCalibrated: z.number().nullable(),
  /** The calibrator file covering this setting (model version, length and horizon), even one that missed. */
  calibratorId: z.string().nullable(),
  /** True only when that calibrator met its goals on the held-out period (pUp ECE and p10–p90 coverage). */
  calibrated: z.boolean(),
  /** "conformal": quantiles and fan widened/narrowed by the calibrator's split-conformal offsets. */
  bands: z.enum(['empirical', 'conformal', 'model']),
});
export type Forecast = z.infer<typeof forecastSchema>;

export const similarResponseSchema = z.object({
  query: z.object({
    code: z.string().nullable(),
    start: isoDateSchema.nullable(),
    end: isoDateSchema.nullable(),
    length: z.number().int(),
    series: z.array(z.number()),
  }),
  metric: metricSchema,
  normalize: normalizeSchema,
  mode: modeSchema,
  timeframe: timeframeSchema,
  horizon: z.number().int(),
  matches: z.array(matchSchema),
  forecast: forecastSchema.nullable(),
  candidates: z.number().int(),
  dataVersion: z.string(),
  /** The date of the newest price among the entities searched (null: none has prices). */
  asOf: asOfSchema,
  tookMs: z.number(),
});
export type SimilarResponse = z.infer<typeof similarResponseSchema>;

export const modelIdSchema = z.enum(['analogue', 'baseline', 'brainjs']);

export const predictRequestSchema = z
  .object({
    query: similarQuerySchema,
    horizon: z.number().int().min(1).max(250).default(20),
    model: modelIdSchema.default('analogue'),
    /** As in a similar request: the query and the horizon count bars of this timeframe. */
    timeframe: timeframeSchema.default('D'),
  })
  .strict();
export type PredictRequest = z.infer<typeof predictRequestSchema>;

export const predictResponseSchema = z.object({
  model: modelIdSchema,
  modelVersion: z.string(),
  timeframe: timeframeSchema,
  horizon: z.number().int(),
  forecast: forecastSchema,
  dataVersion: z.string(),
  /** The date of the newest price in the data the model read. */
  asOf: asOfSchema,
  tookMs: z.number(),
});
export type PredictResponse = z.infer<typeof predictResponseSchema>;

export const mlHealthSchema = z.object({
  status: z.enum(['loading', 'ready', 'error']),
  dataVersion: z.string().nullable(),
  entities: z.number().int(),
  points: z.number().int(),
  loadedAt: z.string().nullable(),
  /** The date of the newest price loaded (null: not loaded, or no prices). */
  asOf: asOfSchema.optional(),
  lastReloadError: z.string().nullable(),
  models: z.array(z.object({ id: z.string(), version: z.string() })),
  /** The search kernel chosen at start per metric, e.g. { zned: "native-avx2", dtw: "wasm" }. */
  kernel: z.record(z.string(), z.string()).optional(),
  /** Entity files left out of the served data because they could not be read or failed their check. */
  skippedEntities: z.array(z.object({ code: z.string(), reason: z.string() })).optional(),
  /** The search pool now: workers, the heavy lane's share, what runs and waits, cancellations. */
  search: z
    .object({
      workers: z.number().int(),
      heavyWorkers: z.number().int(),
      /** 'own': heavy searches run on threads of their own at a lower priority (decision 122). */
      heavyLane: z.enum(['own', 'borrowed']).optional(),
      /** Nice value of each ordinary worker thread, and of each heavy-lane thread (null: unknown). */
      nice: z.array(z.number().int().nullable()).optional(),
      heavyNice: z.array(z.number().int().nullable()).optional(),
      running: z.number().int(),
      heavyRunning: z.number().int(),
      queued: z.number().int(),
      heavyQueued: z.number().int(),
      cancelled: z.number().int(),
      abandonedChunks: z.number().int(),
    })
    .optional(),
});
export type MlHealth = z.infer<typeof mlHealthSchema>;

/**
 * One entity as the entity list / search answers it: the company master (company.ts) with the extent of
 * its price history. A listed issue without prices yet has hasPrices false, rows 0 and null dates.
 */
export const entitySummarySchema = z.object({
  code: z.string(),
  /** Display name: Japanese first for JP, English first elsewhere, the code when there is no name. */
  name: z.string(),
  nameJa: z.string().nullable(),
  nameEn: z.string().nullable(),
  market: z.string(),
  currency: z.string(),
  kind: entityKindSchema,
  /** One sector label: the 33業種 name for JP, the GICS sector for US (null when unknown). */
  sector: z.string().nullable(),
  sector33Code: z.string().nullable(),
  sector33Name: z.string().nullable(),
  sector17Code: z.string().nullable(),
  sector17Name: z.string().nullable(),
  gicsSector: z.string().nullable(),
  segment: z.string().nullable(),
  sizeClass: z.string().nullable(),
  status: listingStatusSchema,
  listedSince: isoDateSchema.nullable(),
  delistedSince: isoDateSchema.nullable(),
  hasPrices: z.boolean(),
  firstDate: isoDateSchema.nullable(),
  lastDate: isoDateSchema.nullable(),
  rows: z.number().int(),
});
export type EntitySummary = z.infer<typeof entitySummarySchema>;

/**
 * Request header from backend to ml-service: the milliseconds left before backend gives up on the answer
 * (its plan's time budget minus the time already spent). ml-service stops the search when they run out
 * and answers 504 search_timeout. Relative, so the two clocks need not agree.
 */
export const ML_DEADLINE_HEADER = 'x-deadline-ms';

/** How a search result matched the query, best first (see ml-service/src/entities/entity-search.ts). */
export const matchTierSchema = z.enum(['exactCode', 'codePrefix', 'namePrefix', 'nameSubstring', 'typo']);

export const entitiesResponseSchema = z.object({
  entities: z.array(entitySummarySchema.extend({ match: matchTierSchema })),
  /** The date of the newest price loaded. */
  asOf: asOfSchema,
});
export type EntitiesResponse = z.infer<typeof entitiesResponseSchema>;

export const pricesResponseSchema = z.object({
  code: z.string(),
  /** Daily rows, or candles of this timeframe dated by their last trading day (contracts/src/timeframe.ts). */
  timeframe: timeframeSchema,
  rows: z.array(priceRowSchema),
  /** The entity's newest price date (whatever from/to asked for); null when it has no prices yet. */
  asOf: asOfSchema,
});
export type PricesResponse = z.infer<typeof pricesResponseSchema>;

/** Markets, sector labels (EntitySummary.sector) and kinds present in the data, for the filters' choices. */
export const entityFacetsSchema = z.object({
  markets: z.array(z.string()),
  sectors: z.array(z.string()),
  kinds: z.array(entityKindSchema),
});
export type EntityFacets = z.infer<typeof entityFacetsSchema>;
