import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type pino from 'pino';
import { ENTITY_CODE_PATTERN } from '@resemble/contracts';
import { openStore, type Store } from '../store/index.js';
import type { RejectReason } from '../store/index.js';
import { createProgress, type Progress } from '../progress.js';
import { describeColumns, mapColumns, type ColumnIndex } from './columns.js';
import { csvBatches, detectKind, ImportError, type FileKind, type RecordBatch } from './sources.js';
import { xlsxBatches } from './xlsx-source.js';
import { parseDate, parseNumber, toText } from './values.js';
import { TickerGrouper } from './grouper.js';
import { parallelCsvBatches } from './parallel.js';

export type ImportRejectReason = RejectReason | 'invalid_code';

export interface ImportOptions {
  dataDir: string;
  market?: string;
  currency?: string;
  logger: pino.Logger;
  /** Show a progress bar / progress logs (default true). */
  progress?: boolean;
  /** Parse CSV on a worker thread; default: for files of 4 MiB or more. */
  parallel?: boolean;
  /** Progress as a bar even when stderr is not a TTY (tests). */
  tty?: boolean;
  now?: Date;
}

export interface ImportSummary {
  file: string;
  kind: FileKind;
  entities: number;
  entitiesChanged: number;
  rowsRead: number;
  rowsAdded: number;
  rowsUpdated: number;
  rowsUnchanged: number;
  rowsRejected: number;
  rejectedByReason: Partial<Record<ImportRejectReason, number>>;
  /** The first rejected rows (up to 50), to show the user what was wrong. */
  rejectedSamples: { ticker: string; date: string; reason: ImportRejectReason; detail: string }[];
  dataVersionBefore: string;
  dataVersionAfter: string;
  durationMs: number;
}

const MAX_SAMPLES = 50;
/** Entities are published in batches: a catalog commit costs several fsyncs, a batch shares them. */
const BATCH_ENTITIES = 100;
const BATCH_ROWS = 500_000;
/** Files from this size on are parsed on a worker thread (its start-up costs more than small files take). */
const PARALLEL_MIN_BYTES = 4 << 20;

/**
 * Imports one CSV / CSV.gz / XLSX file into the store. Rows are grouped by ticker and each ticker is
 * written as one entity publish. Files grouped by ticker (the usual layout) stream with one ticker in
 * memory; if a ticker shows up again later, the rest of the file is buffered and flushed in bulk.
 */
export async function importFile(path: string, opts: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const kind = detectKind(path);
  const store = openStore(opts.dataDir);
  try {
    return await runImport(store, path, kind, opts, started);
  } finally {
    store.close();
  }
}

