/**
 * The predictor registry: every model /v1/predict can name, each with a version. brain.js models and pUp
 * calibrators are JSON files in MODELS_DIR; the registry watches the directory and reloads on change, so a
 * model is swapped or added without a restart. A missing or invalid brainjs file makes that predictor
 * unavailable (with the reason), never crashes the service; the previous valid state is not kept on
 * purpose — what is served is always what is on disk.
 */
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Forecast, SimilarQuery, Timeframe } from '@resemble/contracts';
import { marketOf } from '../market/bars.js';
import type { MarketData } from '../market/market-data.js';
import type { ShardRunner } from '../search/similarity.service.js';
import { ANALOGUE_VERSION, analogueForecast, analogueForecastWith } from './analogue.predictor.js';
import { BASELINE_VERSION, baselineForecast } from './baseline.predictor.js';
import { BRAINJS_MODEL_KIND, brainjsModelFileSchema } from './brainjs-model.js';
import { brainjsForecast, loadBrainjsModel, type LoadedBrainjsModel } from './brainjs.predictor.js';
import {
  applyCalibrator,
  CALIBRATOR_KIND,
  calibratorFileSchema,
  coversSetting,
  type CalibrationContext,
  type CalibratorFile,
} from './calibrator.js';
import { realisedVol } from './volatility.js';
import { PredictorError } from './errors.js';
import { seriesSource } from './market-series.js';
import { resolveQuery } from './query.js';

export type ModelId = 'analogue' | 'baseline' | 'brainjs';
export const MODEL_IDS: readonly ModelId[] = ['analogue', 'baseline', 'brainjs'];

export interface PredictorInfo {
  id: ModelId;
  version: string | null;
  available: boolean;
  reason: string | null;
  /** Horizons the predictor answers; null = any horizon 1..250. */
  horizons: number[] | null;
  calibratedHorizons: number[];
}

export interface Prediction {
  model: ModelId;
  modelVersion: string;
  horizon: number;
  forecast: Forecast;
}

export interface PredictOptions {
  /** Backtests: only information whose forward period ended strictly before this ISO date may be used. */
  forwardEndBefore?: string;
  /** Skip the calibrator (the backtest scores raw pUp and fits calibrators itself). */
  raw?: boolean;
  /** Bars the query and the horizon count (default D). */
  timeframe?: Timeframe;
}

export interface RegistryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PredictorRegistry {
  list(): PredictorInfo[];
  predict(model: ModelId, query: SimilarQuery, horizon: number, options?: PredictOptions): Prediction;
  /**
   * The same answer, with the analogue search's shards run by `run` (the service's worker pool) so the
   * event loop stays free; the other predictors are cheap and run inline.
   */
  predictAsync(
    model: ModelId,
    query: SimilarQuery,
    horizon: number,
    run: ShardRunner,
    options?: PredictOptions,
  ): Promise<Prediction>;
  /**
   * The calibrator covering a setting (predictor version, query length, horizon), if any: /v1/similar
   * applies it to its analogue forecast when its search is the analogue predictor's.
   */
  calibratorFor(model: ModelId, version: string, length: number, horizon: number): CalibratorFile | undefined;
  /** Counts reloads of MODELS_DIR, so caches of calibrated answers can tell old files from new. */
  generation(): number;
  /** Re-reads MODELS_DIR now (the watcher calls this; tests and SIGHUP handlers may too). */
  reload(): void;
  /** Problems met on the last reload (invalid files), for /health and logs. */
  problems(): string[];
  close(): void;
}

interface State {
  brainjs: LoadedBrainjsModel | null;
  brainjsReason: string;
  calibrators: CalibratorFile[];
  problems: string[];
}

const RELOAD_DEBOUNCE_MS = 150;

