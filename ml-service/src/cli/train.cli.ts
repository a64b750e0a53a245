/**
 * `npm run train -w ml-service -- [options]`: trains the brainjs predictor from the store in a worker
 * thread (progress bar), scores it on a later held-out period and writes the versioned model JSON
 * atomically into MODELS_DIR, where a running service picks it up without a restart.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { isoDate, int, parseCliArgs, runCliProcess } from './cli-args.js';
import { loadMarketData } from '../market/market-data.js';
import { writeFileAtomic } from '../predictors/atomic-write.js';
import { buildDataset } from '../predictors/brainjs-dataset.js';
import { assembleModel, type TrainOptions } from '../predictors/brainjs-train.js';
import { seriesSource } from '../predictors/market-series.js';
import { DEFAULT_DATA_DIR, DEFAULT_MODELS_DIR, resolveCliPath } from '../predictors/paths.js';
import { trainInWorker } from '../predictors/train-in-worker.js';
import { createProgressBar } from '../backtest/progress.js';

const USAGE = `usage: npm run train -w ml-service -- [options]
  --data DIR            store to train from (default $DATA_DIR or <repo>/data)
  --out FILE            model file (default $MODELS_DIR/brainjs-h<horizon>.json)
  --horizon N           forward rows to predict (default 20)
  --window N            daily returns the net sees (default 20)
  --from YYYY-MM-DD     first window end used (default: all history)
  --to YYYY-MM-DD       last forward-period end used (default: all history)
  --stride N            every N-th window end per stock (default 5)
  --max-samples N       training samples after subsampling (default 30000)
  --hidden A,B          hidden layer sizes (default 16)
  --iterations N        epochs (default 40)
  --learning-rate X     (default 0.05)
  --validation X        latest share of dates held out for validation (default 0.2)
  --seed N              sampling seed (default 1)`;

const argsSchema = z.object({
  data: z
    .string()
    .min(1)
    .default(process.env.DATA_DIR ?? DEFAULT_DATA_DIR),
  out: z.string().min(1).optional(),
  horizon: int(1, 250).default(20),
  window: int(2, 250).default(20),
  from: isoDate.default('0000-01-01'),
  to: isoDate.default('9999-12-31'),
  stride: int(1, 1000).default(5),
  'max-samples': int(10, 2_000_000).default(30_000),
  hidden: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated positive integers')
    .default('16')
    .transform((s) => s.split(',').map(Number)),
  iterations: int(1, 100_000).default(40),
  'learning-rate': z.coerce.number().positive().max(10).default(0.05),
  validation: z.coerce.number().min(0).max(0.9).default(0.2),
  seed: int(0, 2 ** 31).default(1),
});

const parse = (argv: string[]) => parseCliArgs(argsSchema, argv);

type Args = NonNullable<ReturnType<typeof parse>>;

async function main(args: Args): Promise<number> {
  const started = Date.now();
  const dataDir = resolveCliPath(args.data);
  const modelsDir = process.env.MODELS_DIR ? resolveCliPath(process.env.MODELS_DIR) : DEFAULT_MODELS_DIR;
  const out = args.out ? resolveCliPath(args.out) : join(modelsDir, `brainjs-h${args.horizon}.json`);
  process.stderr.write(`loading ${dataDir} ...\n`);
  const data = loadMarketData(dataDir);
  const source = seriesSource(data);
  const dataset = buildDataset(source, {
    horizon: args.horizon,
    windowReturns: args.window,
    from: args.from,
    to: args.to,
    stride: args.stride,
    maxSamples: args['max-samples'],
    validationFraction: args.validation,
    seed: args.seed,
  });
  process.stderr.write(
    `${dataset.train.length} training windows (${dataset.trainRange.from}..${dataset.trainRange.to}, ${dataset.entities} stocks), ` +
      `${dataset.validation.length} validation windows${dataset.validationRange ? ` (${dataset.validationRange.from}..${dataset.validationRange.to})` : ''}\n`,
  );
  const options: TrainOptions = {
    hiddenLayers: args.hidden,
    iterations: args.iterations,
    learningRate: args['learning-rate'],
  };
  const bar = createProgressBar('training', args.iterations, 'epochs');
  const trained = await trainInWorker(dataset.train, options, (p) =>
    bar.update(p.iterations, `error ${p.error.toFixed(5)}`),
  );
  bar.stop();
  const createdAt = new Date().toISOString();
  const model = assembleModel(dataset, trained, options, {
    version: `ff${args.window + 1}x${args.hidden.join('x')}-h${args.horizon}-to${dataset.trainRange.to}-${createdAt.slice(0, 19).replace(/[-:T]/g, '')}`,
    createdAt,
    horizon: args.horizon,
    windowReturns: args.window,
    stride: args.stride,
    dataVersion: data.dataVersion,
    seconds: (Date.now() - started) / 1000,
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileAtomic(out, `${JSON.stringify(model)}\n`);
  const v = model.metrics.validation;
  process.stdout.write(
    `wrote ${out}\n  version ${model.version}\n  train error ${model.metrics.trainError.toFixed(5)} after ${model.training.iterations} epochs\n` +
      (v
        ? `  validation ${v.from}..${v.to} (n=${v.n}): Brier ${v.brier?.toFixed(4)} vs base rate ${v.brierBaseRate?.toFixed(4)}, sign hit rate ${v.hitRate?.toFixed(3)}, p10–p90 coverage ${v.coverage80?.toFixed(3)}\n`
        : '  no validation period\n'),
  );
  return 0;
}

runCliProcess('train', USAGE, parse, main);