async function runImport(
  store: Store,
  path: string,
  kind: FileKind,
  opts: ImportOptions,
  started: number,
): Promise<ImportSummary> {
  const log = opts.logger.child({ module: 'import', file: basename(path) });
  const summary: ImportSummary = {
    file: path,
    kind,
    entities: 0,
    entitiesChanged: 0,
    rowsRead: 0,
    rowsAdded: 0,
    rowsUpdated: 0,
    rowsUnchanged: 0,
    rowsRejected: 0,
    rejectedByReason: {},
    rejectedSamples: [],
    dataVersionBefore: store.dataVersion(),
    dataVersionAfter: '',
    durationMs: 0,
  };
  const reject = (ticker: string, date: string, reason: ImportRejectReason, detail: string): void => {
    summary.rowsRejected++;
    summary.rejectedByReason[reason] = (summary.rejectedByReason[reason] ?? 0) + 1;
    if (summary.rejectedSamples.length < MAX_SAMPLES)
      summary.rejectedSamples.push({ ticker, date, reason, detail });
  };

  const size = statSync(path).size;
  let progress: Progress | null = null;
  let doneUnits = 0;
  if (opts.progress !== false) {
    progress =
      kind === 'xlsx'
        ? createProgress({ label: 'import', total: 0, unit: 'rows', logger: log, tty: opts.tty })
        : createProgress({
            label: 'import',
            total: Math.ceil(size / 1024),
            unit: 'KiB',
            logger: log,
            tty: opts.tty,
          });
  }
  const onUnits = (n: number): void => {
    doneUnits += kind === 'xlsx' ? n : n / 1024;
    progress?.update(Math.floor(doneUnits), { detail: `${summary.rowsRead} rows` });
  };

  const batch = store.batch();
  let stagedRows = 0;
  const names = new Map<string, string>();
  const entities = new Set<string>();
  const grouper = new TickerGrouper(
    (ticker, rows) => {
      const res = batch.add(
        { code: ticker, market: opts.market, currency: opts.currency, name: names.get(ticker) },
        rows,
        { mode: 'merge', now: opts.now },
      );
      for (const r of res.rejected) reject(ticker, r.date, r.reason, r.detail);
      if (res.rowCount > 0) entities.add(ticker);
      if (res.changed) summary.entitiesChanged++;
      summary.rowsAdded += res.rowsAdded;
      summary.rowsUpdated += res.rowsUpdated;
      summary.rowsUnchanged += res.rowsUnchanged;
      stagedRows += res.changed ? res.rowCount : 0;
      return res;
    },
    (ticker, date) => reject(ticker, date, 'duplicate_date', `date ${date} appears more than once`),
    (ticker) => log.info({ ticker }, 'file is not grouped by ticker; buffering rows per ticker'),
  );
  const commitIfFull = async (): Promise<void> => {
    if (batch.size >= BATCH_ENTITIES || stagedRows >= BATCH_ROWS) {
      await batch.commitAsync();
      stagedRows = 0;
    }
  };
  /** Checks a ticker once per run of rows; false means the run's rows are rejected. */
  let lastTicker: string | null = null;
  let lastTickerOk = false;
  const useTicker = (ticker: string, name: string): boolean => {
    if (ticker === lastTicker) return lastTickerOk;
    lastTicker = ticker;
    lastTickerOk = ENTITY_CODE_PATTERN.test(ticker);
    if (lastTickerOk) {
      grouper.switchTo(ticker);
      if (name !== '' && !names.has(ticker)) names.set(ticker, name);
    }
    return lastTickerOk;
  };
  const rejectCode = (ticker: string, date: string): void =>
    reject(
      ticker,
      date,
      'invalid_code',
      `invalid ticker ${JSON.stringify(ticker)}: must match ${ENTITY_CODE_PATTERN.source}`,
    );

  try {
    if (kind !== 'xlsx' && (opts.parallel ?? size >= PARALLEL_MIN_BYTES)) {
      for await (const b of parallelCsvBatches(path, kind === 'csv.gz', onUnits)) {
        let row = 0;
        for (let s = 0; s < b.tickers.length; s++) {
          const ticker = b.tickers[s];
          const end = row + b.counts[s];
          summary.rowsRead += b.counts[s];
          if (!useTicker(ticker, b.names[s])) {
            for (; row < end; row++) rejectCode(ticker, b.dates[row]);
            continue;
          }
          const nums = b.nums;
          for (; row < end; row++) {
            const o = row * 5;
            grouper.push({
              date: b.dates[row],
              open: nums[o],
              high: nums[o + 1],
              low: nums[o + 2],
              close: nums[o + 3],
              volume: nums[o + 4],
            });
          }
        }
        await commitIfFull();
      }
    } else {
      let index: ColumnIndex | null = null;
      const batches: AsyncGenerator<RecordBatch> =
        kind === 'xlsx' ? xlsxBatches(path, onUnits) : csvBatches(path, kind === 'csv.gz', onUnits);
      for await (const records of batches) {
        let start = 0;
        if (!index) {
          const mapped = mapColumns(records[0]);
          if ('missing' in mapped) {
            throw new ImportError(
              `${path}: missing required column(s) ${mapped.missing.join(', ')} in the header row; expected columns ${describeColumns()} (case-insensitive)`,
            );
          }
          index = mapped.index;
          start = 1;
        }
        const { ticker: ti, date: di, open: oi, high: hi, low: li, close: ci, volume: vi, name: ni } = index;
        for (let i = start; i < records.length; i++) {
          const rec = records[i];
          summary.rowsRead++;
          const rawTicker = rec[ti];
          const ticker = typeof rawTicker === 'string' ? rawTicker : toText(rawTicker);
          if (!useTicker(ticker, ni >= 0 ? toText(rec[ni]) : '')) {
            rejectCode(ticker, parseDate(rec[di]));
            continue;
          }
          grouper.push({
            date: parseDate(rec[di]),
            open: parseNumber(rec[oi]),
            high: parseNumber(rec[hi]),
            low: parseNumber(rec[li]),
            close: parseNumber(rec[ci]),
            volume: parseNumber(rec[vi]),
          });
        }
        await commitIfFull();
      }
      if (!index) throw new ImportError(`${path}: no header row found (the file has no records)`);
    }
    grouper.finish();
    await batch.commitAsync();
  } finally {
    // Staged but uncommitted temp files of a failed import are dropped; committed batches stay.
    batch.abort();
  }
  summary.entities = entities.size;
  progress?.update(Math.ceil(doneUnits), {
    detail: `${summary.rowsRead} rows, ${summary.entities} entities`,
  });
  progress?.stop();

  summary.dataVersionAfter = store.dataVersion();
  summary.durationMs = Math.round(performance.now() - started);
  log.info(
    {
      entities: summary.entities,
      entitiesChanged: summary.entitiesChanged,
      rowsAdded: summary.rowsAdded,
      rowsRejected: summary.rowsRejected,
      durationMs: summary.durationMs,
    },
    'import finished',
  );
  return summary;
}
