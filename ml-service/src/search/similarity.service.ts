/**
 * POST /v1/similar: resolve the query, build the candidate plan, scan (in-process or on the worker pool),
 * then turn the best picks into matches with their forward paths and the analogue forecast.
 */
import type {
  Match,
  SimilarRequest,
  SimilarRequestInput,
  SimilarResponse,
  Timeframe,
} from '@resemble/contracts';
import { MIN_FORECAST_SAMPLE, similarRequestSchema, TIMEFRAME_BAR_NAMES } from '@resemble/contracts';
import { marketOf } from '../market/bars.js';
import { asOfDate, assertKnownFilters, companyOf, inSector } from '../entities/entities.service.js';
import { badRequest, parseOr400, unknownCode } from '../errors.js';
import { forecastFromOutcomes } from '../forecast/forecast.js';
import { applyCalibrator, type CalibratorFile } from '../predictors/calibrator.js';
import { realisedVol } from '../predictors/volatility.js';
import { dayToIso, isoToDay, lowerBound, type MarketData } from '../market/market-data.js';
import { ResultCache } from './result-cache.js';
import { scanShard, type ScanResult, type ScanSpec } from './scan.js';
import { buildPlan, type Plan } from './search-plan.js';
import { TauBoard } from './top-picks.js';
import { runGuessed, scanGuessed } from './dtw-guess.js';
import { upCounts } from '../forecast/up-counts.js';
import { normalizeWindow } from '../kernels/window-distance.js';

export interface SearchOptions {
  /** Only windows whose forward period ends strictly before this date (walk-forward backtests). */
  forwardEndBefore?: string;
  /** Windows of `code` overlapping [from, to] are excluded. */
  excludeRanges?: { code: string; from: string; to: string }[];
}

export interface ResolvedQuery {
  code: string | null;
  entity: number | null;
  start: string | null;
  end: string | null;
  startRow: number | null;
  endRow: number | null;
  series: Float64Array;
}

export const DEFAULT_DTW_BAND = 0.1;

/**
 * Runs the shards of one search; the worker pool and the in-process path both implement it. A runner is
 * made for the daily market and scans its bars of `spec.timeframe` (the rows the plan indexes).
 */
export type ShardRunner = (spec: ScanSpec, plan: Plan) => Promise<ScanResult[]>;

/** The query against `data`, a market in bars of `timeframe` (which only names the bars in messages). */
export function resolveQuery(
  data: MarketData,
  query: SimilarRequest['query'],
  timeframe: Timeframe = 'D',
): ResolvedQuery {
  if ('series' in query) {
    return {
      code: null,
      entity: null,
      start: null,
      end: null,
      startRow: null,
      endRow: null,
      series: Float64Array.from(query.series),
    };
  }
  const e = data.codeIndex.get(query.code);
  if (e === undefined) throw unknownCode(query.code);
  const a = data.offsets[e]!;
  const b = data.offsets[e + 1]!;
  const first = lowerBound(data.days, a, b, isoToDay(query.start));
  const last = lowerBound(data.days, a, b, isoToDay(query.end) + 1) - 1;
  const length = last - first + 1;
  if (length < 8 || length > 500) {
    throw badRequest(
      `the query ${query.code} ${query.start}..${query.end} has ${Math.max(0, length)} ${TIMEFRAME_BAR_NAMES[timeframe]}; it needs 8 to 500`,
      { length: Math.max(0, length) },
    );
  }
  return {
    code: query.code,
    entity: e,
    start: dayToIso(data.days[first]!),
    end: dayToIso(data.days[last]!),
    startRow: first,
    endRow: last,
    series: data.closes.slice(first, last + 1),
  };
}

function entityIndex(data: MarketData, code: string): number {
  const e = data.codeIndex.get(code);
  if (e === undefined) throw unknownCode(code);
  return e;
}

interface Prepared {
  req: SimilarRequest;
  /** The market in bars of the request's timeframe, which the plan's rows index. */
  market: MarketData;
  q: ResolvedQuery;
  spec: ScanSpec;
  plan: Plan;
  /** The newest price date of the entities searched. */
  asOf: string | null;
}

const parseSimilar = (input: unknown): SimilarRequest =>
  parseOr400(similarRequestSchema, input, 'similar request');

/**
 * The search of a parsed request over the daily market `daily`: its query resolved and normalised, its
 * spec and its plan, all in bars of the request's timeframe.
 */
