/**
 * `npm run backtest:grid -w ml-service -- --data DIR --dataset NAME [options]`: the calibration grid
 * (decision 095). For every query length × horizon it runs the walk-forward backtest of the analogue on
 * sampled dates and stocks (the leakage guards of walk-forward.ts), fits an isotonic pUp calibrator and
 * conformal band offsets before --split and scores them from it on (backtest/grid.ts). The cells go into
 * the `grid` array of the report (replacing this dataset's earlier cells), and with --calibrators one
 * calibrator file per cell is written for ml-service to load.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadMarketData, MarketDataError } from './market-data.js';
import { ANALOGUE_VERSION } from './predictors/analogue.predictor.js';
import { writeFileAtomic } from './predictors/atomic-write.js';
import { CALIBRATOR_KIND, calibratorFileName, type CalibratorFile } from './predictors/calibrator.js';
import { seriesSource } from './predictors/market-series.js';
import { DEFAULT_MODELS_DIR, REPO_ROOT, resolveCliPath } from './predictors/paths.js';
import { createPredictorRegistry } from './predictors/registry.js';
import { GRID_HORIZONS, GRID_LENGTHS, scoreGridCell, type GridCell } from './backtest/grid.js';
import { walkForward } from './backtest/walk-forward.js';

const USAGE = `usage: npm run backtest:grid -w ml-service -- --data DIR --dataset NAME [options]
  --data DIR               store to backtest on (import it first with npm run import -w scraper)
  --dataset NAME           name of the data in the report (its earlier grid cells are replaced)
  --source TEXT            what was imported into --data (shown with the command on the track record)
  --description TEXT       what the data is, in words
  --from / --to DATE       evaluation period
  --split DATE             fit calibrators on dates (and outcomes) before it, score from it on
  --step N                 trading days between evaluation dates (default 10)
  --per-date N             stocks sampled per evaluation date (default 2)
  --lengths L,...          query lengths (default ${GRID_LENGTHS.join(',')})
  --horizons H,...         horizons (default ${GRID_HORIZONS.join(',')})
  --seed N                 sampling seed (default 7)
  --report FILE            report to add the grid to (default <repo>/docs/backtest/report.json)
  --calibrators DIR        write one calibrator per cell there (e.g. ml-service/models)`;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const intList = (min: number, max: number) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => Number(x.trim())))
    .pipe(z.array(z.number().int().min(min).max(max)).min(1));

const argsSchema = z.object({
  data: z.string().min(1),
  dataset: z.string().regex(/^[\w.-]{1,60}$/, 'letters, digits, . _ - only'),
  source: z.string().default(''),
  description: z.string().default(''),
  from: isoDate,
  to: isoDate,
  split: isoDate,
  step: int(1, 10_000).default(10),
  'per-date': int(1, 10_000).default(2),
  lengths: intList(8, 500).default([...GRID_LENGTHS]),
  horizons: intList(1, 250).default([...GRID_HORIZONS]),
  seed: int(0, 2 ** 31).default(7),
  report: z.string().min(1).default(resolve(REPO_ROOT, 'docs/backtest/report.json')),
  calibrators: z.string().min(1).optional(),
});

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(
      [...Object.keys(argsSchema.shape), 'help'].map((k) => [
        k,
        { type: k === 'help' ? 'boolean' : 'string' },
      ]),
    ) as Record<string, { type: 'string' | 'boolean' }>,
    allowPositionals: false,
  });
  if (values.help) return null;
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
  if (!(parsed.data.from < parsed.data.split && parsed.data.split <= parsed.data.to))
    throw new Error('--split must lie after --from and not after --to');
  return parsed.data;
}

function calibratorOf(cell: GridCell, dataVersion: string, createdAt: string): CalibratorFile {
  return {
    kind: CALIBRATOR_KIND,
    format: 1,
    version: `analogue-L${cell.length}-h${cell.horizon}-${cell.dataset}-fit${cell.fit.from}..${cell.fit.to}`,
    createdAt,
    predictor: 'analogue',
    predictorVersion: ANALOGUE_VERSION,
    horizon: cell.horizon,
    method: 'isotonic',
    fittedOn: { from: cell.fit.from, to: cell.fit.to, n: cell.fit.n, dataVersion },
    x: cell.isotonic.x,
    y: cell.isotonic.y,
    metrics: {
      fit: { n: cell.fit.n, brierBefore: null, brierAfter: null, eceBefore: null, eceAfter: null },
      test: {
        n: cell.n,
        brierBefore: cell.brier,
        brierAfter: cell.brierCalibrated,
        eceBefore: cell.ece,
        eceAfter: cell.eceCalibrated,
      },
    },
    lengths: cell.lengths,
    conformal: { q80: cell.conformal.q80, q50: cell.conformal.q50, n: cell.fit.n },
    goals: {
      pUp: cell.goals.pUp,
      bands: cell.goals.bands,
      n: cell.n,
      eceCalibrated: cell.eceCalibrated,
      coverage80Conformal: cell.coverage80Conformal,
    },
  };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = Date.now();
  const reportPath = resolveCliPath(args.report);
  process.stderr.write(`loading ${resolveCliPath(args.data)} ...\n`);
  const data = loadMarketData(resolveCliPath(args.data));
  const source = seriesSource(data);
  const registry = createPredictorRegistry({
    getData: () => data,
    modelsDir: DEFAULT_MODELS_DIR,
    watch: false,
  });
  const createdAt = new Date().toISOString();
  const cells: GridCell[] = [];
  const skipped: string[] = [];
  let queries = 0;
  for (const length of args.lengths) {
    for (const horizon of args.horizons) {
      const t0 = Date.now();
      const result = walkForward(
        source,
        (model, query, h, options) => registry.predict(model, query, h, options),
        {
          from: args.from,
          to: args.to,
          step: args.step,
          entitiesPerDate: args['per-date'],
          length,
          horizon,
          models: ['analogue'],
          seed: args.seed,
        },
      );
      queries += result.queries;
      const cell = scoreGridCell(args.dataset, length, horizon, result.records, args.split);
      if (!cell) skipped.push(`L${length} h${horizon}: too few forecasts before the split`);
      else cells.push(cell);
      process.stderr.write(
        `L=${length} h=${horizon}: ${result.queries} queries in ${((Date.now() - t0) / 1000).toFixed(0)} s` +
          (cell
            ? ` | n=${cell.n} ece ${cell.ece?.toFixed(3)} -> ${cell.eceCalibrated?.toFixed(3)}, cover80 ${cell.coverage80?.toFixed(3)} -> ${cell.coverage80Conformal?.toFixed(3)}${cell.calibrated ? ' calibrated' : ` NOT calibrated (${cell.missed})`}\n`
            : ' | skipped\n'),
      );
    }
  }
  const calibratorFiles: string[] = [];
  if (args.calibrators) {
    const dir = resolveCliPath(args.calibrators);
    mkdirSync(dir, { recursive: true });
    for (const cell of cells) {
      const path = join(dir, calibratorFileName('analogue', cell.horizon, cell.length));
      writeFileAtomic(path, `${JSON.stringify(calibratorOf(cell, data.dataVersion, createdAt), null, 1)}\n`);
      calibratorFiles.push(relative(REPO_ROOT, path));
    }
  }
  const quote = (a: string) => (/^[\w./:=,@+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  const run = {
    dataset: args.dataset,
    description: args.description,
    source: args.source,
    command: `npm run backtest:grid -w ml-service -- ${process.argv.slice(2).map(quote).join(' ')}`,
    generatedAt: createdAt,
    dataVersion: data.dataVersion,
    settings: {
      from: args.from,
      to: args.to,
      split: args.split,
      step: args.step,
      perDate: args['per-date'],
      seed: args.seed,
      lengths: args.lengths,
      horizons: args.horizons,
      predictorVersion: ANALOGUE_VERSION,
    },
    queries,
    seconds: (Date.now() - started) / 1000,
    skipped,
    calibratorFiles,
  };
  const report = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as Record<string, unknown>)
    : {};
  const grid = ((report.grid as GridCell[] | undefined) ?? []).filter((c) => c.dataset !== args.dataset);
  grid.push(...cells);
  grid.sort((a, b) =>
    a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : a.length - b.length || a.horizon - b.horizon,
  );
  const runs = ((report.gridRuns as (typeof run)[] | undefined) ?? []).filter(
    (r) => r.dataset !== args.dataset,
  );
  runs.push(run);
  runs.sort((a, b) => (a.dataset < b.dataset ? -1 : 1));
  writeFileAtomic(reportPath, `${JSON.stringify({ ...report, gridRuns: runs, grid }, null, 1)}\n`);
  process.stdout.write(
    `${queries} queries, ${cells.length} cells (${cells.filter((c) => c.calibrated).length} calibrated) in ${run.seconds.toFixed(0)} s\nwrote ${reportPath}\n`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof MarketDataError || error instanceof RangeError;
    process.stderr.write(
      `grid backtest failed: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`,
    );
    process.exitCode = 1;
  },
);
