/**
 * The analogue predictor: the kNN forecast of /v1/similar (exact z-normalized Euclidean search), with
 * more neighbours than the UI default because a forecast from 10 outcomes is mostly noise. For a query by
 * code, windows of the query's own stock within ± horizon rows of the query are excluded too: their
 * forward periods overlap the query itself, so they would be the query in disguise.
 */
import type { Forecast, SimilarQuery } from '@resemble/contracts';
import type { MarketData } from '../market-data.js';
import { findSimilar } from '../similarity.service.js';
import { seriesSource } from './market-series.js';
import { resolveQuery } from './query.js';

export const ANALOGUE_TOP_K = 30;
export const ANALOGUE_VERSION = `zned-k${ANALOGUE_TOP_K}-1`;

export function analogueForecast(
  data: MarketData,
  query: SimilarQuery,
  horizon: number,
  options: { forwardEndBefore?: string } = {},
): Forecast {
  const resolved = resolveQuery(seriesSource(data), query);
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
  const result = findSimilar(
    data,
    { query, topK: ANALOGUE_TOP_K, horizon, metric: 'zned', normalize: 'z', mode: 'history' },
    { forwardEndBefore: options.forwardEndBefore, excludeRanges },
  );
  if (!result.forecast) throw new Error('analogue search returned no forecast in history mode');
  return result.forecast;
}