function readState(modelsDir: string): State {
  const state: State = { brainjs: null, brainjsReason: '', calibrators: [], problems: [] };
  if (!existsSync(modelsDir)) {
    state.brainjsReason = `no brainjs model: models directory ${modelsDir} does not exist (train one with npm run train -w ml-service)`;
    return state;
  }
  const candidates: LoadedBrainjsModel[] = [];
  for (const name of readdirSync(modelsDir).sort()) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const path = join(modelsDir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      state.problems.push(`${name}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const kind = (json as { kind?: unknown } | null)?.kind;
    if (kind === BRAINJS_MODEL_KIND) {
      const parsed = brainjsModelFileSchema.safeParse(json);
      if (!parsed.success) {
        state.problems.push(
          `${name}: invalid brainjs model (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`,
        );
        continue;
      }
      try {
        candidates.push(loadBrainjsModel(parsed.data, path));
      } catch (error) {
        state.problems.push(`${name}: ${(error as Error).message}`);
      }
    } else if (kind === CALIBRATOR_KIND) {
      const parsed = calibratorFileSchema.safeParse(json);
      if (parsed.success) state.calibrators.push(parsed.data);
      else
        state.problems.push(
          `${name}: invalid calibrator (${parsed.error.issues.map((i) => i.message).join('; ')})`,
        );
    }
  }
  // Several model files may sit side by side (a new one trained beside the old): serve the newest.
  candidates.sort((a, b) =>
    a.file.createdAt < b.file.createdAt ? 1 : a.file.createdAt > b.file.createdAt ? -1 : 0,
  );
  state.brainjs = candidates[0] ?? null;
  if (!state.brainjs) {
    state.brainjsReason =
      state.problems.length > 0
        ? `no valid brainjs model in ${modelsDir}: ${state.problems.join(' | ')}`
        : `no brainjs model in ${modelsDir} (train one with npm run train -w ml-service)`;
  }
  return state;
}

export function createPredictorRegistry(ctx: {
  getData: () => MarketData;
  modelsDir: string;
  watch?: boolean;
  logger?: RegistryLogger;
}): PredictorRegistry {
  let state = readState(ctx.modelsDir);
  let watcher: FSWatcher | null = null;
  let timer: NodeJS.Timeout | null = null;

  let generation = 0;
  const reload = () => {
    state = readState(ctx.modelsDir);
    generation++;
    ctx.logger?.info(
      {
        brainjs: state.brainjs?.file.version ?? null,
        calibrators: state.calibrators.map((c) => `${c.predictor}/h${c.horizon}`),
      },
      'models reloaded',
    );
    if (state.problems.length > 0)
      ctx.logger?.warn({ problems: state.problems }, 'some model files were skipped');
  };

  if (ctx.watch !== false && existsSync(ctx.modelsDir)) {
    try {
      watcher = watch(ctx.modelsDir, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(reload, RELOAD_DEBOUNCE_MS);
      });
      watcher.on('error', (error) =>
        ctx.logger?.warn({ err: error.message }, 'models directory watcher failed'),
      );
    } catch (error) {
      ctx.logger?.warn(
        { err: (error as Error).message },
        'cannot watch models directory; reload on demand only',
      );
    }
  }

  const versionOf = (id: ModelId): string | null =>
    id === 'analogue'
      ? ANALOGUE_VERSION
      : id === 'baseline'
        ? BASELINE_VERSION
        : (state.brainjs?.file.version ?? null);

  const calibratorFor = (id: ModelId, version: string, length: number, horizon: number) =>
    state.calibrators.find(
      (c) => c.predictor === id && c.predictorVersion === version && coversSetting(c, length, horizon),
    );

  interface Computed {
    forecast: Forecast | null;
    version: string;
    length: number;
    context: CalibrationContext;
  }

  /** Validation, data and the cheap predictors; the analogue search is delegated to `analogue`. */
  const compute = (
    model: ModelId,
    query: SimilarQuery,
    horizon: number,
    options: PredictOptions,
    analogue: (data: MarketData) => Forecast | null,
  ): Computed => {
    if (!MODEL_IDS.includes(model))
      throw new PredictorError(404, 'unknown_model', `unknown model ${String(model)}`);
    const current = state;
    const timeframe = options.timeframe ?? 'D';
    if (model === 'brainjs' && timeframe !== 'D') {
      throw new PredictorError(
        400,
        'unsupported_timeframe',
        `the brainjs model was trained on daily bars; ask it with timeframe D, or use the analogue or baseline model for timeframe ${timeframe}`,
      );
    }
    if (model === 'brainjs' && !current.brainjs)
      throw new PredictorError(409, 'model_unavailable', current.brainjsReason);
    const data = ctx.getData();
    const source = seriesSource(marketOf(data, timeframe));
    const resolved = resolveQuery(source, query);
    const cutoff = { forwardEndBefore: options.forwardEndBefore };
    const length =
      resolved.kind === 'code' ? resolved.endRow - resolved.startRow + 1 : resolved.closes.length;
    const context = {
      markets: data.markets,
      vol: realisedVol(
        resolved.closes,
        resolved.kind === 'code' ? resolved.endRow : resolved.closes.length - 1,
      ),
    };
    if (model === 'analogue') return { forecast: analogue(data), version: ANALOGUE_VERSION, length, context };
    if (model === 'baseline')
      return {
        forecast: baselineForecast(source, resolved, horizon, cutoff),
        version: BASELINE_VERSION,
        length,
        context,
      };
    return {
      forecast: brainjsForecast(current.brainjs!, resolved, horizon, cutoff),
      version: current.brainjs!.file.version,
      length,
      context,
    };
  };

  const finish = (
    model: ModelId,
    horizon: number,
    options: PredictOptions,
    { forecast, version, length, context }: Computed,
  ): Prediction => {
    // Calibrators are fitted on daily backtests: a weekly or monthly forecast is served uncalibrated.
    const daily = (options.timeframe ?? 'D') === 'D';
    const calibrator = options.raw || !daily ? undefined : calibratorFor(model, version, length, horizon);
    return {
      model,
      modelVersion: version,
      horizon,
      forecast: applyCalibrator(forecast!, calibrator, context),
    };
  };

  return {
    list: () =>
      MODEL_IDS.map((id) => {
        const version = versionOf(id);
        return {
          id,
          version,
          available: version !== null,
          reason: id === 'brainjs' && !state.brainjs ? state.brainjsReason : null,
          horizons: id === 'brainjs' ? (state.brainjs ? [state.brainjs.file.horizon] : []) : null,
          calibratedHorizons: state.calibrators
            .filter((c) => c.predictor === id && c.predictorVersion === version)
            .map((c) => c.horizon),
        };
      }),
    predict(model, query, horizon, options = {}) {
      return finish(
        model,
        horizon,
        options,
        compute(model, query, horizon, options, (data) => analogueForecast(data, query, horizon, options)),
      );
    },
    async predictAsync(model, query, horizon, run, options = {}) {
      let pending: Promise<Forecast> | null = null;
      const partial = compute(model, query, horizon, options, (data) => {
        pending = analogueForecastWith(data, query, horizon, run, options);
        return null;
      });
      const forecast = pending ? await pending : partial.forecast;
      return finish(model, horizon, options, { ...partial, forecast: forecast! });
    },
    calibratorFor,
    generation: () => generation,
    reload,
    problems: () => [...state.problems],
    close() {
      if (timer) clearTimeout(timer);
      watcher?.close();
      watcher = null;
    },
  };
}
