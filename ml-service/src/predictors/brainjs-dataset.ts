/**
 * Training and validation samples for the brain.js predictor, cut from the store without look-ahead:
 * a sample's whole forward period lies inside [from, to], and validation samples start only after every
 * training sample's forward period has ended (a time split with a gap, not a random one — overlapping
 * forward returns would leak otherwise).
 */
import { exceedanceTargets, windowFeatures, windowLogVol } from './brainjs-model.js';
import { mulberry32, shuffleInPlace, sortedQuantile } from './random.js';
import type { SeriesSource } from './series.js';

export interface DatasetOptions {
  horizon: number;
  windowReturns: number;
  from: string;
  to: string;
  /** Take every `stride`-th window end per entity: neighbouring windows share almost all information. */
  stride: number;
  maxSamples: number;
  /** Share of the sample end dates (the latest ones) held out for validation. 0 disables validation. */
  validationFraction: number;
  seed: number;
}

export interface Sample {
  input: number[];
  output: number[];
  forwardReturn: number;
}

export interface Dataset {
  train: Sample[];
  validation: Sample[];
  thresholds: number[];
  tails: { lo: number; hi: number };
  features: { logVolMean: number; logVolStd: number };
  baseRateUp: number;
  entities: number;
  trainRange: { from: string; to: string };
  validationRange: { from: string; to: string } | null;
}

interface Candidate {
  entity: number;
  end: number;
  endDate: string;
  forwardEndDate: string;
  forwardReturn: number;
  logVol: number;
}

const THRESHOLD_QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];

export function buildDataset(source: SeriesSource, options: DatasetOptions): Dataset {
  const { horizon, windowReturns, from, to, stride } = options;
  const candidates: Candidate[] = [];
  const entitiesUsed = new Set<number>();
  source.entities.forEach((entity, e) => {
    const { dates, closes } = entity;
    for (let end = windowReturns; end + horizon < dates.length; end += stride) {
      if (dates[end]! < from) continue;
      if (dates[end + horizon]! > to) break;
      const c0 = closes[end]!;
      const c1 = closes[end + horizon]!;
      const logVol = windowLogVol(closes, end, windowReturns);
      if (logVol === null || !(c0 > 0) || !(c1 > 0)) continue;
      candidates.push({
        entity: e,
        end,
        endDate: dates[end]!,
        forwardEndDate: dates[end + horizon]!,
        forwardReturn: c1 / c0 - 1,
        logVol,
      });
      entitiesUsed.add(e);
    }
  });
  if (candidates.length < 10) {
    throw new RangeError(
      `only ${candidates.length} windows of ${windowReturns + 1} closes with ${horizon} days after them fall in ${from}..${to}; need at least 10`,
    );
  }

  let trainCandidates = candidates;
  let validationCandidates: Candidate[] = [];
  let validationRange: Dataset['validationRange'] = null;
  if (options.validationFraction > 0) {
    const endDates = candidates.map((c) => c.endDate).sort();
    const split = endDates[Math.floor(endDates.length * (1 - options.validationFraction))]!;
    trainCandidates = candidates.filter((c) => c.forwardEndDate < split);
    validationCandidates = candidates.filter((c) => c.endDate >= split);
    if (validationCandidates.length > 0) {
      validationRange = {
        from: split,
        to: validationCandidates.reduce((m, c) => (c.forwardEndDate > m ? c.forwardEndDate : m), split),
      };
    }
  }
  if (trainCandidates.length < 10)
    throw new RangeError('fewer than 10 training windows before the validation period');

  const random = mulberry32(options.seed);
  shuffleInPlace(trainCandidates, random);
  if (trainCandidates.length > options.maxSamples)
    trainCandidates = trainCandidates.slice(0, options.maxSamples);
  shuffleInPlace(validationCandidates, random);
  validationCandidates = validationCandidates.slice(0, Math.max(1, Math.ceil(options.maxSamples / 4)));

  const logVols = trainCandidates.map((c) => c.logVol);
  const logVolMean = logVols.reduce((a, b) => a + b, 0) / logVols.length;
  const logVolStd = Math.sqrt(logVols.reduce((a, b) => a + (b - logVolMean) ** 2, 0) / logVols.length) || 1;
  const features = { logVolMean, logVolStd };

  const returns = Float64Array.from(trainCandidates.map((c) => c.forwardReturn)).sort();
  const thresholds = [...new Set([0, ...THRESHOLD_QUANTILES.map((q) => sortedQuantile(returns, q))])].sort(
    (a, b) => a - b,
  );
  const tails = { lo: sortedQuantile(returns, 0.005), hi: sortedQuantile(returns, 0.995) };
  const baseRateUp = trainCandidates.filter((c) => c.forwardReturn > 0).length / trainCandidates.length;

  const toSample = (c: Candidate): Sample => ({
    input: windowFeatures(source.entities[c.entity]!.closes, c.end, windowReturns, features)!,
    output: exceedanceTargets(c.forwardReturn, thresholds),
    forwardReturn: c.forwardReturn,
  });
  const firstLast = (list: Candidate[], key: 'endDate' | 'forwardEndDate') =>
    list.reduce(
      (m, c) => ({ from: c.endDate < m.from ? c.endDate : m.from, to: c[key] > m.to ? c[key] : m.to }),
      {
        from: '9999-12-31',
        to: '0000-01-01',
      },
    );
  return {
    train: trainCandidates.map(toSample),
    validation: validationCandidates.map(toSample),
    thresholds,
    tails,
    features,
    baseRateUp,
    entities: entitiesUsed.size,
    trainRange: firstLast(trainCandidates, 'forwardEndDate'),
    validationRange,
  };
}
