/**
 * `npm run backtest -w ml-service -- [options]`: the honest backtest. Walk-forward over sampled dates and
 * stocks (walk-forward.ts), scores per predictor against the base rate (score.ts), isotonic recalibration
 * fitted early and judged late, then report.json + predictions.csv + index.html in --out and one
 * calibrator file per predictor that the service can load from MODELS_DIR.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { isoDate, int, parseCliArgs, runCliProcess } from './cli-args.js';
import { loadMarketData } from '../market/market-data.js';
import { writeFileAtomic } from '../predictors/atomic-write.js';
import { CALIBRATOR_KIND, calibratorFileName, type CalibratorFile } from '../predictors/calibrator.js';
import { seriesSource } from '../predictors/market-series.js';
import { DEFAULT_DATA_DIR, DEFAULT_MODELS_DIR, REPO_ROOT, resolveCliPath } from '../predictors/paths.js';
import { createPredictorRegistry, MODEL_IDS, type ModelId } from '../predictors/registry.js';
import { createProgressBar } from '../backtest/progress.js';
import { renderReportHtml } from '../backtest/report-html.js';
import { summarizeModel, type ModelSummary } from '../backtest/score.js';
import {
  evaluationDates,
  tradingCalendar,
  walkForward,
  type PredictionRecord,
} from '../backtest/walk-forward.js';

const USAGE = `usage: npm run backtest -w ml-service -- [options]
  --data DIR               store (default $DATA_DIR or <repo>/data)
  --model M[,M...]         predictors: analogue, baseline, brainjs (default all three)
  --from / --to DATE       evaluation period (default: whole store)
  --step N                 trading days between evaluation dates (default 21)
  --per-date N             stocks sampled per evaluation date (default 5)
  --length L               query length in rows (default 60)
  --horizon N              forward rows (default 20; brainjs needs its model's horizon)
  --split DATE             calibration split: fit before, judge from (default: middle evaluation date)
  --out DIR                report directory (default <repo>/docs/backtest)
  --calibrators DIR        where calibrator files go (default <out>/calibrators)
  --models-dir DIR         brainjs models (default $MODELS_DIR or <repo>/ml-service/models)
  --seed N                 sampling seed (default 7)
  --description TEXT       what the data is, for the report header`;

const argsSchema = z.object({
  data: z
    .string()
    .min(1)
    .default(process.env.DATA_DIR ?? DEFAULT_DATA_DIR),
  model: z
    .string()
    .default(MODEL_IDS.join(','))
    .transform((s) => s.split(',').map((m) => m.trim()))
    .pipe(z.array(z.enum(['analogue', 'baseline', 'brainjs'])).min(1)),
  from: isoDate.default('0000-01-01'),
  to: isoDate.default('9999-12-31'),
  step: int(1, 10_000).default(21),
  'per-date': int(1, 100_000).default(5),
  length: int(8, 500).default(60),
  horizon: int(1, 250).default(20),
  split: isoDate.optional(),
  out: z.string().min(1).default(resolve(REPO_ROOT, 'docs/backtest')),
  calibrators: z.string().min(1).optional(),
  'models-dir': z
    .string()
    .min(1)
    .default(process.env.MODELS_DIR ?? DEFAULT_MODELS_DIR),
  seed: int(0, 2 ** 31).default(7),
  description: z.string().default(''),
});

const parse = (argv: string[]) => parseCliArgs(argsSchema, argv);

function toCsv(records: PredictionRecord[]): string {
  const head = 'date,code,model,modelVersion,pUp,p10,p50,p90,actual,outcomeDate,baseRateUp';
  const rows = records.map((r) =>
    [
      r.date,
      r.code,
      r.model,
      r.modelVersion,
      r.pUp,
      r.p10,
      r.p50,
      r.p90,
      r.actual,
      r.outcomeDate,
      r.baseRateUp,
    ]
      .map((v) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v))
      .join(','),
  );
  return `${head}\n${rows.join('\n')}\n`;
}

function calibratorFile(
  summary: ModelSummary,
  horizon: number,
  store: { dataVersion: string; markets: string[] },
  createdAt: string,
): CalibratorFile | null {
  const c = summary.calibration;
  if (!c || summary.versions.length !== 1) return null;
  const predictorVersion = summary.versions[0]!;
  return {
    kind: CALIBRATOR_KIND,
    format: 1,
    version: `isotonic-${summary.model}-h${horizon}-fit${c.fit.from}..${c.fit.to}`,
    createdAt,
    predictor: summary.model,
    predictorVersion,
    horizon,
    method: 'isotonic',
    fittedOn: { from: c.fit.from, to: c.fit.to, n: c.fit.n, ...store },
    x: c.isotonic.x,
    y: c.isotonic.y,
    metrics: {
      fit: {
        n: c.fit.n,
        brierBefore: c.fitBefore.brier,
        brierAfter: c.fitAfter.brier,
        eceBefore: c.fitBefore.ece,
        eceAfter: c.fitAfter.ece,
      },
      test: {
        n: c.test.n,
        brierBefore: c.before.brier,
        brierAfter: c.after.brier,
        eceBefore: c.before.ece,
        eceAfter: c.after.ece,
      },
    },
  };
}

type Args = NonNullable<ReturnType<typeof parse>>;

async function main(args: Args): Promise<number> {
  const started = Date.now();
  const out = resolveCliPath(args.out);
  const calibratorsDir = args.calibrators ? resolveCliPath(args.calibrators) : join(out, 'calibrators');
  process.stderr.write(`loading ${resolveCliPath(args.data)} ...\n`);
  const data = loadMarketData(resolveCliPath(args.data));
  const source = seriesSource(data);
  const registry = createPredictorRegistry({
    getData: () => data,
    modelsDir: resolveCliPath(args['models-dir']),
    watch: false,
  });
  for (const info of registry.list()) {
    if (args.model.includes(info.id) && !info.available)
      process.stderr.write(`warning: ${info.id} unavailable: ${info.reason}\n`);
  }
  const calendar = tradingCalendar(source, args.from, args.to);
  const dates = evaluationDates(calendar, args.step);
  if (dates.length === 0) throw new RangeError(`no trading dates in ${args.from}..${args.to}`);
  const split = args.split ?? dates[Math.floor(dates.length / 2)]!;
  const bar = createProgressBar('backtest', dates.length, 'dates');
  const result = walkForward(
    source,
    (model, query, horizon, options) => registry.predict(model, query, horizon, options),
    {
      from: args.from,
      to: args.to,
      step: args.step,
      entitiesPerDate: args['per-date'],
      length: args.length,
      horizon: args.horizon,
      models: args.model as ModelId[],
      seed: args.seed,
    },
    (done, total) => bar.update(done, `of ${total}`),
  );
  bar.stop();
  const summaries = args.model.map((m) =>
    summarizeModel(
      m,
      result.records.filter((r) => r.model === m),
      split,
    ),
  );
  const createdAt = new Date().toISOString();
  mkdirSync(out, { recursive: true });
  mkdirSync(calibratorsDir, { recursive: true });
  const calibratorFiles: string[] = [];
  const calibratorNotes: string[] = [];
  for (const s of summaries) {
    const store = { dataVersion: data.dataVersion, markets: [...new Set(data.markets)].sort() };
    const file = calibratorFile(s, args.horizon, store, createdAt);
    if (!file) {
      calibratorNotes.push(`${s.model}: too few records before the split to fit a calibrator`);
      continue;
    }
    // A calibrator that does not improve the held-out Brier score would only add noise: keep it out of
    // the service and say so.
    const test = file.metrics.test!;
    if (test.brierBefore === null || test.brierAfter === null || test.brierAfter >= test.brierBefore) {
      calibratorNotes.push(
        `${s.model}: not written — isotonic recalibration did not improve the held-out Brier score (${test.brierBefore?.toFixed(4)} → ${test.brierAfter?.toFixed(4)})`,
      );
      continue;
    }
    calibratorNotes.push(
      `${s.model}: written — held-out Brier ${test.brierBefore.toFixed(4)} → ${test.brierAfter.toFixed(4)}, ECE ${test.eceBefore?.toFixed(3)} → ${test.eceAfter?.toFixed(3)}`,
    );
    const path = join(calibratorsDir, calibratorFileName(s.model, args.horizon));
    writeFileAtomic(path, `${JSON.stringify(file, null, 1)}\n`);
    calibratorFiles.push(path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length + 1) : path);
  }
  const seconds = (Date.now() - started) / 1000;
  const quote = (a: string) => (/^[\w./:=,@+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  const command = `npm run backtest -w ml-service -- ${process.argv.slice(2).map(quote).join(' ')}`;
  const settings = {
    from: dates[0]!,
    to: dates[dates.length - 1]!,
    step: args.step,
    perDate: args['per-date'],
    length: args.length,
    horizon: args.horizon,
    split,
    seed: args.seed,
    models: args.model.join(','),
  };
  const report = {
    generatedAt: createdAt,
    command,
    dataVersion: data.dataVersion,
    dataDescription: args.description,
    settings,
    evaluationDates: result.evaluationDates,
    queries: result.queries,
    seconds,
    skipped: result.skipped,
    calibratorFiles,
    calibratorNotes,
    summaries,
  };
  // The calibration grid (backtest:grid) lives in the same report: keep it when this run rewrites the rest.
  const previous = existsSync(join(out, 'report.json'))
    ? (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<string, unknown>)
    : {};
  const kept = 'grid' in previous ? { gridRuns: previous.gridRuns, grid: previous.grid } : {};
  writeFileAtomic(join(out, 'report.json'), `${JSON.stringify({ ...report, ...kept }, null, 1)}\n`);
  writeFileAtomic(join(out, 'predictions.csv'), toCsv(result.records));
  writeFileAtomic(
    join(out, 'index.html'),
    renderReportHtml({
      title: 'Resemble — walk-forward backtest',
      ...report,
      summaries,
      dataDescription: args.description || data.dataDir,
    }),
  );
  const line = (s: ModelSummary) =>
    `  ${s.model.padEnd(9)} n=${s.all.n} hit=${s.all.hitRate?.toFixed(3)} brier=${s.all.brier?.toFixed(4)} (base rate ${s.all.brierBaseRate?.toFixed(4)}) ` +
    `ece=${s.all.ece?.toFixed(3)} cover80=${s.all.coverage80?.toFixed(3)}` +
    (s.calibration
      ? ` | test ece ${s.calibration.before.ece?.toFixed(3)} -> ${s.calibration.after.ece?.toFixed(3)}, brier ${s.calibration.before.brier?.toFixed(4)} -> ${s.calibration.after.brier?.toFixed(4)}`
      : '');
  process.stdout.write(
    `${result.queries} queries on ${result.evaluationDates} dates in ${seconds.toFixed(0)} s\n${summaries.map(line).join('\n')}\nwrote ${out}\n`,
  );
  return 0;
}

runCliProcess('backtest', USAGE, parse, main);
