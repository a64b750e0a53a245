/**
 * The brain.js predictor's maths, free of I/O: features from a close series, the versioned model file, and
 * the conversion of the network's outputs into the contract's Forecast.
 *
 * Why a feed-forward net on exceedance indicators rather than LSTMTimeStep: brain.js 1.6.1's NeuralNetwork
 * trains ~20k samples per epoch in ~0.2 s on one core (LSTMTimeStep is orders of magnitude slower), and
 * regressing 0/1 targets `forwardReturn > t_k` with squared error estimates P(R > t_k | window) directly —
 * a whole predictive distribution (pUp is the t = 0 output, quantiles come from inverting the implied CDF),
 * scored by the same Brier/coverage rules as the other predictors.
 */
import brain from 'brain.js';
import { z } from 'zod';
import type { Forecast } from '@resemble/contracts';
import { fitIsotonic } from './isotonic.js';

export const BRAINJS_MODEL_KIND = 'resemble-brainjs-model';

/** Clip standardized returns so one crash day cannot saturate the sigmoid units. */
const Z_CLIP = 4;
const MIN_VOL = 1e-6;

export const brainjsModelFileSchema = z.object({
  kind: z.literal(BRAINJS_MODEL_KIND),
  format: z.literal(1),
  id: z.literal('brainjs'),
  version: z.string().min(1),
  createdAt: z.string(),
  horizon: z.number().int().min(1).max(250),
  /** Number of daily log returns the net sees (needs windowReturns + 1 closes). */
  windowReturns: z.number().int().min(2).max(250),
  features: z.object({ logVolMean: z.number(), logVolStd: z.number().positive() }),
  /** Ascending forward-return thresholds t_k; output k estimates P(R > t_k). Always contains 0. */
  thresholds: z.array(z.number()).min(2),
  /** Forward returns with CDF 0 and 1 (tails of the training distribution) to close the implied CDF. */
  tails: z.object({ lo: z.number(), hi: z.number() }),
  training: z.object({
    from: z.string(),
    to: z.string(),
    samples: z.number().int().nonnegative(),
    entities: z.number().int().nonnegative(),
    dataVersion: z.string(),
    baseRateUp: z.number().min(0).max(1),
    stride: z.number().int().positive(),
    hiddenLayers: z.array(z.number().int().positive()),
    iterations: z.number().int().nonnegative(),
    seconds: z.number().nonnegative(),
  }),
  metrics: z.object({
    trainError: z.number(),
    validation: z
      .object({
        from: z.string(),
        to: z.string(),
        n: z.number().int(),
        brier: z.number().nullable(),
        brierBaseRate: z.number().nullable(),
        hitRate: z.number().nullable(),
        coverage80: z.number().nullable(),
      })
      .nullable(),
  }),
  net: z.object({ sizes: z.array(z.number()), layers: z.array(z.unknown()) }).passthrough(),
});
export type BrainjsModelFile = z.infer<typeof brainjsModelFileSchema>;

/**
 * Features of the window of `windowReturns` log returns ending at closes[end]: each return divided by the
 * window's RMS return (shape, clipped to ±4 and scaled to ±1), then the standardized log RMS (level of
 * volatility). Returns null when the closes are missing, not positive or not finite.
 */
export function windowFeatures(
  closes: ArrayLike<number>,
  end: number,
  windowReturns: number,
  norm: { logVolMean: number; logVolStd: number },
): number[] | null {
  const first = end - windowReturns;
  if (first < 0 || end >= closes.length) return null;
  const r = new Array<number>(windowReturns);
  let sq = 0;
  for (let j = 0; j < windowReturns; j++) {
    const a = closes[first + j]!;
    const b = closes[first + j + 1]!;
    if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) return null;
    const v = Math.log(b / a);
    r[j] = v;
    sq += v * v;
  }
  const vol = Math.max(MIN_VOL, Math.sqrt(sq / windowReturns));
  const out = r.map((v) => Math.max(-Z_CLIP, Math.min(Z_CLIP, v / vol)) / Z_CLIP);
  const volZ = (Math.log(vol) - norm.logVolMean) / norm.logVolStd;
  out.push(Math.max(-Z_CLIP, Math.min(Z_CLIP, volZ)) / Z_CLIP);
  return out;
}

/** Log RMS return of the window ending at `end`, for fitting the volatility normalization. */
export function windowLogVol(closes: ArrayLike<number>, end: number, windowReturns: number): number | null {
  if (end - windowReturns < 0 || end >= closes.length) return null;
  let sq = 0;
  for (let j = end - windowReturns; j < end; j++) {
    const a = closes[j]!;
    const b = closes[j + 1]!;
    if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) return null;
    const v = Math.log(b / a);
    sq += v * v;
  }
  return Math.log(Math.max(MIN_VOL, Math.sqrt(sq / windowReturns)));
}

export function exceedanceTargets(forwardReturn: number, thresholds: readonly number[]): number[] {
  return thresholds.map((t) => (forwardReturn > t ? 1 : 0));
}

/** Inverse of a piecewise-linear CDF through (t[i], F[i]) with F non-decreasing from 0 to 1. */
function inverseCdf(t: readonly number[], F: readonly number[], q: number): number {
  for (let i = 1; i < t.length; i++) {
    if (F[i]! >= q) {
      const dF = F[i]! - F[i - 1]!;
      if (dF <= 0) return t[i]!;
      return t[i - 1]! + ((q - F[i - 1]!) / dF) * (t[i]! - t[i - 1]!);
    }
  }
  return t[t.length - 1]!;
}

