/**
 * What each job kind does. Both only read through ml-service, so a failed job leaves nothing half-written;
 * each search they run is checked against the plan and counted like a search the user made.
 */
import { backtestParamsSchema, similarRequestSchema, similarResponseSchema } from '@resemble/contracts';
import { z } from 'zod';
import type { MlClient } from '../search/ml.client.js';
import { similarToCsv } from '../search/csv.js';
import { similarForJob, type SearchDeps } from '../search/search.service.js';
import type { JobQueue } from './job-queue.js';

const pricesSchema = z.object({
  code: z.string(),
  rows: z.array(z.object({ date: z.string(), close: z.number() })),
  asOf: z.string().nullable().optional(),
});

/** The searches the jobs run are counted like the user's own (SearchDeps); the backtest also reads prices. */
export function registerJobHandlers(
  jobs: Pick<JobQueue, 'register'>,
  deps: Omit<SearchDeps, 'heavyLanes' | 'ml'> & { ml: SearchDeps['ml'] & Pick<MlClient, 'prices'> },
): void {
  /**
   * Walk-forward backtest on one stock: at evenly spaced past dates, search with matches restricted to
   * data before that date (filters.to), then compare the forecast's direction with what really happened.
   */
  jobs.register('backtest', async (raw, { userId, progress, signal }) => {
    const p = backtestParamsSchema.parse(raw);
    const prices = pricesSchema.parse(await deps.ml.prices(p.code, undefined, undefined));
    const closes = prices.rows;
    const first = p.windowLength * 2;
    const last = closes.length - p.horizon - 1;
    if (last - first < p.samples) throw new Error(`not enough history in ${p.code} for ${p.samples} samples`);
    const step = Math.floor((last - first) / p.samples);
    let hits = 0;
    let evaluated = 0;
    let absErr = 0;
    const samples: { end: string; predictedUp: number | null; actualReturn: number }[] = [];
    for (let i = 0; i < p.samples; i++) {
      // A cancel takes effect between samples: each one is a single short search.
      signal.throwIfAborted();
      const endIdx = first + i * step;
      const start = closes[endIdx - p.windowLength + 1].date;
      const end = closes[endIdx].date;
      const req = similarRequestSchema.parse({
        query: { code: p.code, start, end },
        topK: p.topK,
        horizon: p.horizon,
        filters: { to: end },
      });
      const res = similarResponseSchema.parse(await similarForJob(deps, userId, req));
      const actual = closes[endIdx + p.horizon].close / closes[endIdx].close - 1;
      const pUp = res.forecast?.pUp ?? null;
      if (pUp !== null) {
        evaluated++;
        if (pUp > 0.5 === actual > 0) hits++;
        if (res.forecast?.median !== null && res.forecast?.median !== undefined)
          absErr += Math.abs(res.forecast.median - actual);
      }
      samples.push({ end, predictedUp: pUp, actualReturn: actual });
      progress((i + 1) / p.samples);
    }
    return {
      code: p.code,
      settings: p,
      // The data the result rests on: the stock's newest price (the page says 「データ: …時点」).
      asOf: prices.asOf ?? closes.at(-1)?.date ?? null,
      samples,
      evaluated,
      ...backtestScores(samples, hits),
      meanAbsError: evaluated ? absErr / evaluated : null,
    };
  });

  jobs.register('export', async (raw, { userId, progress, signal }) => {
    const req = similarRequestSchema.parse(raw);
    signal.throwIfAborted();
    const result = await similarForJob(deps, userId, req);
    progress(1);
    return { filename: 'resemble-similar.csv', contentType: 'text/csv', csv: similarToCsv(result) };
  });
}

/**
 * Hit rate and Brier score of the forecasts, beside the base rate: how often the stock simply rose over
 * the horizon in these samples, and the Brier score of always forecasting that rate (a forecast is only
 * useful when it scores below it). Samples without a forecast (pUp null) count in the base rate only.
 */
export function backtestScores(
  samples: { predictedUp: number | null; actualReturn: number }[],
  hits: number,
): { hitRate: number | null; brier: number | null; baseRate: number | null; baseBrier: number | null } {
  const scored = samples.filter((s) => s.predictedUp !== null);
  const baseRate = samples.length ? samples.filter((s) => s.actualReturn > 0).length / samples.length : null;
  const outcome = (s: { actualReturn: number }) => (s.actualReturn > 0 ? 1 : 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return {
    hitRate: scored.length ? hits / scored.length : null,
    brier: mean(scored.map((s) => (s.predictedUp! - outcome(s)) ** 2)),
    baseRate,
    baseBrier: baseRate === null ? null : mean(scored.map((s) => (baseRate - outcome(s)) ** 2)),
  };
}
