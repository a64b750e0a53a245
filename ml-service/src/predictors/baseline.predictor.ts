/**
 * The baseline: "this stock's own drift". Its forecast is the distribution of the entity's past
 * horizon-day returns (and paths) — every window whose forward period had ended by the query's end (and
 * before the backtest cutoff, when one is given). If the analogue forecast cannot beat this, it has no edge.
 */
import type { Forecast } from '@resemble/contracts';
import { forecastFromOutcomes, type ForwardOutcome } from '../forecast/forecast.js';
import { isoToDay } from '../market/dates.js';
import { baseRateUpAsOf } from './base-rate.js';
import { PredictorError } from './errors.js';
import type { ResolvedQuery } from './query.js';
import { firstIndexOnOrAfter, type EntitySeries, type SeriesSource } from './series.js';

export const BASELINE_VERSION = 'own-drift-1';

/** Index of the last forward-end row usable: on or before endRow and dated before `forwardEndBefore`. */
function lastKnownRow(entity: EntitySeries, endRow: number, forwardEndBefore?: string): number {
  if (forwardEndBefore === undefined) return endRow;
  return Math.min(endRow, firstIndexOnOrAfter(entity.dates, forwardEndBefore) - 1);
}

export function baselineOutcomes(
  entity: EntitySeries,
  lastForwardEnd: number,
  horizon: number,
): ForwardOutcome[] {
  const { closes, dates } = entity;
  const outcomes: ForwardOutcome[] = [];
  for (let e = 0; e + horizon <= lastForwardEnd; e++) {
    const c0 = closes[e]!;
    const forwardPath = new Array<number>(horizon);
    for (let i = 1; i <= horizon; i++) forwardPath[i - 1] = closes[e + i]! / c0;
    outcomes.push({
      forwardReturn: forwardPath[horizon - 1]! - 1,
      forwardPath,
      forwardSpan: { from: isoToDay(dates[e + 1]!), to: isoToDay(dates[e + horizon]!) },
    });
  }
  return outcomes;
}

export function baselineForecast(
  source: SeriesSource,
  query: ResolvedQuery,
  horizon: number,
  options: { forwardEndBefore?: string } = {},
): Forecast {
  if (query.kind !== 'code') {
    throw new PredictorError(
      400,
      'invalid_query',
      'the baseline is the drift of the query’s own stock: query by code, not by series',
    );
  }
  const last = lastKnownRow(query.entity, query.endRow, options.forwardEndBefore);
  const outcomes = baselineOutcomes(query.entity, last, horizon);
  const asOf = last >= 0 ? query.entity.dates[last]! : null;
  const baseRate = asOf === null ? null : baseRateUpAsOf(source, horizon, asOf);
  return forecastFromOutcomes(outcomes, horizon, baseRate, 'own-history');
}