/**
 * Turns exceedance probabilities into the contract's Forecast. Outputs of independent sigmoid units need not
 * be monotone in t, so they are first projected onto non-increasing sequences (isotonic regression).
 * The per-day fan scales the horizon quantiles by sqrt(day / horizon) — a random-walk assumption, since the
 * net predicts only the horizon's end point.
 */
export function forecastFromExceedance(
  model: Pick<BrainjsModelFile, 'thresholds' | 'tails' | 'horizon' | 'training'>,
  exceedance: ArrayLike<number>,
): Forecast {
  const { thresholds, tails, horizon } = model;
  if (exceedance.length !== thresholds.length) {
    throw new RangeError(
      `model has ${thresholds.length} thresholds but the net returned ${exceedance.length} outputs`,
    );
  }
  const negated = Array.from(exceedance, (s) => -Math.min(1, Math.max(0, s)));
  const monotone = fitIsotonic(
    thresholds.map((_, i) => i),
    negated,
  ).y.map((v) => -v);
  const t = [
    Math.min(tails.lo, thresholds[0]!),
    ...thresholds,
    Math.max(tails.hi, thresholds[thresholds.length - 1]!),
  ];
  const F = [0, ...monotone.map((s) => 1 - s), 1];
  const quantile = (q: number) => inverseCdf(t, F, q);
  const quantiles = {
    p10: quantile(0.1),
    p25: quantile(0.25),
    p50: quantile(0.5),
    p75: quantile(0.75),
    p90: quantile(0.9),
  };
  let mean = 0;
  for (let i = 1; i < t.length; i++) mean += (F[i]! - F[i - 1]!) * ((t[i]! + t[i - 1]!) / 2);
  const zeroIndex = thresholds.indexOf(0);
  const pUp = zeroIndex >= 0 ? monotone[zeroIndex]! : 1 - interpolateCdfAt(t, F, 0);
  const fan = Array.from({ length: horizon }, (_, i) => {
    const s = Math.sqrt((i + 1) / horizon);
    return {
      p10: 1 + quantiles.p10 * s,
      p25: 1 + quantiles.p25 * s,
      p50: 1 + quantiles.p50 * s,
      p75: 1 + quantiles.p75 * s,
      p90: 1 + quantiles.p90 * s,
    };
  });
  return {
    n: model.training.samples,
    horizon,
    mean,
    median: quantiles.p50,
    quantiles,
    fan,
    pUp,
    baseRateUp: model.training.baseRateUp,
    basis: { kind: 'neural-net', n: model.training.samples, trainedTo: model.training.to },
    // The net's pUp is not a share of cases, so it has no effective n nor a sampling interval; its
    // backtest found no edge over the base rate, which is what "no-difference" says (decision 094).
    effectiveN: null,
    pUpInterval: null,
    verdict: 'no-difference',
    pUpCalibrated: null,
    calibratorId: null,
    calibrated: false,
    bands: 'model',
  };
}

function interpolateCdfAt(t: readonly number[], F: readonly number[], x: number): number {
  if (x <= t[0]!) return 0;
  for (let i = 1; i < t.length; i++) {
    if (x <= t[i]!) return F[i - 1]! + ((x - t[i - 1]!) / (t[i]! - t[i - 1]! || 1)) * (F[i]! - F[i - 1]!);
  }
  return 1;
}

export type BrainNet = InstanceType<typeof brain.NeuralNetwork>;

/**
 * brain.js's toJSON keeps trainOpts such as `timeout: Infinity` and `callback`, which JSON turns into null,
 * and its fromJSON then rejects null as "out of normal training range". Only finite numbers and booleans
 * survive a round trip, so keep just those.
 */
export function portableNetJson<T extends object>(json: T): T {
  const opts = ((json as { trainOpts?: unknown }).trainOpts ?? {}) as Record<string, unknown>;
  const trainOpts = Object.fromEntries(
    Object.entries(opts).filter(
      ([, v]) => typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)),
    ),
  );
  return { ...json, trainOpts };
}

export function netFromModel(model: BrainjsModelFile): BrainNet {
  const net = new brain.NeuralNetwork();
  net.fromJSON(portableNetJson(model.net) as unknown as Parameters<BrainNet['fromJSON']>[0]);
  const sizes = model.net.sizes;
  if (sizes[0] !== model.windowReturns + 1 || sizes[sizes.length - 1] !== model.thresholds.length) {
    throw new Error(
      `brainjs model ${model.version}: net sizes ${JSON.stringify(sizes)} do not match ${model.windowReturns + 1} features and ${model.thresholds.length} thresholds`,
    );
  }
  return net;
}

/** Forecast for the window of closes ending at `end`; null when the window is too short or invalid. */
export function predictWithNet(
  net: BrainNet,
  model: BrainjsModelFile,
  closes: ArrayLike<number>,
  end: number,
): Forecast | null {
  const x = windowFeatures(closes, end, model.windowReturns, model.features);
  if (!x) return null;
  return forecastFromExceedance(model, net.run(x) as ArrayLike<number>);
}
