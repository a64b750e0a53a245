/**
 * The analogue predictor: the kNN forecast of /v1/similar (exact z-normalized Euclidean search), with
 * more neighbours than the UI default because a forecast from 10 outcomes is mostly noise. For a query by
 * code, windows of the query's own stock within ± horizon rows of the query are excluded too: their
 * forward periods overlap the query itself, so they would be the query in disguise.
 */
import {
  MIN_FORECAST_SAMPLE,
  type Forecast,
  type SimilarQuery,
  type SimilarRequest,
  type SimilarResponse,
  type Timeframe,
} from '@resemble/contracts';
import { marketOf } from '../market/bars.js';
import type { MarketData } from '../market/market-data.js';
import { findSimilar, findSimilarWith, type ShardRunner } from '../search/similarity.service.js';
import { seriesSource } from './market-series.js';
import { resolveQuery } from './query.js';

export const ANALOGUE_TOP_K = MIN_FORECAST_SAMPLE;
export const ANALOGUE_VERSION = `zned-k${ANALOGUE_TOP_K}-1`;

/** `data` is the daily market; the search and its exclusion run in bars of `timeframe`. */
function analogueSearch(
  data: MarketData,
  query: SimilarQuery,
  horizon: number,
  forwardEndBefore: string | undefined,
  timeframe: Timeframe,
) {
  const resolved = resolveQuery(seriesSource(marketOf(data, timeframe)), query);
  const excludeRanges =
    resolved.kind === 'code'
      ? [
          {
            code: resolved.entity.code,
            from: resolved.entity.dates[Math.max(0, resolved.startRow - horizon)]!,
            to: resolved.entity.dates[Math.min(resolved.entity.dates.length - 1, resolved.endRow + horizon)]!,
          },
        ]
      : [];
  const request: SimilarRequest = {
    query,
    topK: ANALOGUE_TOP_K,
    horizon,
    metric: 'zned',
    normalize: 'z',
    mode: 'history',
    timeframe,
  };
  return { request, options: { forwardEndBefore, excludeRanges } };
}

function forecastOf(result: SimilarResponse): Forecast {
  if (!result.forecast) throw new Error('analogue search returned no forecast in history mode');
  return result.forecast;
}

/** In-process search: backtests and tests. */
export function analogueForecast(
  data: MarketData,
  query: SimilarQuery,
  horizon: number,
  options: { forwardEndBefore?: string; timeframe?: Timeframe } = {},
): Forecast {
  const { request, options: searchOptions } = analogueSearch(
    data,
    query,
    horizon,
    options.forwardEndBefore,
    options.timeframe ?? 'D',
  );
  return forecastOf(findSimilar(data, request, searchOptions));
}

/** The same search with its shards on the service's worker pool, so a request never blocks the event loop. */
export async function analogueForecastWith(
  data: MarketData,
  query: SimilarQuery,
  horizon: number,
  run: ShardRunner,
  options: { forwardEndBefore?: string; timeframe?: Timeframe } = {},
): Promise<Forecast> {
  const { request, options: searchOptions } = analogueSearch(
    data,
    query,
    horizon,
    options.forwardEndBefore,
    options.timeframe ?? 'D',
  );
  return forecastOf(await findSimilarWith(data, request, run, searchOptions));
}
