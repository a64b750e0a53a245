/**
 * Trains the brain.js net on prepared samples and scores it on the validation samples. Runs inside the
 * training worker (train.worker.ts) so the CLI's progress bar keeps drawing, and directly in tests.
 */
import brain from 'brain.js';
import type { Dataset, Sample } from './brainjs-dataset.js';
import {
  brainjsModelFileSchema,
  forecastFromExceedance,
  netFromModel,
  portableNetJson,
  type BrainjsModelFile,
} from './brainjs-model.js';

export interface TrainOptions {
  hiddenLayers: number[];
  iterations: number;
  learningRate: number;
}

export interface TrainProgress {
  iterations: number;
  error: number;
}

export interface TrainedNet {
  net: BrainjsModelFile['net'];
  error: number;
  iterations: number;
}

export function trainNet(
  samples: readonly Pick<Sample, 'input' | 'output'>[],
  options: TrainOptions,
  onProgress: (p: TrainProgress) => void = () => {},
): TrainedNet {
  const net = new brain.NeuralNetwork({ hiddenLayers: options.hiddenLayers, activation: 'sigmoid' });
  const result = net.train(
    samples.map((s) => ({ input: s.input, output: s.output })),
    {
      iterations: options.iterations,
      // Predicting a noisy 0/1 target never gets near brain.js's default error floor; run all iterations.
      errorThresh: 1e-6,
      learningRate: options.learningRate,
      callback: onProgress,
      callbackPeriod: 1,
    },
  );
  return {
    net: portableNetJson(net.toJSON()) as unknown as BrainjsModelFile['net'],
    error: result.error,
    iterations: result.iterations,
  };
}

export interface ModelMeta {
  version: string;
  createdAt: string;
  horizon: number;
  windowReturns: number;
  stride: number;
  dataVersion: string;
  seconds: number;
}

/** Scores the trained net on the validation samples and assembles the versioned model file. */
export function assembleModel(
  dataset: Dataset,
  trained: TrainedNet,
  options: TrainOptions,
  meta: ModelMeta,
): BrainjsModelFile {
  const draft = {
    kind: 'resemble-brainjs-model' as const,
    format: 1 as const,
    id: 'brainjs' as const,
    version: meta.version,
    createdAt: meta.createdAt,
    horizon: meta.horizon,
    windowReturns: meta.windowReturns,
    features: dataset.features,
    thresholds: dataset.thresholds,
    tails: dataset.tails,
    training: {
      from: dataset.trainRange.from,
      to: dataset.trainRange.to,
      samples: dataset.train.length,
      entities: dataset.entities,
      dataVersion: meta.dataVersion,
      baseRateUp: dataset.baseRateUp,
      stride: meta.stride,
      hiddenLayers: options.hiddenLayers,
      iterations: trained.iterations,
      seconds: meta.seconds,
    },
    metrics: { trainError: trained.error, validation: null as BrainjsModelFile['metrics']['validation'] },
    net: trained.net,
  };
  if (dataset.validationRange && dataset.validation.length > 0) {
    const net = netFromModel(draft);
    let brier = 0;
    let brierBase = 0;
    let hits = 0;
    let covered = 0;
    for (const s of dataset.validation) {
      const f = forecastFromExceedance(draft, net.run(s.input) as ArrayLike<number>);
      const up = s.forwardReturn > 0 ? 1 : 0;
      brier += (f.pUp! - up) ** 2;
      brierBase += (dataset.baseRateUp - up) ** 2;
      hits += f.pUp === 0.5 ? 0.5 : f.pUp! > 0.5 === (up === 1) ? 1 : 0;
      if (s.forwardReturn >= f.quantiles!.p10 && s.forwardReturn <= f.quantiles!.p90) covered++;
    }
    const n = dataset.validation.length;
    draft.metrics.validation = {
      ...dataset.validationRange,
      n,
      brier: brier / n,
      brierBaseRate: brierBase / n,
      hitRate: hits / n,
      coverage80: covered / n,
    };
  }
  return brainjsModelFileSchema.parse(draft);
}
