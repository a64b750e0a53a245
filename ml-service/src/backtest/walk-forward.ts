/**
 * Walk-forward evaluation without look-ahead. Every `step`-th trading day in [from, to] is an evaluation
 * date d; on it a seeded sample of stocks that traded on d is queried with the L closes ending on d, and
 * each predictor may use only windows whose forward period ended strictly before d (forwardEndBefore = d).
 * The outcome is the stock's actual return over the next `horizon` rows, which no predictor sees.
 */
import type { SimilarQuery } from '@resemble/contracts';
import { baseRateUpAsOf } from '../predictors/base-rate.js';
import { AppError } from '../errors.js';
import { mulberry32, shuffleInPlace } from '../predictors/random.js';
import { realisedVol } from '../predictors/volatility.js';
import type { ModelId, PredictOptions, Prediction } from '../predictors/registry.js';
import { lastIndexOnOrBefore, type SeriesSource } from '../predictors/series.js';

export interface WalkForwardOptions {
  from: string;
  to: string;
  /** Trading days between evaluation dates. */
  step: number;
  entitiesPerDate: number;
  /** Query length L (rows). */
  length: number;
  horizon: number;
  models: ModelId[];
  seed: number;
}

export interface PredictionRecord {
  date: string;
  code: string;
  model: ModelId;
  modelVersion: string;
  pUp: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  /** close[end + horizon] / close[end] − 1: what really happened. */
  actual: number;
  /** Date of close[end + horizon]: when the outcome became known (calibration splits use it). */
  outcomeDate: string;
  /** Market-wide base rate of up windows known before the evaluation date (the climatological forecast). */
  baseRateUp: number;
  /**
   * The stock's own realised volatility on d (predictors/volatility.ts: its last 20 daily log returns,
   * closes known on d, so no look-ahead). Normalised conformal scores divide by it.
   */
  vol: number;
}

export interface WalkForwardResult {
  records: PredictionRecord[];
  evaluationDates: number;
  queries: number;
  /** Per model, why predictions were refused (e.g. too few neighbours, model trained too late). */
  skipped: Record<string, Record<string, number>>;
}

export type PredictFn = (
  model: ModelId,
  query: SimilarQuery,
  horizon: number,
  options: PredictOptions,
) => Prediction;

/** Sorted distinct trading dates of all entities within [from, to]. */
export function tradingCalendar(source: SeriesSource, from: string, to: string): string[] {
  const set = new Set<string>();
  for (const entity of source.entities) {
    const { dates } = entity;
    for (
      let i = Math.max(0, lastIndexOnOrBefore(dates, from) - 1);
      i < dates.length && dates[i]! <= to;
      i++
    ) {
      if (dates[i]! >= from) set.add(dates[i]!);
    }
  }
  return [...set].sort();
}

/** The day before an ISO date, so "ended before d" becomes "ended on or before d − 1" for base-rate lookups. */
function dayBefore(iso: string): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}

export function evaluationDates(calendar: readonly string[], step: number): string[] {
  return calendar.filter((_, i) => i % step === 0);
}

export function walkForward(
  source: SeriesSource,
  predict: PredictFn,
  options: WalkForwardOptions,
  onProgress: (done: number, total: number) => void = () => {},
): WalkForwardResult {
  const dates = evaluationDates(tradingCalendar(source, options.from, options.to), options.step);
  const random = mulberry32(options.seed);
  const records: PredictionRecord[] = [];
  const skipped: WalkForwardResult['skipped'] = {};
  const skip = (model: string, reason: string) => {
    skipped[model] ??= {};
    skipped[model][reason] = (skipped[model][reason] ?? 0) + 1;
  };
  let queries = 0;
  dates.forEach((d, di) => {
    const eligible: { index: number; end: number }[] = [];
    source.entities.forEach((entity, index) => {
      const end = lastIndexOnOrBefore(entity.dates, d);
      if (end < 0 || entity.dates[end] !== d) return;
      if (end - options.length + 1 < 0 || end + options.horizon >= entity.dates.length) return;
      eligible.push({ index, end });
    });
    shuffleInPlace(eligible, random);
    const baseRateUp = baseRateUpAsOf(source, options.horizon, dayBefore(d));
    for (const { index, end } of eligible.slice(0, options.entitiesPerDate)) {
      const entity = source.entities[index]!;
      const query = { code: entity.code, start: entity.dates[end - options.length + 1]!, end: d };
      const actual = entity.closes[end + options.horizon]! / entity.closes[end]! - 1;
      const vol = realisedVol(entity.closes, end);
      queries++;
      for (const model of options.models) {
        let prediction: Prediction;
        try {
          prediction = predict(model, query, options.horizon, { forwardEndBefore: d, raw: true });
        } catch (error) {
          if (error instanceof AppError) {
            skip(model, error.code);
            continue;
          }
          throw error;
        }
        const f = prediction.forecast;
        if (f.pUp === null || f.quantiles === null || baseRateUp === null || vol === null) {
          skip(model, f.pUp === null ? 'no_forecast' : vol === null ? 'no_volatility' : 'no_base_rate');
          continue;
        }
        records.push({
          date: d,
          code: entity.code,
          model,
          modelVersion: prediction.modelVersion,
          pUp: f.pUp,
          p10: f.quantiles.p10,
          p25: f.quantiles.p25,
          p50: f.quantiles.p50,
          p75: f.quantiles.p75,
          p90: f.quantiles.p90,
          actual,
          outcomeDate: entity.dates[end + options.horizon]!,
          baseRateUp,
          vol,
        });
      }
    }
    onProgress(di + 1, dates.length);
  });
  return { records, evaluationDates: dates.length, queries, skipped };
}
