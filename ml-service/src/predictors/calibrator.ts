/**
 * A versioned calibrator of one setting: an isotonic map from raw pUp to the frequency of "up" observed
 * for it on an earlier walk-forward period, and split-conformal offsets for the p10–p90 and p25–p75 bands
 * fitted on the same period (written by the backtests, loaded by the registry). It belongs to one
 * predictor version, one horizon and (grid calibrators) one range of query lengths; the registry applies
 * it only there, and only the parts that met their goal on the later, held-out period.
 */
import { modelIdSchema, type Forecast } from '@resemble/contracts';
import { z } from 'zod';
import { applyIsotonic } from './isotonic.js';
import { volScale } from './volatility.js';

export const CALIBRATOR_KIND = 'resemble-pup-calibrator';

const scoreSchema = z.object({
  n: z.number().int().nonnegative(),
  brierBefore: z.number().nullable(),
  brierAfter: z.number().nullable(),
  eceBefore: z.number().nullable(),
  eceAfter: z.number().nullable(),
});

export const calibratorFileSchema = z
  .object({
    kind: z.literal(CALIBRATOR_KIND),
    format: z.literal(1),
    version: z.string().min(1),
    createdAt: z.string(),
    predictor: modelIdSchema,
    predictorVersion: z.string().min(1),
    horizon: z.number().int().min(1).max(250),
    /**
     * How the pUp map was made: isotonic or Platt (sampled as knots), on the earlier period or (rolling-*)
     * refitted on the most recent outcomes; x/y are the knots either way (linear in between).
     */
    method: z.enum(['isotonic', 'platt', 'rolling-isotonic', 'rolling-platt']),
    fittedOn: z.object({
      from: z.string(),
      to: z.string(),
      n: z.number().int().positive(),
      dataVersion: z.string(),
      /** The data set and the markets of its store: a calibrator is applied only to a store of those markets. */
      dataset: z.string().optional(),
      markets: z.array(z.string().min(1)).min(1).optional(),
    }),
    x: z.array(z.number().min(0).max(1)).min(1),
    y: z.array(z.number().min(0).max(1)).min(1),
    metrics: z.object({ fit: scoreSchema, test: scoreSchema.nullable() }),
    /** Query lengths (rows) this calibrator covers; absent = fitted for any length (the one-setting backtest). */
    lengths: z.object({ min: z.number().int().min(1), max: z.number().int().min(1) }).optional(),
    /**
     * Conformalized quantile regression offsets (Romano, Patterson & Candès 2019): the band [p10 − q80,
     * p90 + q80] covered 80 % of the fit period's outcomes (q50 likewise for p25–p75). Returns, at the horizon.
     */
    conformal: z
      .object({
        q80: z.number(),
        q50: z.number(),
        n: z.number().int().positive(),
        /**
         * Decision 099: with `normalised` the offsets are in units of the stock's own scale, vol·√h, where
         * vol is the standard deviation of its last `volWindow` daily log returns on the query's last day.
         */
        method: z.enum(['split', 'normalised', 'rolling', 'aci']).default('split'),
        normalised: z.boolean().default(false),
        volWindow: z.number().int().min(2).optional(),
      })
      .optional(),
    /** Whether each part met its goal on the held-out period; absent = a one-setting calibrator (pUp only). */
    goals: z
      .object({
        pUp: z.boolean(),
        bands: z.boolean(),
        n: z.number().int().nonnegative(),
        eceCalibrated: z.number().nullable(),
        coverage80Conformal: z.number().nullable(),
      })
      .optional(),
  })
  .refine((c) => c.x.length === c.y.length, { message: 'x and y must have the same length' })
  .refine((c) => c.x.every((v, i) => i === 0 || v > c.x[i - 1]!), {
    message: 'x must be strictly increasing',
  })
  .refine((c) => !c.method.endsWith('isotonic') || c.y.every((v, i) => i === 0 || v >= c.y[i - 1]!), {
    message: 'y must be non-decreasing',
  })
  .refine((c) => !c.conformal?.normalised || c.conformal.volWindow !== undefined, {
    message: 'normalised conformal offsets need volWindow',
  });
