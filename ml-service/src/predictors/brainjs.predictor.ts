/**
 * The brain.js predictor at serving time: the loaded model file and its net, applied to the window of
 * closes ending at the query's end. Never trains; a missing model makes it unavailable, not broken.
 */
import type { Forecast } from '@resemble/contracts';
import { netFromModel, predictWithNet, type BrainjsModelFile, type BrainNet } from './brainjs-model.js';
import { PredictorError } from './errors.js';
import type { ResolvedQuery } from './query.js';

export interface LoadedBrainjsModel {
  file: BrainjsModelFile;
  path: string;
  net: BrainNet;
}

export function loadBrainjsModel(file: BrainjsModelFile, path: string): LoadedBrainjsModel {
  return { file, path, net: netFromModel(file) };
}

/**
 * `forwardEndBefore` only guards backtests: a model whose training period reaches the cutoff has seen the
 * future of that evaluation date, so the prediction is refused rather than silently leaking.
 */
export function brainjsForecast(
  model: LoadedBrainjsModel,
  query: ResolvedQuery,
  horizon: number,
  options: { forwardEndBefore?: string } = {},
): Forecast {
  const { file } = model;
  if (horizon !== file.horizon) {
    throw new PredictorError(
      400,
      'unsupported_horizon',
      `brainjs model ${file.version} was trained for horizon ${file.horizon}; horizon ${horizon} is not supported`,
    );
  }
  if (options.forwardEndBefore !== undefined && file.training.to >= options.forwardEndBefore) {
    throw new PredictorError(
      409,
      'model_unavailable',
      `brainjs model ${file.version} was trained on data up to ${file.training.to}, not before ${options.forwardEndBefore}`,
    );
  }
  const end = query.kind === 'code' ? query.endRow : query.closes.length - 1;
  const forecast = predictWithNet(model.net, file, query.closes, end);
  if (!forecast) {
    throw new PredictorError(
      400,
      'invalid_query',
      `brainjs needs ${file.windowReturns + 1} positive closes ending at the query's end${query.kind === 'series' ? ` (the series has ${query.closes.length})` : ''}`,
    );
  }
  return forecast;
}
