import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type pino from 'pino';
import { ENTITY_CODE_PATTERN } from '@resemble/contracts';
import { openStore, type Store } from '../store/index.js';
import type { RejectReason, RowInput } from '../store/index.js';
import { createProgress, type Progress } from '../progress.js';
import { describeColumns, mapColumns, type ColumnIndex } from './columns.js';
import {
  csvBatches,
  detectKind,
  ImportError,
  xlsxBatches,
  type FileKind,
  type RecordBatch,
} from './sources.js';
import { toIsoDate, toNumber, toText } from './values.js';

export type ImportRejectReason = RejectReason | 'invalid_code';

export interface ImportOptions {
  dataDir: string;
  market?: string;
  currency?: string;
  logger: pino.Logger;
  /** Show a progress bar / progress logs (default true). */
  progress?: boolean;
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
/** Above this many buffered rows of an ungrouped file, flush every entity to bound memory. */
const UNGROUPED_FLUSH_ROWS = 1_000_000;

/** Entities are published in batches: a catalog commit costs several fsyncs, a batch shares them. */
const BATCH_ENTITIES = 100;
const BATCH_ROWS = 500_000;

/** Compact per-ticker record of the dates already imported from this file (for cross-chunk duplicates). */
function dayKey(iso: string): number {
  // Char-code arithmetic on the already validated YYYY-MM-DD: the key only has to be unique per date.
  let k = 0;
  for (let i = 0; i < 10; i++) if (i !== 4 && i !== 7) k = k * 10 + (iso.charCodeAt(i) - 48);
  return k;
}

/** Hot path for plain numeric text; everything else goes through toNumber. */
function num(v: unknown): number {
  if (typeof v === 'string' && v !== '') {
    const n = +v;
    if (n === n) return n;
  }
  return toNumber(v);
}

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
    progress?.update(Math.floor(doneUnits), { entities: summary.entities, rows: summary.rowsRead });
  };

  const batch = store.batch();
  let index: ColumnIndex | null = null;
  let lastLineLogged = false;
  let stagedRows = 0;
  const seenDates = new Map<string, Int32Array>();
  const names = new Map<string, string>();
  let grouped = true;
  let currentTicker = '';
  let currentRows: RowInput[] = [];
  const buffered = new Map<string, RowInput[]>();
  let bufferedCount = 0;

  const flush = (ticker: string, rows: RowInput[]): void => {
    if (rows.length === 0) return;
    const previous = seenDates.get(ticker);
    let toWrite = rows;
    if (previous) {
      // The ticker appeared earlier in this file: a date written then is a duplicate now.
      const earlier = new Set(previous);
      toWrite = [];
      for (const r of rows) {
        if (earlier.has(dayKey(r.date)))
          reject(ticker, r.date, 'duplicate_date', `date ${r.date} appears more than once`);
        else toWrite.push(r);
      }
    }
    const res = batch.add(
      { code: ticker, market: opts.market, currency: opts.currency, name: names.get(ticker) },
      toWrite,
      { mode: 'merge', now: opts.now },
    );
    stagedRows += res.changed ? res.rowCount : 0;
    if (batch.size >= BATCH_ENTITIES || stagedRows >= BATCH_ROWS) {
      batch.commit();
      stagedRows = 0;
    }
    for (const r of res.rejected) reject(ticker, r.date, r.reason, r.detail);
    const goodDates = toWrite.length - res.rejected.length;
    if (goodDates > 0 || previous) {
      const keys = new Int32Array((previous?.length ?? 0) + toWrite.length);
      let k = 0;
      if (previous) for (const d of previous) keys[k++] = d;
      for (const r of toWrite) keys[k++] = dayKey(r.date);
      seenDates.set(ticker, keys.subarray(0, k));
      if (!previous) summary.entities++;
    }
    if (res.changed) summary.entitiesChanged++;
    summary.rowsAdded += res.rowsAdded;
    summary.rowsUpdated += res.rowsUpdated;
    summary.rowsUnchanged += res.rowsUnchanged;
  };
  const flushBuffered = (): void => {
    for (const [t, rows] of buffered) flush(t, rows);
    buffered.clear();
    bufferedCount = 0;
  };

  try {
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
        if (ticker !== currentTicker) {
          if (!ENTITY_CODE_PATTERN.test(ticker)) {
            reject(
              ticker,
              toIsoDate(rec[di]),
              'invalid_code',
              `invalid ticker ${JSON.stringify(ticker)}: must match ${ENTITY_CODE_PATTERN.source}`,
            );
            continue;
          }
          if (grouped) {
            flush(currentTicker, currentRows);
            if (seenDates.has(ticker)) {
              grouped = false;
              if (!lastLineLogged)
                log.info({ ticker }, 'file is not grouped by ticker; buffering rows per ticker');
              lastLineLogged = true;
            }
            currentRows = [];
          }
          currentTicker = ticker;
          if (!grouped) {
            let rows = buffered.get(ticker);
            if (!rows) buffered.set(ticker, (rows = []));
            currentRows = rows;
          }
          if (ni >= 0 && !names.has(ticker)) {
            const name = toText(rec[ni]);
            if (name !== '') names.set(ticker, name);
          }
        }
        const d = rec[di];
        currentRows.push({
          date: typeof d === 'string' && d.length === 10 && d.charCodeAt(4) === 45 ? d : toIsoDate(d),
          open: num(rec[oi]),
          high: num(rec[hi]),
          low: num(rec[li]),
          close: num(rec[ci]),
          volume: num(rec[vi]),
        });
        if (!grouped && ++bufferedCount >= UNGROUPED_FLUSH_ROWS) {
          flushBuffered();
          currentRows = [];
          buffered.set(currentTicker, currentRows);
        }
      }
    }
    if (!index) throw new ImportError(`${path}: no header row found (the file has no records)`);
    if (grouped) flush(currentTicker, currentRows);
    else flushBuffered();
    batch.commit();
  } finally {
    // Staged but uncommitted temp files of a failed import are dropped; committed batches stay.
    batch.abort();
  }
  progress?.update(Math.ceil(doneUnits), { entities: summary.entities, rows: summary.rowsRead });
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