export type CalibratorFile = z.infer<typeof calibratorFileSchema>;

export function calibratePUp(calibrator: Pick<CalibratorFile, 'x' | 'y'>, pUp: number): number {
  return applyIsotonic(calibrator, pUp);
}

export function calibratorFileName(predictor: string, horizon: number, length?: number): string {
  return length === undefined
    ? `calibrator-${predictor}-h${horizon}.json`
    : `calibrator-${predictor}-L${length}-h${horizon}.json`;
}

/** Whether a calibrator covers a query of `length` rows and `horizon` rows ahead. */
export function coversSetting(
  c: Pick<CalibratorFile, 'horizon' | 'lengths'>,
  length: number,
  horizon: number,
): boolean {
  return (
    c.horizon === horizon && (c.lengths === undefined || (length >= c.lengths.min && length <= c.lengths.max))
  );
}

/** Widens (or narrows) a band pair by a conformal offset, keeping the five quantiles in order. */
function conformalQuantiles(q: Forecast['quantiles'] & object, q80: number, q50: number, floor: number) {
  const p50 = q.p50;
  const p25 = Math.min(p50, q.p25 - q50);
  const p75 = Math.max(p50, q.p75 + q50);
  return {
    p10: Math.max(floor, Math.min(p25, q.p10 - q80)),
    p25: Math.max(floor, p25),
    p50,
    p75,
    p90: Math.max(p75, q.p90 + q80),
  };
}

/** What the service knows beside the forecast: the store's markets and the query's own volatility. */
export interface CalibrationContext {
  /** Markets of the store searched (one entry per stock is fine). */
  markets: readonly string[];
  /** realisedVol on the query's last day; null when the query is too short to tell. */
  vol: number | null;
}

/**
 * Whether a calibrator was fitted on a store of the served store's markets: a calibrator fitted on US
 * stocks says nothing about how the analogue behaves on a Japanese store, and one that does not say where
 * it was fitted is applied nowhere.
 */
export function fitsStore(c: Pick<CalibratorFile, 'fittedOn'>, markets: readonly string[]): boolean {
  const fitted = c.fittedOn.markets;
  return fitted !== undefined && markets.length > 0 && markets.every((m) => fitted.includes(m));
}

/**
 * The forecast with what the calibrator of its setting offers, when it was fitted on the served store's
 * markets (else the forecast as it is, "not calibrated"): its id; pUpCalibrated only when the pUp map met
 * its held-out ECE goal; the conformal bands only when they met their coverage goal (and, for normalised
 * offsets, the query's volatility is known). The offsets are fitted at the horizon; the fan's earlier steps
 * get them scaled by √(step / horizon), the spread of a random walk, so the fan ends exactly on the
 * conformal quantiles.
 */
export function applyCalibrator(
  forecast: Forecast,
  calibrator: CalibratorFile | undefined,
  context: CalibrationContext,
): Forecast {
  if (!calibrator || !fitsStore(calibrator, context.markets)) return forecast;
  const goals = calibrator.goals ?? { pUp: true, bands: false };
  const out: Forecast = { ...forecast, calibratorId: calibrator.version };
  if (goals.pUp && forecast.pUp !== null) out.pUpCalibrated = calibratePUp(calibrator, forecast.pUp);
  const c = calibrator.conformal;
  const h = forecast.horizon;
  const unit = !c?.normalised ? 1 : context.vol === null ? null : volScale(context.vol, h);
  if (goals.bands && c && unit !== null && forecast.quantiles) {
    const q80 = c.q80 * unit;
    const q50 = c.q50 * unit;
    out.quantiles = conformalQuantiles(forecast.quantiles, q80, q50, -1 + 1e-9);
    out.fan = forecast.fan.map((f, i) => {
      const s = Math.sqrt((i + 1) / h);
      return conformalQuantiles(f, q80 * s, q50 * s, 1e-9);
    });
    out.median = out.quantiles.p50;
    out.bands = 'conformal';
  }
  out.calibrated = goals.pUp && goals.bands && out.bands === 'conformal' && out.pUpCalibrated !== null;
  return out;
}