function prepare(daily: MarketData, req: SimilarRequest, opts: SearchOptions): Prepared {
  const data = marketOf(daily, req.timeframe);
  const q = resolveQuery(data, req.query, req.timeframe);
  const L = q.series.length;
  const normalize = req.metric === 'dtw' ? 'z' : req.normalize;
  const qn = new Float64Array(L);
  if (!normalizeWindow(q.series, 0, L, normalize, qn)) {
    throw badRequest(
      normalize === 'z' || q.series.every((v) => v === q.series[0])
        ? 'the query has zero variance (all values equal), so it cannot be z-normalised'
        : 'the query has mean 0, so it cannot be mean-normalised',
    );
  }
  let entities: number[] = data.codes.map((_, i) => i);
  const f = req.filters;
  assertKnownFilters(data, f);
  if (f?.codes) entities = [...new Set(f.codes.map((c) => entityIndex(data, c)))].sort((x, y) => x - y);
  if (f?.market) entities = entities.filter((e) => data.markets[e] === f.market);
  if (f?.sector) entities = entities.filter((e) => inSector(companyOf(data, e), f.sector!));
  if (f?.kind) entities = entities.filter((e) => companyOf(data, e)?.kind === f.kind);
  const exclude = new Map<number, [number, number][]>();
  const addExclusion = (e: number, from: number, to: number) => {
    const list = exclude.get(e) ?? [];
    list.push([from, to]);
    exclude.set(e, list);
  };
  if (q.entity !== null) addExclusion(q.entity, isoToDay(q.start!), isoToDay(q.end!));
  for (const x of opts.excludeRanges ?? [])
    addExclusion(entityIndex(data, x.code), isoToDay(x.from), isoToDay(x.to));
  const plan = buildPlan(data, {
    L,
    horizon: req.horizon,
    mode: req.mode,
    entities,
    fromDay: f?.from !== undefined ? isoToDay(f.from) : undefined,
    toDay: f?.to !== undefined ? isoToDay(f.to) : undefined,
    forwardEndBeforeDay: opts.forwardEndBefore !== undefined ? isoToDay(opts.forwardEndBefore) : undefined,
    exclude,
  });
  const band = Math.floor((req.band ?? DEFAULT_DTW_BAND) * L);
  const spec: ScanSpec = {
    metric: req.metric,
    normalize,
    qn,
    // The plan limits the cards shown, not the sample behind the numbers: a forecast is always drawn from
    // at least MIN_FORECAST_SAMPLE matches (more when more are asked for); assemble shows topK of them.
    topK: req.mode === 'history' ? Math.max(req.topK, MIN_FORECAST_SAMPLE) : req.topK,
    horizon: req.horizon,
    mode: req.mode,
    band,
    upCounts: req.mode === 'history' ? upCounts(data, req.horizon) : null,
    queryStartDay: q.startRow !== null ? data.days[q.startRow]! : null,
    timeframe: req.timeframe,
  };
  // Every entity searched (no filter narrowed them): the market's own date, computed once per market.
  const asOf = asOfDate(data, entities.length === data.entities ? undefined : entities);
  return { req, market: data, q, spec, plan, asOf };
}

function assemble(p: Prepared, results: ScanResult[], started: number): SimilarResponse {
  const { req, q, market: data } = p;
  const L = q.series.length;
  const h = req.horizon;
  const all = results.flatMap((r) => r.picks);
  all.sort((a, b) => a.d2 - b.d2 || a.entity - b.entity || a.start - b.start);
  const picks = all.slice(0, p.spec.topK);
  const candidates = results.reduce((s, r) => s + r.candidates, 0);
  const ups = results.reduce((s, r) => s + r.ups, 0);
  const closes = data.closes;
  const history = req.mode === 'history';
  // Every pick's outcome feeds the forecast (at least MIN_FORECAST_SAMPLE of them), but only the first
  // topK become cards: their windows, names and dates are built for those alone, not thrown away.
  const outcomes = picks.map((pk) => {
    const end = pk.start + L - 1;
    const base = closes[end]!;
    const forwardPath: number[] = [];
    if (history) for (let i = 1; i <= h; i++) forwardPath.push(closes[end + i]! / base);
    return { end, forwardPath, forwardReturn: history ? closes[end + h]! / base - 1 : null };
  });
  const matches: Match[] = picks.slice(0, req.topK).map((pk, i) => {
    const { end, forwardPath, forwardReturn } = outcomes[i]!;
    const company = companyOf(data, pk.entity);
    return {
      code: data.codes[pk.entity]!,
      nameJa: company?.name_ja ?? null,
      nameEn: company?.name_en ?? null,
      start: dayToIso(data.days[pk.start]!),
      end: dayToIso(data.days[end]!),
      distance: Math.sqrt(pk.d2),
      forwardReturn,
      forwardPath,
      window: toArray(closes, pk.start, end + 1),
    };
  });
  const forecast = history
    ? forecastFromOutcomes(
        outcomes.map((o) => ({
          forwardReturn: o.forwardReturn!,
          forwardPath: o.forwardPath,
          forwardSpan: { from: data.days[o.end + 1]!, to: data.days[o.end + h]! },
        })),
        h,
        candidates > 0 ? ups / candidates : null,
        'analogues',
      )
    : null;
  return {
    query: { code: q.code, start: q.start, end: q.end, length: L, series: toArray(q.series, 0, L) },
    metric: req.metric,
    normalize: p.spec.normalize,
    mode: req.mode,
    timeframe: req.timeframe,
    horizon: h,
    matches,
    forecast,
    candidates,
    dataVersion: data.dataVersion,
    asOf: p.asOf,
    tookMs: performance.now() - started,
  };
}

