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
import { z } from 'zod';
import { int, intList, isoDate, parseCliArgs, runCliProcess } from './cli-args.js';
import { loadMarketData } from '../market/market-data.js';
import { ANALOGUE_VERSION } from '../predictors/analogue.predictor.js';
import { writeFileAtomic } from '../predictors/atomic-write.js';
import { CALIBRATOR_KIND, calibratorFileName, type CalibratorFile } from '../predictors/calibrator.js';
import { seriesSource } from '../predictors/market-series.js';
import { DEFAULT_MODELS_DIR, REPO_ROOT, resolveCliPath } from '../predictors/paths.js';
import { createPredictorRegistry } from '../predictors/registry.js';
import {
  chooseMethods,
  COVERAGE_GOAL,
  ECE_GOAL,
  GRID_HORIZONS,
  GRID_LENGTHS,
  MIN_TEST_N,
  scoreGridCell,
  validateCell,
  type GridCell,
} from '../backtest/grid.js';
import { VOL_WINDOW } from '../predictors/volatility.js';
import { walkForward, type PredictionRecord } from '../backtest/walk-forward.js';

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
  --calibrators DIR        write one calibrator per cell there (e.g. ml-service/models)
  --records DIR            keep each cell's walk-forward records there and reuse them when the data, the
                           predictor and every sampling setting match (re-scoring without re-searching)`;

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
  records: z.string().min(1).optional(),
});

function parse(argv: string[]) {
  const parsed = parseCliArgs(argsSchema, argv);
  if (!parsed) return null;
  if (!(parsed.from < parsed.split && parsed.split <= parsed.to))
    throw new Error('--split must lie after --from and not after --to');
  return parsed;
}

const cacheSchema = z.object({
  key: z.unknown(),
  queries: z.number(),
  seconds: z.number(),
  records: z.array(z.custom<PredictionRecord>((r) => typeof r === 'object' && r !== null && 'vol' in r)),
});

/** A records file of an earlier run; null when unreadable or of an older shape (then the walk is redone). */
function readCache(path: string) {
  try {
    const parsed = cacheSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function calibratorOf(
  cell: GridCell,
  store: { dataVersion: string; markets: string[] },
  createdAt: string,
): CalibratorFile {
  const finite = Number.isFinite(cell.conformal.q80) && Number.isFinite(cell.conformal.q50);
  return {
    kind: CALIBRATOR_KIND,
    format: 1,
    version: `analogue-L${cell.length}-h${cell.horizon}-${cell.dataset}-fit${cell.fit.from}..${cell.fit.to}`,
    createdAt,
    predictor: 'analogue',
    predictorVersion: ANALOGUE_VERSION,
    horizon: cell.horizon,
    method: cell.methods.pUp,
    fittedOn: {
      from: cell.fit.from,
      to: cell.fit.to,
      n: cell.fit.n,
      dataVersion: store.dataVersion,
      dataset: cell.dataset,
      markets: store.markets,
    },
    x: cell.pUpMap.x,
    y: cell.pUpMap.y,
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
    // An ACI state may end at α ≤ 0 (an offset of +∞, a band that says nothing): then no bands are served.
    ...(finite
      ? {
          conformal: {
            q80: cell.conformal.q80,
            q50: cell.conformal.q50,
            n: cell.fit.n,
            method: cell.conformal.method,
            normalised: cell.conformal.normalised,
            ...(cell.conformal.normalised ? { volWindow: VOL_WINDOW } : {}),
          },
        }
      : {}),
    goals: {
      pUp: cell.goals.pUp,
      bands: cell.goals.bands && finite,
      n: cell.n,
      eceCalibrated: cell.eceCalibrated,
      coverage80Conformal: cell.coverage80Conformal,
    },
  };
}

type Args = NonNullable<ReturnType<typeof parse>>;

async function main(args: Args): Promise<number> {
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
  const markets = [...new Set(data.markets)].sort();
  const cells: GridCell[] = [];
  const skipped: string[] = [];
  let queries = 0;
  let reused = 0;
  let searchSeconds = 0;
  const walks: { length: number; horizon: number; records: PredictionRecord[] }[] = [];
  for (const length of args.lengths) {
    for (const horizon of args.horizons) {
      const t0 = Date.now();
      const key = {
        dataset: args.dataset,
        dataVersion: data.dataVersion,
        predictorVersion: ANALOGUE_VERSION,
        from: args.from,
        to: args.to,
        step: args.step,
        perDate: args['per-date'],
        seed: args.seed,
        length,
        horizon,
      };
      const cachePath = args.records
        ? join(resolveCliPath(args.records), `${args.dataset}-L${length}-h${horizon}.json`)
        : null;
      const cached = cachePath && existsSync(cachePath) ? readCache(cachePath) : null;
      const reuse = cached !== null && JSON.stringify(cached.key) === JSON.stringify(key);
      const result = reuse
        ? cached
        : walkForward(source, (model, query, h, options) => registry.predict(model, query, h, options), {
            from: args.from,
            to: args.to,
            step: args.step,
            entitiesPerDate: args['per-date'],
            length,
            horizon,
            models: ['analogue'],
            seed: args.seed,
          });
      const seconds = reuse ? cached.seconds : (Date.now() - t0) / 1000;
      if (cachePath && !reuse) {
        mkdirSync(resolveCliPath(args.records!), { recursive: true });
        writeFileAtomic(
          cachePath,
          JSON.stringify({ key, queries: result.queries, seconds, records: result.records }),
        );
      }
      if (reuse) reused++;
      queries += result.queries;
      searchSeconds += seconds;
      walks.push({ length, horizon, records: result.records });
      process.stderr.write(
        `L=${length} h=${horizon}: ${result.queries} queries in ${seconds.toFixed(0)} s${reuse ? ' (records reused)' : ''}\n`,
      );
    }
  }
  // One method per part for the whole run, chosen on the earlier period's validation parts only.
  const methods = chooseMethods(walks.map((w) => validateCell(w.records, args.split, w.horizon)));
  process.stderr.write(`methods chosen on the fit period: bands ${methods.bands}, pUp ${methods.pUp}\n`);
  for (const w of walks) {
    const cell = scoreGridCell(args.dataset, w.length, w.horizon, w.records, args.split, methods);
    if (!cell) skipped.push(`L${w.length} h${w.horizon}: too few forecasts before the split`);
    else cells.push(cell);
    process.stderr.write(
      `L=${w.length} h=${w.horizon}` +
        (cell
          ? ` | n=${cell.n} ece ${cell.ece?.toFixed(3)} -> ${cell.eceCalibrated?.toFixed(3)}, cover80 ${cell.coverage80?.toFixed(3)} -> ${cell.coverage80Conformal?.toFixed(3)}${cell.calibrated ? ' calibrated' : ` NOT calibrated (${cell.missed})`}\n`
          : ' | skipped\n'),
    );
  }
  const calibratorFiles: string[] = [];
  if (args.calibrators) {
    const dir = resolveCliPath(args.calibrators);
    mkdirSync(dir, { recursive: true });
    for (const cell of cells) {
      const path = join(dir, calibratorFileName('analogue', cell.horizon, cell.length));
      writeFileAtomic(
        path,
        `${JSON.stringify(calibratorOf(cell, { dataVersion: data.dataVersion, markets }, createdAt), null, 1)}\n`,
      );
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
    markets,
    methods,
    queries,
    /** Wall time of this command, and of the walk-forward searches (from the records file when reused). */
    seconds: (Date.now() - started) / 1000,
    searchSeconds,
    reusedRecords: reused,
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
  // The goals travel with the cells, so a reader (the track-record page) never re-derives them.
  const gridGoals = { minTestN: MIN_TEST_N, ece: ECE_GOAL, coverage80: COVERAGE_GOAL };
  writeFileAtomic(reportPath, `${JSON.stringify({ ...report, gridGoals, gridRuns: runs, grid }, null, 1)}\n`);
  process.stdout.write(
    `${queries} queries, ${cells.length} cells (${cells.filter((c) => c.calibrated).length} calibrated) in ${run.seconds.toFixed(0)} s\nwrote ${reportPath}\n`,
  );
  return 0;
}

runCliProcess('grid backtest', USAGE, parse, main);