/** xs[from..to) as a plain array: a loop, where Array.from walks the typed array's iterator (slower). */
function toArray(xs: ArrayLike<number>, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(xs[i]!);
  return out;
}

/** In-process, single-threaded search (tests, backtests). Throws AppError on invalid input. */
export function findSimilar(
  data: MarketData,
  input: SimilarRequestInput | SimilarRequest,
  opts: SearchOptions = {},
): SimilarResponse {
  const started = performance.now();
  const p = prepare(data, parseSimilar(input), opts);
  const results = scanGuessed(
    (spec, plan) => [scanShard(p.market, spec, plan, new TauBoard(null, 0, 1), 0, 1)],
    p.spec,
    p.plan,
  );
  return assemble(p, results, started);
}

/**
 * The calibrator covering a query length and horizon of the analogue predictor, if one does; `generation`
 * changes whenever the calibrators are reloaded, so cached answers calibrated by old files are not served.
 */
export interface CalibratorLookup {
  find: (length: number, horizon: number) => CalibratorFile | undefined;
  generation: () => number;
}

/**
 * A similar search is the analogue predictor's own search (so the analogue calibrators apply to its
 * forecast) when it ranks daily bars by z-normalised Euclidean distance over the whole store and draws its
 * forecast from exactly the analogue's sample. Asking for more matches, weekly or monthly bars, DTW,
 * mean-normalising or filtering makes a setting no calibrator was fitted on: its forecast stays "not
 * calibrated".
 */
export function isAnalogueSetting(req: SimilarRequest): boolean {
  return (
    req.mode === 'history' &&
    req.timeframe === 'D' &&
    req.metric === 'zned' &&
    req.normalize === 'z' &&
    Math.max(req.topK, MIN_FORECAST_SAMPLE) === MIN_FORECAST_SAMPLE &&
    req.filters === undefined
  );
}

/** The JSON text of a similar answer, and the search's figures when one ran (null: from the cache). */
export interface SimilarAnswer {
  json: string;
  search: { metric: string; mode: string; candidates: number; exact: number } | null;
}

/**
 * The JSON answer to a similar request: the cached text when the same request met the same data before
 * (its tookMs is that search's), else a search, kept for next time. Throws AppError on invalid input.
 */
export async function answerSimilar(
  data: MarketData,
  input: unknown,
  run: ShardRunner,
  cache: ResultCache | null | undefined,
  calibrators?: CalibratorLookup,
): Promise<SimilarAnswer> {
  const req = parseSimilar(input);
  const key = cache
    ? ResultCache.key(`${data.dataVersion}/calibrators ${calibrators?.generation() ?? 0}`, req)
    : '';
  const cached = cache?.get(key);
  if (cached !== undefined) return { json: cached, search: null };
  const { exact, ...result } = await searchWith(data, req, run, {});
  if (result.forecast && calibrators && isAnalogueSetting(req))
    result.forecast = applyCalibrator(
      result.forecast,
      calibrators.find(result.query.length, result.horizon),
      {
        markets: data.markets,
        // The query's own closes: enough for the volatility from 21 rows on (shorter: bands not calibrated).
        vol: realisedVol(result.query.series, result.query.series.length - 1),
      },
    );
  const json = JSON.stringify(result);
  cache?.set(key, json);
  return { json, search: { metric: result.metric, mode: result.mode, candidates: result.candidates, exact } };
}

/**
 * Everything /v1/similar checks before it searches (the body, the code, the window, the filters), without
 * searching: backend asks this before saving a pattern, so a pattern the nightly scan could never run is
 * refused at save with the same 4xx a search would get.
 */
export function checkSimilar(data: MarketData, input: unknown): void {
  prepare(data, parseSimilar(input), {});
}

/** The same search with its shards run by `run` (the worker pool in the service). */
export function findSimilarWith(
  data: MarketData,
  input: SimilarRequestInput | SimilarRequest,
  run: ShardRunner,
  opts: SearchOptions = {},
): Promise<SimilarResponse & { exact: number }> {
  return searchWith(data, parseSimilar(input), run, opts);
}

async function searchWith(
  data: MarketData,
  req: SimilarRequest,
  run: ShardRunner,
  opts: SearchOptions,
): Promise<SimilarResponse & { exact: number }> {
  const started = performance.now();
  const p = prepare(data, req, opts);
  const results = await runGuessed(run, p.spec, p.plan);
  return { ...assemble(p, results, started), exact: results.reduce((s, r) => s + r.exact, 0) };
}
